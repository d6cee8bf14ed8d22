//! Access tokens (JWT, HS256 only, issuer and audience checked, `kid` for
//! rotation) and opaque secrets (refresh tokens, API keys, invitations),
//! which are stored only as SHA-256 hashes.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use jsonwebtoken::{decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;
use crate::settings::{AuthSettings, SigningKey};

/// What an access token says about its bearer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// `user` or `admin`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tid: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    pub jti: Uuid,
}

pub struct JwtKeys {
    signing_kid: String,
    encoding: EncodingKey,
    decoding: HashMap<String, DecodingKey>,
    validation: Validation,
    pub access_seconds: i64,
    issuer: String,
    audience: String,
}

impl JwtKeys {
    /// Keys from settings, or a key generated once and kept under `data_dir`.
    pub fn load(settings: &AuthSettings, data_dir: &Path) -> anyhow::Result<JwtKeys> {
        let keys = if settings.signing_keys.is_empty() {
            vec![local_key(data_dir)?]
        } else {
            settings.signing_keys.clone()
        };
        let first = keys.first().context("no signing key")?;
        for key in &keys {
            anyhow::ensure!(
                key.secret.len() >= 32,
                "signing key {} must be at least 32 bytes",
                key.kid
            );
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Ok(JwtKeys {
            signing_kid: first.kid.clone(),
            encoding: EncodingKey::from_secret(first.secret.as_bytes()),
            decoding: keys
                .iter()
                .map(|k| (k.kid.clone(), DecodingKey::from_secret(k.secret.as_bytes())))
                .collect(),
            validation,
            access_seconds: settings.access_token_seconds,
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
        })
    }

    pub fn issue(&self, sub: Uuid, kind: &str, tenant: Option<Uuid>, role: Option<&str>) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub,
            kind: kind.to_string(),
            tid: tenant,
            role: role.map(str::to_string),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.access_seconds,
            jti: Uuid::now_v7(),
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.signing_kid.clone());
        encode(&header, &claims, &self.encoding).context("signing access token")
    }

    /// Verifies signature, algorithm, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let invalid = || ApiError::unauthorized("invalid_token", "the access token is not valid");
        let header = decode_header(token).map_err(|_| invalid())?;
        let kid = header.kid.ok_or_else(invalid)?;
        let key = self.decoding.get(&kid).ok_or_else(invalid)?;
        decode::<Claims>(token, key, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => {
                    ApiError::unauthorized("token_expired", "the access token has expired")
                }
                _ => invalid(),
            })
    }
}

fn local_key(data_dir: &Path) -> anyhow::Result<SigningKey> {
    let path = data_dir.join("signing.key");
    if let Ok(secret) = std::fs::read_to_string(&path) {
        return Ok(SigningKey {
            kid: "local".into(),
            secret: secret.trim().to_string(),
        });
    }
    std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
    let secret = random_secret(48);
    write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(SigningKey {
        kid: "local".into(),
        secret,
    })
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// `bytes` random bytes, URL-safe base64.
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Secrets are high-entropy, so a fast hash is enough to store them safely.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
