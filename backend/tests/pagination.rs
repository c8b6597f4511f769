//! `GET /threads/{id}/messages` in pages: `limit` (default 100, at most 1000), `after` (the
//! previous page's `next_cursor`), and a bound on what one page holds.

#[macro_use]
mod common;

use common::*;
use serde_json::Value;

on_each_backend!(pages_cover_the_thread_once_in_order);

async fn page(client: &reqwest::Client, server: &Server, token: &str, query: &str) -> (u16, Value) {
    let response = client
        .get(server.url(&format!("/threads/paged/messages{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn pages_cover_the_thread_once_in_order(target: Target) {
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "pager").await;
    let mut socket = ws_connect(&server, &token).await;
    // 120 runs: 240 messages, more than the default page.
    for i in 0..120 {
        run_agent(&mut socket, "paged", &format!("message {i}")).await;
    }

    let (status, first) = page(&client, &server, &token, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        first["messages"].as_array().unwrap().len(),
        100,
        "default limit"
    );
    assert!(first["next_cursor"].is_i64(), "{}", first["next_cursor"]);

    // Follow the cursor with limit=7: every message once, in order.
    let mut seen: Vec<Value> = Vec::new();
    let mut query = "?limit=7".to_owned();
    for _ in 0..100 {
        let (status, body) = page(&client, &server, &token, &query).await;
        assert_eq!(status, 200, "{body}");
        let messages = body["messages"].as_array().unwrap();
        assert!(messages.len() <= 7);
        seen.extend(messages.iter().cloned());
        match body["next_cursor"].as_i64() {
            Some(next) => query = format!("?limit=7&after={next}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 240);
    let ids: Vec<i64> = seen.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(seen[0]["content"], "message 0");
    assert_eq!(seen[238]["content"], "message 119");

    // The whole thread in one page: no next page.
    let (_, all) = page(&client, &server, &token, "?limit=1000").await;
    assert_eq!(all["messages"].as_array().unwrap().len(), 240);
    assert!(all["next_cursor"].is_null());

    // Out of range or not a number: 400 with the documented maximum.
    for bad in [
        "?limit=0",
        "?limit=1001",
        "?limit=x",
        "?after=-1",
        "?after=x",
    ] {
        let (status, body) = page(&client, &server, &token, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["error"], "invalid_request");
    }
    let (_, body) = page(&client, &server, &token, "?limit=5000").await;
    assert!(body["message"].as_str().unwrap().contains("1000"), "{body}");
}

/// A page stops at 1 MiB of content, whatever `limit` says, so memory per request is
/// bounded for threads of large messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn big_messages_make_short_pages() {
    let target = Target::sqlite();
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "big").await;
    let mut socket = ws_connect(&server, &token).await;
    let message = "b".repeat(32_000);
    for _ in 0..40 {
        run_agent(&mut socket, "paged", &message).await;
    }
    let mut query = "?limit=1000".to_owned();
    let mut total = 0;
    let mut pages = 0;
    for _ in 0..100 {
        let (status, body) = page(&client, &server, &token, &query).await;
        assert_eq!(status, 200);
        let messages = body["messages"].as_array().unwrap();
        let bytes: usize = messages
            .iter()
            .map(|m| m["content"].as_str().unwrap().len())
            .sum();
        assert!(bytes <= 1024 * 1024 + 32_000, "{bytes}");
        total += messages.len();
        pages += 1;
        match body["next_cursor"].as_i64() {
            Some(next) => query = format!("?limit=1000&after={next}"),
            None => break,
        }
    }
    assert_eq!(total, 80);
    assert!(pages >= 2, "1.28 MB of content takes two pages: {pages}");
}
