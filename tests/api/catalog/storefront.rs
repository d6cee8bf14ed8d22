//! Shoppers see active products of active stores, with live variants only.

use reqwest::StatusCode;
use serde_json::json;

use super::{id, product, titles, Shop};

#[tokio::test]
async fn the_storefront_shows_only_active_products_and_live_variants() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let mut shirt = product("Shirt", &[("SH-S", 1999, 3), ("SH-M", 2199, 0)]);
    shirt["tags"] = json!(["Summer"]);
    let shirt = shop.product(shirt).await;
    let mut draft = product("Draft", &[("DR", 100, 1)]);
    draft["status"] = json!("draft");
    let draft = shop.product(draft).await;
    let old = shop.product(product("Old", &[("OLD", 100, 1)])).await;
    let medium = shirt["variants"][1]["id"].as_str().unwrap();
    app.delete(
        &shop.path(&format!("/products/{}/variants/{medium}", id(&shirt))),
        token,
    )
    .await;

    let listed = app.public_get(&shop.front("/products")).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(titles(&listed.items()), vec!["Shirt", "Old"]);
    let one = app.public_get(&shop.front(&format!("/products/{}", id(&shirt)))).await;
    assert_eq!(
        one.body["variants"].as_array().unwrap().len(),
        1,
        "archived variant hidden"
    );
    assert_eq!(
        one.body["variants"][0]["price"],
        json!({"amount": 1999, "currency": "EUR"})
    );
    assert_eq!(one.body["variants"][0]["stock"], 3);
    assert_eq!(one.body["tags"], json!(["summer"]));
    assert_eq!(
        app.public_get(&shop.front(&format!("/products/{}", id(&draft))))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Archiving a product takes it out of the storefront at once.
    app.delete(&shop.path(&format!("/products/{}", id(&old))), token).await;
    assert_eq!(
        titles(&app.public_get(&shop.front("/products")).await.items()),
        vec!["Shirt"]
    );
    assert_eq!(
        app.public_get(&shop.front(&format!("/products/{}", id(&old))))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let tagged = app.public_get(&shop.front("/products?tag=SUMMER")).await;
    assert_eq!(titles(&tagged.items()), vec!["Shirt"]);
    assert!(app
        .public_get(&shop.front("/products?tag=winter"))
        .await
        .items()
        .is_empty());
    assert!(app
        .public_get(&shop.front("/products?collection=none"))
        .await
        .items()
        .is_empty());

    let c = app
        .post(
            &shop.path("/collections"),
            token,
            json!({"title": "All", "slug": "all"}),
        )
        .await;
    app.put(
        &shop.path(&format!("/collections/{}/products", id(&c.body))),
        token,
        json!({"product_ids": [id(&old), id(&draft), id(&shirt)]}),
    )
    .await;
    let in_all = app.public_get(&shop.front("/products?collection=all")).await;
    assert_eq!(titles(&in_all.items()), vec!["Shirt"]);
    let shelves = app.public_get(&shop.front("/collections")).await;
    assert_eq!(shelves.items()[0]["slug"], "all");
    assert!(shelves.items()[0]["products"].is_null(), "lists stay light");
    assert_eq!(
        app.public_get(&shop.front("/collections/nope")).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_closed_store_or_unknown_tenant_has_no_storefront_catalog() {
    let shop = Shop::open().await;
    let (app, token) = (&shop.app, shop.t.token.as_str());
    let p = shop.product(product("Lamp", &[("L", 1, 1)])).await;
    app.patch(
        &format!("/api/v1/stores/{}", shop.store_id),
        token,
        json!({"status": "disabled"}),
    )
    .await;
    for path in [
        shop.front("/products"),
        shop.front(&format!("/products/{}", id(&p))),
        shop.front("/collections"),
        "/api/v1/storefront/nobody/main/products".to_string(),
    ] {
        assert_eq!(app.public_get(&path).await.status, StatusCode::NOT_FOUND, "{path}");
    }
}
