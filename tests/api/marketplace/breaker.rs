//! The circuit breaker as the merchant sees it: a failing install is shown
//! switched off with the reason, and `POST .../enable` turns it back on.

use livemall::marketplace::pipeline::ActiveInstall;
use livemall::marketplace::registry;
use reqwest::StatusCode;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::json;

use super::{guest_plugin, Market};

/// A store whose one install traps on every call and has just been switched off.
async fn tripped() -> (Market, ActiveInstall, Vec<u8>) {
    let m = Market::open().await;
    let trap = guest_plugin("trap", "trap_midway");
    registry::register(&m.app.state, trap).await.unwrap();
    m.install("trap", json!({})).await;
    let active = m.active().await.remove(0);
    let trap = wat::parse_file("tests/guests/trap_midway.wat").unwrap();
    for _ in 0..m.app.state.settings.plugins.breaker_threshold {
        m.record(&active, &trap).await;
    }
    (m, active, trap)
}

#[tokio::test]
async fn a_tripped_install_is_shown_off_and_the_merchant_turns_it_back_on() {
    let (m, active, trap) = tripped().await;
    let path = m.path(&format!("/{}", active.install_id));

    let off = m.app.get(&path, &m.t.token).await.body;
    assert_eq!(off["breaker"]["open"], true);
    let reason = off["breaker"]["reason"].as_str().unwrap();
    assert!(reason.contains("5 consecutive failures"), "{reason}");
    assert!(reason.contains("unreachable"), "{reason}");
    assert_eq!(off["enabled"], true, "the merchant's switch is untouched");
    assert_eq!(off["running"], false);
    assert!(m.active().await.is_empty());

    // The merchant's switch alone does not close the breaker.
    let switched = m.app.patch(&path, &m.t.token, json!({"enabled": true})).await;
    assert_eq!(switched.body["running"], false);

    let on = m.app.post(&format!("{path}/enable"), &m.t.token, json!({})).await;
    assert_eq!(on.status, StatusCode::OK, "{}", on.body);
    assert_eq!(on.body["breaker"], json!({"open": false, "reason": null}));
    assert_eq!(on.body["running"], true);
    assert!(!m.app.state.breaker.is_open(&active.install_id));
    assert_eq!(m.active().await.len(), 1);
    let failed = m.app.get(&format!("{path}/calls?outcome=failed"), &m.t.token).await;
    assert_eq!(failed.items().len(), 5, "the failures stay in the history");

    // It trips again after as many failures, not after one.
    m.record(&active, &trap).await;
    assert_eq!(m.app.get(&path, &m.t.token).await.body["running"], true);
}

#[tokio::test]
async fn a_breaker_closed_through_another_node_is_closed_here_too() {
    let (m, active, _) = tripped().await;
    let install_id = active.install_id;
    assert!(m.app.state.breaker.is_open(&install_id));

    // Another node re-enabled it: only the row changed, this node's memory did not.
    let txn = m
        .app
        .db
        .tenant(m.t.tenant_id, livemall::db::Access::Write)
        .await
        .unwrap();
    let row = livemall::entities::installs::Entity::find_by_id((m.t.tenant_id, install_id))
        .one(&*txn)
        .await
        .unwrap()
        .unwrap();
    let mut row: livemall::entities::installs::ActiveModel = row.into();
    row.breaker_open = Set(false);
    row.breaker_reason = Set(None);
    row.update(&*txn).await.unwrap();
    txn.commit().await.unwrap();

    assert_eq!(m.active().await.len(), 1, "the row is the truth");
    assert!(!m.app.state.breaker.is_open(&install_id));
}
