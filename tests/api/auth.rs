use jsonwebtoken::{encode, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_with, PASSWORD, TEST_KEY};

#[tokio::test]
async fn signup_creates_a_tenant_and_signs_the_owner_in() {
    let app = spawn_app().await;
    let t = app.signup("Ann@Example.com", "Ann's Boutique").await;
    assert_eq!(t.tenant_slug, "ann-s-boutique");
    let me = app.get("/api/v1/me", &t.token).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["kind"], "user");
    assert_eq!(me.body["email"], "ann@example.com");
    assert_eq!(me.body["role"], "owner");
    assert_eq!(me.body["tenant"]["id"], t.tenant_id.to_string());
}

#[tokio::test]
async fn a_second_signup_with_the_same_email_is_a_conflict() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "One").await;
    let r = app
        .public_post(
            "/api/v1/auth/signup",
            json!({"email": "ANN@example.com", "password": PASSWORD, "tenant_name": "Two"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.code(), "email_taken");
}

#[tokio::test]
async fn invalid_signups_get_field_messages_and_write_nothing() {
    let app = spawn_app().await;
    let r = app
        .public_post(
            "/api/v1/auth/signup",
            json!({"email": "not-an-email", "password": "short", "tenant_name": ""}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers["content-type"], "application/problem+json");
    assert_eq!(r.code(), "validation_failed");
    for field in ["email", "password", "tenant_name"] {
        assert!(r.body["errors"][field].is_array(), "missing {field}: {}", r.body);
    }
    assert!(r.body["errors"]["password"][0]
        .as_str()
        .unwrap()
        .contains("at least 10"));
    let weak = app
        .public_post(
            "/api/v1/auth/signup",
            json!({"email": "bob@example.com", "password": "bob@example.com", "tenant_name": "B"}),
        )
        .await;
    assert_eq!(weak.code(), "weak_password");
    let login = app
        .public_post(
            "/api/v1/auth/login",
            json!({"email": "bob@example.com", "password": "bob@example.com"}),
        )
        .await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED, "nothing was created");
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused() {
    let app = spawn_app().await;
    let r = app
        .raw_post("/api/v1/auth/signup", "application/json", b"{\"email\": ".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.code(), "malformed_json");
    let missing = app
        .raw_post(
            "/api/v1/auth/signup",
            "application/json",
            b"{\"email\": \"a@b.co\"}".to_vec(),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(missing.code(), "invalid_body");
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(300 * 1024));
    let r = app
        .raw_post("/api/v1/auth/signup", "application/json", big.into_bytes())
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.code(), "payload_too_large");
    let r = app
        .raw_post("/api/v1/auth/signup", "text/plain", b"hello".to_vec())
        .await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Ann").await;
    let wrong = app
        .public_post(
            "/api/v1/auth/login",
            json!({"email": "ann@example.com", "password": "not the password"}),
        )
        .await;
    let unknown = app
        .public_post(
            "/api/v1/auth/login",
            json!({"email": "nobody@example.com", "password": "not the password"}),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.code(), "invalid_credentials");
    assert_eq!(wrong.body["detail"], unknown.body["detail"]);
    assert_eq!(wrong.status, unknown.status);
    let ok = app
        .public_post(
            "/api/v1/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.body["expires_in"], 900);
}

#[tokio::test]
async fn repeated_failed_logins_lock_the_account_for_a_while() {
    let app = spawn_app().await;
    app.signup("ann@example.com", "Ann").await;
    for _ in 0..5 {
        let r = app
            .public_post(
                "/api/v1/auth/login",
                json!({"email": "ann@example.com", "password": "guess guess guess"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let locked = app
        .public_post(
            "/api/v1/auth/login",
            json!({"email": "ann@example.com", "password": PASSWORD}),
        )
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.code(), "login_locked");
    assert!(locked.headers.get("retry-after").is_some());
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_family() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let first = app
        .public_post("/api/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    assert_eq!(first.status, StatusCode::OK);
    let newer = first.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(newer, t.refresh);
    let reused = app
        .public_post("/api/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    assert_eq!(reused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reused.code(), "refresh_token_reused");
    let after = app
        .public_post("/api/v1/auth/refresh", json!({"refresh_token": newer}))
        .await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "the whole family is revoked");
}

#[tokio::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let r = app
        .public_post("/api/v1/auth/logout", json!({"refresh_token": t.refresh}))
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .public_post("/api/v1/auth/refresh", json!({"refresh_token": t.refresh}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "invalid_refresh_token");
}

fn claims(kid: &str, exp_offset: i64, tenant: &str) -> (Header, serde_json::Value) {
    let now = chrono::Utc::now().timestamp();
    let mut header = Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.into());
    let body = json!({"sub": uuid::Uuid::now_v7(), "kind": "user", "tid": tenant, "role": "owner",
        "iss": "livemall", "aud": "livemall-api", "iat": now, "exp": now + exp_offset, "jti": uuid::Uuid::now_v7()});
    (header, body)
}

#[tokio::test]
async fn expired_forged_unsigned_and_foreign_tokens_are_refused() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let tid = t.tenant_id.to_string();

    let (h, c) = claims("test", -3600, &tid);
    let expired = encode(&h, &c, &EncodingKey::from_secret(TEST_KEY.as_bytes())).unwrap();
    let r = app.get("/api/v1/stores", &expired).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "token_expired");

    let (h, c) = claims("test", 600, &tid);
    let forged = encode(
        &h,
        &c,
        &EncodingKey::from_secret(b"another-key-another-key-another-key!!"),
    )
    .unwrap();
    assert_eq!(app.get("/api/v1/stores", &forged).await.code(), "invalid_token");

    let (h, c) = claims("unknown-kid", 600, &tid);
    let wrong_kid = encode(&h, &c, &EncodingKey::from_secret(TEST_KEY.as_bytes())).unwrap();
    assert_eq!(app.get("/api/v1/stores", &wrong_kid).await.code(), "invalid_token");

    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (_, c) = claims("test", 600, &tid);
    let none = format!(
        "{}.{}.",
        b64.encode(br#"{"alg":"none","typ":"JWT","kid":"test"}"#),
        b64.encode(c.to_string())
    );
    assert_eq!(app.get("/api/v1/stores", &none).await.code(), "invalid_token");

    let mut wrong_aud = c.clone();
    wrong_aud["aud"] = json!("someone-else");
    let (h, _) = claims("test", 600, &tid);
    let token = encode(&h, &wrong_aud, &EncodingKey::from_secret(TEST_KEY.as_bytes())).unwrap();
    assert_eq!(app.get("/api/v1/stores", &token).await.code(), "invalid_token");

    let r = app.public_get("/api/v1/stores").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.code(), "missing_credentials");
}

#[tokio::test]
async fn signing_keys_rotate_by_kid() {
    let app = spawn_app().await;
    let old = app.signup("ann@example.com", "Ann").await;
    // A server that signs with a new key and still accepts the old one.
    let rotated = spawn_with(|s| {
        let new = livemall::settings::SigningKey {
            kid: "new".into(),
            secret: "a-brand-new-signing-key-0123456789abcdef".into(),
        };
        s.auth.signing_keys.insert(0, new);
    })
    .await;
    let fresh = rotated.signup("bob@example.com", "Bob").await;
    assert_eq!(
        jsonwebtoken::decode_header(&fresh.token).unwrap().kid.as_deref(),
        Some("new")
    );
    assert_eq!(
        rotated.get("/api/v1/stores", &old.token).await.status,
        StatusCode::OK,
        "old key still verifies"
    );
    assert_eq!(
        app.get("/api/v1/stores", &fresh.token).await.code(),
        "invalid_token",
        "unknown kid"
    );
}

#[tokio::test]
async fn api_keys_are_shown_once_scoped_and_revocable() {
    let app = spawn_app().await;
    let t = app.signup("ann@example.com", "Ann").await;
    let created = app
        .post(
            "/api/v1/api-keys",
            &t.token,
            json!({"name": "stream tool", "scopes": ["stores:read"]}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let secret = created.body["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("lm_"));
    let listed = app.get("/api/v1/api-keys", &t.token).await;
    assert_eq!(listed.body["items"][0]["prefix"], &secret[..10]);
    assert!(listed.body["items"][0].get("secret").is_none(), "never shown again");

    assert_eq!(app.get("/api/v1/stores", &secret).await.status, StatusCode::OK);
    let me = app.get("/api/v1/me", &secret).await;
    assert_eq!(me.body["kind"], "api_key");
    let denied = app
        .post("/api/v1/stores", &secret, json!({"name": "X", "currency": "EUR"}))
        .await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
    assert_eq!(denied.code(), "missing_scope");
    let used = app.get("/api/v1/api-keys", &t.token).await;
    assert!(used.body["items"][0]["last_used_at"].is_string());

    let id = created.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/api-keys/{id}"), &t.token).await.status,
        StatusCode::NO_CONTENT
    );
    let revoked = app.get("/api/v1/stores", &secret).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked.code(), "invalid_api_key");
    let bad_scope = app
        .post(
            "/api/v1/api-keys",
            &t.token,
            json!({"name": "x", "scopes": ["everything"]}),
        )
        .await;
    assert_eq!(bad_scope.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_owner_invites_staff_and_removes_them() {
    let app = spawn_app().await;
    let owner = app.signup("ann@example.com", "Ann").await;
    let inv = app
        .post("/api/v1/invitations", &owner.token, json!({"email": "Sam@Example.com"}))
        .await;
    assert_eq!(inv.status, StatusCode::CREATED);
    let token = inv.body["token"].as_str().unwrap();
    let accepted = app
        .public_post(
            "/api/v1/auth/accept-invitation",
            json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status, StatusCode::CREATED, "{}", accepted.body);
    let staff_token = accepted.body["access_token"].as_str().unwrap().to_string();
    let staff_refresh = accepted.body["refresh_token"].as_str().unwrap().to_string();
    let me = app.get("/api/v1/me", &staff_token).await;
    assert_eq!(me.body["role"], "staff");
    assert_eq!(me.body["tenant"]["id"], owner.tenant_id.to_string());

    // Staff run stores but do not manage people or keys.
    assert_eq!(
        app.post("/api/v1/stores", &staff_token, json!({"name": "S", "currency": "EUR"}))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(
        app.post(
            "/api/v1/api-keys",
            &staff_token,
            json!({"name": "k", "scopes": ["stores:read"]})
        )
        .await
        .code(),
        "owner_only"
    );
    let again = app
        .public_post(
            "/api/v1/auth/accept-invitation",
            json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "an invitation works once");

    let users = app.get("/api/v1/users", &owner.token).await;
    assert_eq!(users.body["items"].as_array().unwrap().len(), 2);
    let staff_id = me.body["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/users/{staff_id}"), &owner.token)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let r = app
        .public_post("/api/v1/auth/refresh", json!({"refresh_token": staff_refresh}))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let owner_self = app
        .delete(&format!("/api/v1/users/{}", owner.user_id), &owner.token)
        .await;
    assert_eq!(owner_self.code(), "cannot_remove_owner");
}

#[tokio::test]
async fn a_platform_admin_signs_in_with_the_same_endpoint() {
    let app = spawn_app().await;
    livemall::admin::create_admin(&app.db, "root@platform.test", PASSWORD.into())
        .await
        .unwrap();
    assert!(
        livemall::admin::create_admin(&app.db, "x@platform.test", "short".into())
            .await
            .is_err()
    );
    let r = app
        .public_post(
            "/api/v1/auth/login",
            json!({"email": "root@platform.test", "password": PASSWORD}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let token = r.body["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/me", token).await;
    assert_eq!(me.body["kind"], "admin");
    let stores = app.get("/api/v1/stores", token).await;
    assert_eq!(stores.code(), "tenant_required");
}
