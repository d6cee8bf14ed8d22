//! The catalog: products, variants, stock, collections and their storefront.

mod collections;
mod stock;
mod storefront;
mod validation;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Tenant, TestApp};

/// A signed-up merchant with one store.
pub struct Shop {
    pub app: TestApp,
    pub t: Tenant,
    pub store_id: String,
}

impl Shop {
    pub async fn open() -> Shop {
        let app = spawn_app().await;
        let t = app.signup("ann@example.com", "Ann Shop").await;
        let store = app.create_store(&t.token, "Main", "main").await;
        let store_id = store["id"].as_str().unwrap().to_string();
        Shop { app, t, store_id }
    }

    /// `/api/v1/stores/{store}` followed by `rest`.
    pub fn path(&self, rest: &str) -> String {
        format!("/api/v1/stores/{}{rest}", self.store_id)
    }

    /// `/api/v1/storefront/{tenant}/main` followed by `rest`.
    pub fn front(&self, rest: &str) -> String {
        format!("/api/v1/storefront/{}/main{rest}", self.t.tenant_slug)
    }

    /// Creates a product and returns its view.
    pub async fn product(&self, body: Value) -> Value {
        let r = self.app.post(&self.path("/products"), &self.t.token, body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }
}

/// A product body with one variant per `(sku, price, stock)`.
pub fn product(title: &str, variants: &[(&str, i64, i64)]) -> Value {
    let variants: Vec<Value> = variants
        .iter()
        .map(|(sku, price, stock)| json!({"sku": sku, "title": sku, "price": price, "stock": stock}))
        .collect();
    json!({"title": title, "variants": variants})
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

pub fn titles(items: &[Value]) -> Vec<String> {
    items.iter().map(|p| p["title"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_merchant_runs_a_whole_catalog() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let created = shop
        .product(json!({
            "title": " Linen shirt ",
            "description": "Light and loose.",
            "tags": ["Summer", " summer ", "SHIRTS"],
            "images": ["https://cdn.example.com/shirt.jpg"],
            "variants": [
                {"sku": "SHIRT-S", "title": "Small", "price": 1999, "stock": 5},
                {"sku": "SHIRT-M", "title": "Medium", "price": 2199}
            ]
        }))
        .await;
    assert_eq!(created["title"], "Linen shirt");
    assert_eq!(created["status"], "active");
    assert_eq!(created["tags"], json!(["shirts", "summer"]));
    assert_eq!(created["images"], json!(["https://cdn.example.com/shirt.jpg"]));
    assert_eq!(
        created["variants"][0]["price"],
        json!({"amount": 1999, "currency": "EUR"})
    );
    assert_eq!(created["variants"][0]["stock"], 5);
    assert_eq!(created["variants"][1]["stock"], 0);
    assert_eq!(created["variants"][1]["position"], 1);
    let pid = id(&created);
    let product_path = shop.path(&format!("/products/{pid}"));

    let got = app.get(&product_path, token).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body["variants"].as_array().unwrap().len(), 2);

    let patched = app
        .patch(
            &product_path,
            token,
            json!({"title": "Linen shirt II", "tags": ["linen"], "status": "draft", "images": []}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(patched.body["tags"], json!(["linen"]));
    assert_eq!(patched.body["status"], "draft");
    assert_eq!(patched.body["images"], json!([]));

    let added = app
        .post(
            &format!("{product_path}/variants"),
            token,
            json!({"sku": "SHIRT-L", "price": 2399, "stock": 2}),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.body);
    assert_eq!(added.body["title"], "Default");
    assert_eq!(added.body["position"], 2);
    let large = id(&added.body);
    let repriced = app
        .patch(
            &format!("{product_path}/variants/{large}"),
            token,
            json!({"price": 2499, "title": "Large"}),
        )
        .await;
    assert_eq!(repriced.body["price"]["amount"], 2499);
    assert_eq!(repriced.body["title"], "Large");
    let gone = app.delete(&format!("{product_path}/variants/{large}"), token).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let after = app.get(&product_path, token).await;
    assert_eq!(
        after.body["variants"][2]["archived"], true,
        "archived, still listed for the merchant"
    );

    let small = created["variants"][0]["id"].as_str().unwrap();
    let stock = app
        .post(
            &shop.path(&format!("/variants/{small}/stock")),
            token,
            json!({"delta": -2}),
        )
        .await;
    assert_eq!(stock.status, StatusCode::OK, "{}", stock.body);
    assert_eq!(stock.body["stock"], 3);

    let archived = app.delete(&product_path, token).await;
    assert_eq!(archived.status, StatusCode::NO_CONTENT);
    assert!(app.get(&shop.path("/products"), token).await.items().is_empty());
    let only_archived = app.get(&shop.path("/products?status=archived"), token).await;
    assert_eq!(titles(&only_archived.items()), vec!["Linen shirt II"]);
    let restored = app.patch(&product_path, token, json!({"status": "active"})).await;
    assert_eq!(restored.body["status"], "active");
}

#[tokio::test]
async fn product_lists_filter_by_status_tag_and_collection_and_page_with_a_cursor() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let mut ids = Vec::new();
    for i in 0..5 {
        let mut body = product(&format!("P{i}"), &[(&format!("SKU-{i}"), 100, 1)]);
        body["tags"] = json!(if i % 2 == 0 { vec!["even"] } else { vec!["odd"] });
        if i == 4 {
            body["status"] = json!("draft");
        }
        ids.push(id(&shop.product(body).await));
    }
    let page = app.get(&shop.path("/products?limit=2"), token).await;
    let mut seen = titles(&page.items());
    let mut cursor = page.body["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let next = app
            .get(&shop.path(&format!("/products?limit=2&cursor={c}")), token)
            .await;
        seen.extend(titles(&next.items()));
        cursor = next.body["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, vec!["P0", "P1", "P2", "P3", "P4"]);

    let even = app.get(&shop.path("/products?tag=EVEN"), token).await;
    assert_eq!(titles(&even.items()), vec!["P0", "P2", "P4"]);
    let drafts = app.get(&shop.path("/products?status=draft"), token).await;
    assert_eq!(titles(&drafts.items()), vec!["P4"]);

    let c = app
        .post(&shop.path("/collections"), token, json!({"title": "Picks"}))
        .await;
    let cid = id(&c.body);
    app.put(
        &shop.path(&format!("/collections/{cid}/products")),
        token,
        json!({"product_ids": [ids[3], ids[1]]}),
    )
    .await;
    let picked = app.get(&shop.path(&format!("/products?collection={cid}")), token).await;
    assert_eq!(titles(&picked.items()), vec!["P1", "P3"], "lists keep creation order");
    let odd_picks = app
        .get(&shop.path(&format!("/products?collection={cid}&tag=even")), token)
        .await;
    assert!(odd_picks.items().is_empty());
    let bad = app.get(&shop.path("/products?status=gone"), token).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.code(), "invalid_query");
}

#[tokio::test]
async fn api_keys_need_the_catalog_scopes() {
    let shop = Shop::open().await;
    let app = &shop.app;
    let key = |scopes: Value| {
        let token = shop.t.token.clone();
        async move {
            let r = app
                .post("/api/v1/api-keys", &token, json!({"name": "k", "scopes": scopes}))
                .await;
            r.body["secret"].as_str().unwrap().to_string()
        }
    };
    let reader = key(json!(["catalog:read"])).await;
    let writer = key(json!(["catalog:write"])).await;
    let stores_only = key(json!(["stores:read", "stores:write"])).await;
    let body = product("Mug", &[("MUG", 900, 3)]);

    let refused = app.post(&shop.path("/products"), &reader, body.clone()).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.code(), "missing_scope");
    let made = app.post(&shop.path("/products"), &writer, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let variant = made.body["variants"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(app.get(&shop.path("/products"), &reader).await.items().len(), 1);
    assert_eq!(
        app.get(&shop.path("/products"), &writer).await.code(),
        "missing_scope",
        "write does not imply read for keys"
    );
    assert_eq!(
        app.get(&shop.path("/collections"), &stores_only).await.code(),
        "missing_scope"
    );
    let stock = app
        .post(
            &shop.path(&format!("/variants/{variant}/stock")),
            &reader,
            json!({"set": 1}),
        )
        .await;
    assert_eq!(stock.code(), "missing_scope");
}

#[tokio::test]
async fn every_catalog_endpoint_is_in_the_openapi_document() {
    let app = spawn_app().await;
    let doc = app.public_get("/api/openapi.json").await.body;
    let s = "/api/v1/stores/{store_id}";
    let f = "/api/v1/storefront/{tenant_slug}/{store_slug}";
    let expected = [
        (format!("{s}/products"), vec!["post", "get"]),
        (format!("{s}/products/{{product_id}}"), vec!["get", "patch", "delete"]),
        (format!("{s}/products/{{product_id}}/variants"), vec!["post"]),
        (
            format!("{s}/products/{{product_id}}/variants/{{variant_id}}"),
            vec!["patch", "delete"],
        ),
        (format!("{s}/variants/{{variant_id}}/stock"), vec!["post"]),
        (format!("{s}/collections"), vec!["post", "get"]),
        (
            format!("{s}/collections/{{collection_id}}"),
            vec!["get", "patch", "delete"],
        ),
        (format!("{s}/collections/{{collection_id}}/products"), vec!["put"]),
        (format!("{f}/products"), vec!["get"]),
        (format!("{f}/products/{{product_id}}"), vec!["get"]),
        (format!("{f}/collections"), vec!["get"]),
        (format!("{f}/collections/{{collection_slug}}"), vec!["get"]),
    ];
    for (path, methods) in expected {
        for method in methods {
            assert!(doc["paths"][&path][method].is_object(), "{method} {path}");
        }
    }
}
