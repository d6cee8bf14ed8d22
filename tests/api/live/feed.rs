//! The feed's ids, replay with `Last-Event-ID`, the bounded window, and
//! one fan-out task shared by every viewer of a stream.

use serde_json::json;

use super::{Sse, Studio};

/// Comments `c{from}` to `c{from + n - 1}`.
async fn comments(s: &Studio, id: &str, from: usize, n: usize) {
    for i in from..from + n {
        let r = s
            .post(
                &format!("/streams/{id}/comments"),
                json!({"author": "a", "text": format!("c{i}")}),
            )
            .await;
        assert_eq!(r.status, reqwest::StatusCode::CREATED, "{}", r.body);
    }
}

#[tokio::test]
async fn a_viewer_that_reconnects_with_last_event_id_gets_what_it_missed() {
    let s = Studio::open().await;
    let id = s.live_stream().await;
    let mut first = Sse::connect(&s.app.address, &s.feed(&id), None).await;
    assert_eq!(first.next().await.event, "snapshot");
    comments(&s, &id, 0, 2).await;
    let seen = first.next().await;
    assert_eq!(seen.data["text"], "c0");
    drop(first);
    comments(&s, &id, 2, 3).await;

    let mut again = Sse::connect(&s.app.address, &s.feed(&id), seen.id).await;
    let mut texts = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..4 {
        let e = again.next().await;
        texts.push(e.data["text"].as_str().unwrap().to_string());
        ids.push(e.id.unwrap());
    }
    assert_eq!(texts, ["c1", "c2", "c3", "c4"]);
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "ids are consecutive: {ids:?}");
    assert_eq!(ids[0], seen.id.unwrap() + 1);
    // Live events follow the replay without a gap or a repeat.
    comments(&s, &id, 5, 1).await;
    let live = again.next().await;
    assert_eq!((live.data["text"].as_str(), live.id), (Some("c5"), Some(ids[3] + 1)));
}

#[tokio::test]
async fn a_viewer_behind_the_window_is_told_and_gets_a_snapshot() {
    let s = Studio::open_with(|c| c.live.feed_window = 5).await;
    let id = s.live_stream().await;
    comments(&s, &id, 0, 10).await;
    let mut viewer = Sse::connect(&s.app.address, &s.feed(&id), Some(1)).await;
    let passed = viewer.next().await;
    assert_eq!(passed.event, "window_passed");
    assert_eq!(passed.data["last_event_id"], 1);
    assert_eq!(
        (passed.data["head"].as_i64(), passed.data["oldest_event_id"].as_i64()),
        (Some(11), Some(7))
    );
    let snapshot = viewer.next().await;
    assert_eq!((snapshot.event.as_str(), snapshot.id), ("snapshot", Some(11)));
    assert_eq!(snapshot.data["stream"]["status"], "live");

    // Within the window, the replay is exact.
    let mut close = Sse::connect(&s.app.address, &s.feed(&id), Some(8)).await;
    let next = close.next().await;
    assert_eq!((next.event.as_str(), next.id), ("comment", Some(9)));
}

#[tokio::test]
async fn many_viewers_of_one_stream_share_one_fan_out_task() {
    let s = Studio::open().await;
    let id = s.live_stream().await;
    let mut viewers = Vec::new();
    for _ in 0..20 {
        let mut v = Sse::connect(&s.app.address, &s.feed(&id), None).await;
        assert_eq!(v.next().await.event, "snapshot");
        viewers.push(v);
    }
    assert_eq!(s.app.state.live.streams(), 1);
    comments(&s, &id, 0, 1).await;
    for v in &mut viewers {
        let e = v.next().await;
        assert_eq!((e.event.as_str(), e.data["text"].as_str()), ("comment", Some("c0")));
    }
    drop(viewers);
    // The server notices a gone viewer when a write to it fails.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut i = 0;
    while std::time::Instant::now() < deadline {
        if s.app.state.live.streams() == 0 {
            return;
        }
        i += 1;
        comments(&s, &id, i, 1).await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the fan-out task outlived its viewers");
}
