//! Pricing, checkout and the order lifecycle, with real plug-ins (small
//! WebAssembly-text guests) installed through the marketplace functions.

mod bad_input;
mod checkout;
mod concurrency;
mod lifecycle;
mod numbers;
mod plans;
mod pricing;
mod reads;

use livemall::db::Access;
use livemall::entities::{
    idempotency_keys, install_calls, order_lines, orders, outbox_events, plugin_counters, variants,
};
use livemall::marketplace::{installs, registry};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::catalog::{product, Shop};
use crate::helpers::Reply;

/// A shop whose store sells `LAMP` (49.00) and `BULB` (5.00).
pub struct Mall {
    pub shop: Shop,
    pub lamp: String,
    pub bulb: String,
}

/// Row counts and stock that a refused request must leave as they were.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub orders: u64,
    pub lines: u64,
    pub events: u64,
    pub keys: u64,
    pub counters: Vec<(String, i64)>,
    pub stock: Vec<i64>,
}

impl Mall {
    pub async fn open(lamp_stock: i64, bulb_stock: i64) -> Mall {
        let shop = Shop::open().await;
        let p = shop.product(product("Lamp", &[("LAMP", 4900, lamp_stock)])).await;
        let b = shop.product(product("Bulb", &[("BULB", 500, bulb_stock)])).await;
        Mall {
            lamp: p["variants"][0]["id"].as_str().unwrap().to_string(),
            bulb: b["variants"][0]["id"].as_str().unwrap().to_string(),
            shop,
        }
    }

    pub fn store_id(&self) -> Uuid {
        self.shop.store_id.parse().unwrap()
    }

    /// `/api/v1/stores/{store}/orders` followed by `rest`.
    pub fn orders(&self, rest: &str) -> String {
        self.shop.path(&format!("/orders{rest}"))
    }

    pub async fn price(&self, body: Value) -> Reply {
        self.shop.app.public_post(&self.shop.front("/cart/price"), body).await
    }

    /// Checks out with `key` as the Idempotency-Key.
    pub async fn checkout(&self, key: &str, body: Value) -> Reply {
        self.shop
            .app
            .public_post_keyed(&self.shop.front("/orders"), key, body)
            .await
    }

    /// A guest order of `quantity` lamps that must succeed.
    pub async fn order_lamps(&self, quantity: i64) -> Value {
        let body = json!({"email": "guest@example.com", "lines": [{"variant_id": self.lamp, "quantity": quantity}]});
        let r = self.checkout(&Uuid::new_v4().to_string(), body).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        r.body
    }

    /// A merchant action (`pay`, `cancel`...) on an order.
    pub async fn act(&self, order_id: &str, action: &str) -> Reply {
        let path = self.orders(&format!("/{order_id}/{action}"));
        self.shop.app.post(&path, &self.shop.t.token, json!({})).await
    }

    /// Registers `tests/guests/{guest}.wat` as plug-in `slug` and installs it in the store.
    pub async fn install(&self, guest: &str, slug: &str, config: Value, priority: i32) -> Uuid {
        let app = &self.shop.app;
        let wasm = wat::parse_file(crate::plugin_host::guest_path(guest)).unwrap();
        let plugin = registry::NewPlugin {
            slug: slug.into(),
            name: slug.into(),
            description: String::new(),
            author: "tests".into(),
            version: "1.0.0".into(),
            config_schema: json!({"type": "object"}),
            wasm,
        };
        let registered = registry::register(&app.state, plugin).await.unwrap();
        let txn = app.db.tenant(self.shop.t.tenant_id, Access::Write).await.unwrap();
        let id = installs::install(
            &app.state,
            &txn,
            self.store_id(),
            registered.plugin_id,
            config,
            priority,
        )
        .await
        .unwrap();
        txn.commit().await.unwrap();
        id
    }

    /// A read transaction in the merchant's tenant.
    pub async fn read(&self) -> livemall::db::TenantTxn {
        let tenant = self.shop.t.tenant_id;
        // Plug-in calls are recorded in the background.
        self.shop.app.state.calls.flush().await;
        self.shop.app.db.tenant(tenant, Access::Read).await.unwrap()
    }

    /// `n` guests order one lamp each, all at once.
    pub async fn rush(&self, n: usize) -> Vec<Reply> {
        let bodies: Vec<(String, Value)> = (0..n)
            .map(|i| {
                let line = json!([{"variant_id": self.lamp, "quantity": 1}]);
                let body = json!({"email": format!("shopper{i}@example.com"), "lines": line});
                (Uuid::new_v4().to_string(), body)
            })
            .collect();
        futures_util::future::join_all(
            bodies
                .into_iter()
                .map(|(key, body)| async move { self.checkout(&key, body).await }),
        )
        .await
    }

    pub async fn stock(&self, variant: &str) -> i64 {
        let txn = self.read().await;
        let id: Uuid = variant.parse().unwrap();
        let v = variants::Entity::find_by_id((self.shop.t.tenant_id, id))
            .one(&*txn)
            .await
            .unwrap();
        v.unwrap().stock
    }

