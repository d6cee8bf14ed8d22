//! Each install's recent calls for the merchant: newest first, paged,
//! filtered by outcome, and kept to a bounded number.

use reqwest::StatusCode;
use serde_json::json;

use super::{app_keeping, Market};

#[tokio::test]
async fn calls_are_listed_newest_first_and_filtered_by_outcome() {
    let m = Market::open().await;
    let install = m.install("discount", json!({})).await;
    let path = m.path(&format!("/{}/calls", install["id"].as_str().unwrap()));
    let active = m.active().await.remove(0);
    let ok = std::fs::read("examples/wat-plugin/discount.wasm").unwrap();
    let trap = wat::parse_file("tests/guests/trap_midway.wat").unwrap();
    for wasm in [&ok, &trap, &ok, &trap, &ok] {
        m.record(&active, wasm).await;
    }

    let all = m.app.get(&path, &m.t.token).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    let calls = all.items();
    let outcomes: Vec<&str> = calls.iter().map(|c| c["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["ok", "trap", "ok", "trap", "ok"]);
    let ids: Vec<&str> = calls.iter().map(|c| c["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");
    for call in &calls {
        assert_eq!(call["hook"], "cart.price");
        assert!(call["at"].is_string());
        assert!(call["fuel"].as_i64().unwrap() > 0, "{call}");
        assert!(call["duration_us"].as_i64().unwrap() >= 0);
        assert!(call["peak_memory_bytes"].as_i64().unwrap() >= 65_536, "{call}");
        assert_eq!(call["version_id"], active.version_id.to_string());
        assert_eq!(call["message"].is_null(), call["outcome"] == "ok");
    }

    let failed = m.app.get(&format!("{path}?outcome=failed"), &m.t.token).await.items();
    assert_eq!(failed.len(), 2);
    assert!(failed
        .iter()
        .all(|c| c["outcome"] == "trap" && c["message"].is_string()));
    assert_eq!(
        m.app.get(&format!("{path}?outcome=ok"), &m.t.token).await.items().len(),
        3
    );
    assert_eq!(
        m.app
            .get(&format!("{path}?outcome=trap"), &m.t.token)
            .await
            .items()
            .len(),
        2
    );
    assert_eq!(
        m.app.get(&format!("{path}?outcome=Bad!"), &m.t.token).await.code(),
        "invalid_query"
    );

    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}?limit=2&cursor={c}"),
            None => format!("{path}?limit=2"),
        };
        let page = m.app.get(&url, &m.t.token).await;
        paged.extend(page.items());
        match page.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, calls, "pages add up to the whole list");
}

#[tokio::test]
async fn an_install_keeps_only_its_newest_calls() {
    let m = Market::with(app_keeping(3).await).await;
    let first = m.install("discount", json!({})).await;
    let second = m.install("hello", json!({})).await;
    let active = m.active().await;
    let ok = std::fs::read("examples/wat-plugin/discount.wasm").unwrap();
    let trap = wat::parse_file("tests/guests/trap_midway.wat").unwrap();
    let discount = active.iter().find(|a| a.plugin_slug == "discount").unwrap();
    let hello = active.iter().find(|a| a.plugin_slug == "hello").unwrap();
    m.record(hello, &ok).await;
    for wasm in [&trap, &trap, &ok, &ok, &ok, &trap] {
        m.record(discount, wasm).await;
    }
    let path = m.path(&format!("/{}/calls", first["id"].as_str().unwrap()));
    let kept: Vec<String> = m
        .app
        .get(&path, &m.t.token)
        .await
        .items()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(kept, ["trap", "ok", "ok"], "the three newest");
    let other = m.path(&format!("/{}/calls", second["id"].as_str().unwrap()));
    assert_eq!(m.app.get(&other, &m.t.token).await.items().len(), 1, "per install");
}