    pub async fn snapshot(&self) -> Snapshot {
        let txn = self.read().await;
        let mut counters: Vec<(String, i64)> = plugin_counters::Entity::find()
            .all(&*txn)
            .await
            .unwrap()
            .into_iter()
            .map(|c| (format!("{}:{}", c.key, c.scope_key), c.used))
            .collect();
        counters.sort();
        Snapshot {
            orders: orders::Entity::find().count(&*txn).await.unwrap(),
            lines: order_lines::Entity::find().count(&*txn).await.unwrap(),
            events: outbox_events::Entity::find().count(&*txn).await.unwrap(),
            keys: idempotency_keys::Entity::find().count(&*txn).await.unwrap(),
            counters,
            stock: vec![self.stock(&self.lamp).await, self.stock(&self.bulb).await],
        }
    }

    /// How many `cart.price` calls were recorded with this outcome (async
    /// hooks the dispatcher delivers meanwhile are not counted).
    pub async fn calls(&self, outcome: &str) -> usize {
        let txn = self.read().await;
        let calls = install_calls::Entity::find().all(&*txn).await.unwrap();
        calls
            .iter()
            .filter(|c| c.outcome == outcome && c.hook == "cart.price")
            .count()
    }

    /// The `used` of an install's counter, 0 when it does not exist yet.
    pub async fn counter(&self, install: Uuid, key: &str, scope_key: &str) -> i64 {
        let txn = self.read().await;
        let id = (self.shop.t.tenant_id, install, key.to_string(), scope_key.to_string());
        let row = plugin_counters::Entity::find_by_id(id).one(&*txn).await.unwrap();
        row.map_or(0, |c| c.used)
    }
}

#[tokio::test]
async fn a_guest_orders_and_the_merchant_sees_the_order_with_its_event() {
    let mall = Mall::open(10, 100).await;
    let body = json!({
        "email": "Guest@Example.com",
        "codes": ["SPRING"],
        "lines": [{"variant_id": mall.lamp, "quantity": 2}, {"sku": "BULB", "quantity": 3}]
    });
    let quote = mall.price(body.clone()).await;
    assert_eq!(quote.status, StatusCode::OK, "{}", quote.body);
    assert_eq!(quote.body["subtotal"], 2 * 4900 + 3 * 500);
    assert_eq!(quote.body["total"], quote.body["subtotal"]);
    assert_eq!(quote.body["lines"][1]["sku"], "BULB");
    assert_eq!(quote.body["lines"][1]["total"], 1500);

    let placed = mall.checkout("first", body).await;
    assert_eq!(placed.status, StatusCode::CREATED, "{}", placed.body);
    let order = &placed.body;
    assert_eq!(order["number"], 1);
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["currency"], "EUR");
    assert_eq!(order["email"], "guest@example.com");
    assert_eq!(order["customer_key"], "guest@example.com");
    assert_eq!(order["codes"], json!(["SPRING"]));
    assert_eq!(order["total"], 11_300);
    assert_eq!(order["lines"].as_array().unwrap().len(), 2);
    assert_eq!((mall.stock(&mall.lamp).await, mall.stock(&mall.bulb).await), (8, 97));
    assert_eq!(mall.order_lamps(1).await["number"], 2);

    let (app, token) = (&mall.shop.app, mall.shop.t.token.as_str());
    let id = order["id"].as_str().unwrap();
    let got = app.get(&mall.orders(&format!("/{id}")), token).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, placed.body);
    let list = app.get(&mall.orders("?limit=1"), token).await;
    assert_eq!(list.items().len(), 1);
    assert_eq!(list.items()[0]["id"], id);
    let next = list.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&mall.orders(&format!("?limit=1&cursor={next}")), token).await;
    assert_eq!(rest.items()[0]["number"], 2);

    let txn = mall.read().await;
    let events = outbox_events::Entity::find().all(&*txn).await.unwrap();
    assert_eq!(events.len(), 2);
    // In no particular order: the dispatcher may have marked either one.
    let event = events
        .iter()
        .find(|e| e.aggregate_id.to_string() == id)
        .expect("the first order's event");
    assert_eq!(event.topic, "order.created");
    assert_eq!(event.payload["order"]["total"], 11_300);
    assert_eq!(event.payload["order"]["customer"]["key"], "guest@example.com");
}

#[tokio::test]
async fn every_orders_endpoint_is_in_the_openapi_document() {
    let app = crate::helpers::spawn_app().await;
    let doc = app.public_get("/api/openapi.json").await.body;
    let s = "/api/v1/stores/{store_id}";
    let f = "/api/v1/storefront/{tenant_slug}/{store_slug}";
    let mut expected = vec![
        (format!("{f}/cart/price"), "post"),
        (format!("{f}/orders"), "post"),
        (format!("{s}/customers"), "post"),
        (format!("{s}/customers"), "get"),
        (format!("{s}/customers/{{id}}"), "get"),
        (format!("{s}/orders"), "get"),
        (format!("{s}/orders/{{id}}"), "get"),
    ];
    for action in ["pay", "fulfill", "cancel", "refund"] {
        expected.push((format!("{s}/orders/{{id}}/{action}"), "post"));
    }
    for (path, method) in expected {
        assert!(doc["paths"][&path][method].is_object(), "{method} {path}");
    }
}
