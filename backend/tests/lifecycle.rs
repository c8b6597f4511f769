//! The database's life: lazy initialization under a burst of concurrent first requests,
//! failure and recovery, and data surviving a restart.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use serde_json::{Value, json};
use tokio::sync::Barrier;

on_each_backend!(
    cold_start_50_concurrent_first_requests,
    restart_keeps_the_data
);

async fn stats(client: &reqwest::Client, server: &Server) -> Value {
    client
        .get(server.url("/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn cold_start_50_concurrent_first_requests(target: Target) {
    // What is checked is one initialization for all, not the health timeout (its own tests
    // are in database_faults.rs). On PostgreSQL the health checks wait for pooled
    // connections while the pool opens them; a debug build on a busy machine (load average
    // ~20) took more than the default 2 s to open them (SCRAM and a server process each).
    let server = target.start_env(&[("HEALTH_TIMEOUT_SECS", "10")]);
    let client = http();

    // Cold: main has not touched the database.
    assert!(
        !target.data_dir().join("backend.sqlite3").exists(),
        "the database was created before any request"
    );
    assert_eq!(
        stats(&client, &server).await,
        json!({ "pools_created": 0, "pool_init_failures": 0 })
    );

    // 50 first requests at once: half health checks, half new users.
    let barrier = Arc::new(Barrier::new(50));
    let mut tasks = Vec::new();
    for i in 0..50 {
        let (client, barrier) = (client.clone(), Arc::clone(&barrier));
        let (health, users) = (server.url("/health/database"), server.url("/users"));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            if i % 2 == 0 {
                let response = client.get(health).send().await.unwrap();
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                (status, (status != 200).then_some(body))
            } else {
                let response = client
                    .post(users)
                    .json(&json!({ "name": format!("user{i}") }))
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                let body: Value = response.json().await.unwrap();
                (status, body["token"].as_str().map(str::to_owned))
            }
        }));
    }
    let mut tokens = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        let (status, body) = task.await.unwrap();
        let expected = if i % 2 == 0 { 200 } else { 201 };
        assert_eq!(
            status,
            expected,
            "request {i} ({body:?}); server stderr: {:?}",
            server.stderr()
        );
        if i % 2 == 1 {
            tokens.extend(body);
        }
    }
    assert_eq!(tokens.len(), 25);

    // Exactly one pool, no failed attempt.
    assert_eq!(
        stats(&client, &server).await,
        json!({ "pools_created": 1, "pool_init_failures": 0 })
    );

    // Every issued token works, concurrently, over WebSocket.
    let mut runs = Vec::new();
    for (i, token) in tokens.into_iter().enumerate() {
        let addr = server.addr;
        runs.push(tokio::spawn(async move {
            let mut socket = ws_connect_addr(addr, &token).await;
            run_agent(&mut socket, &format!("cold-{i}"), "first contact").await
        }));
    }
    for run in runs {
        let events = run.await.unwrap();
        assert_eq!(events[4]["message"], expected_answer("first contact"));
    }
    assert_eq!(stats(&client, &server).await["pools_created"], 1);
}

async fn restart_keeps_the_data(target: Target) {
    let client = http();
    let first = target.start();
    let (_, token) = create_user(&client, &first, "frank").await;
    let mut socket = ws_connect(&first, &token).await;
    let sent = ["one", "two words", "three little words"];
    for message in sent {
        run_agent(&mut socket, "durable", message).await;
    }
    let (_, before) = messages(&client, &first, &token, "durable").await;
    assert_eq!(before["messages"].as_array().unwrap().len(), 6);
    drop(socket);
    // SIGKILL: what was acknowledged must already be on disk.
    first.kill();

    let second = target.start();
    let (status, after) = messages(&client, &second, &token, "durable").await;
    assert_eq!(status, 200, "the token and the thread survive the restart");
    assert_eq!(after, before);

    // The restarted server keeps appending to the same thread.
    let mut socket = ws_connect(&second, &token).await;
    run_agent(&mut socket, "durable", "four").await;
    let (_, body) = messages(&client, &second, &token, "durable").await;
    let stored = body["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 8);
    assert_eq!(stored[6]["content"], "four");
    let ids: Vec<i64> = stored.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
}

/// A database that cannot be reached gives 503 with the reason, without a panic, and is
/// picked up once it can be: the failure does not poison the lazy pool.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unavailable_database_is_503_then_recovers() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data dir's parent should be: the data dir cannot be created.
    let blocker = dir.path().join("blocked");
    std::fs::write(&blocker, b"not a directory").unwrap();
    let data_dir = blocker.join("data");
    let server = Server::start_with(None, &data_dir);
    let client = http();

    for _ in 0..2 {
        let response = client
            .get(server.url("/health/database"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 503);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "unhealthy");
        let reason = body["reason"].as_str().unwrap();
        assert!(reason.contains("cannot create the data dir"), "{reason}");
    }
    let response = client.post(server.url("/users")).send().await.unwrap();
    assert_eq!(response.status(), 503);
    let failures = stats(&client, &server).await;
    assert_eq!(failures["pools_created"], 0);
    assert_eq!(failures["pool_init_failures"], 3);

    // Fix the environment; the next request initializes the pool.
    std::fs::remove_file(&blocker).unwrap();
    let response = client
        .get(server.url("/health/database"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let (_, token) = create_user(&client, &server, "grace").await;
    let mut socket = ws_connect(&server, &token).await;
    run_agent(&mut socket, "after-recovery", "works now").await;
    assert_eq!(
        stats(&client, &server).await,
        json!({ "pools_created": 1, "pool_init_failures": 3 })
    );
}

/// PostgreSQL that does not answer: 503 with the reason (no PostgreSQL needed for this).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_postgres_is_503() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(Some("postgres://nobody:pw@127.0.0.1:1/none"), dir.path());
    let response = http()
        .get(server.url("/health/database"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unhealthy");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.contains("cannot connect to the postgres database"),
        "{reason}"
    );
    assert!(
        !reason.contains("pw@"),
        "no password in the reason: {reason}"
    );
}

/// An unsupported DATABASE_URL is reported, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsupported_database_url_is_503() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(Some("mysql://root:secret@127.0.0.1/x"), dir.path());
    let response = http()
        .get(server.url("/health/database"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.unwrap();
    let reason = body["reason"].as_str().unwrap();
    assert!(reason.contains("not supported"), "{reason}");
    assert!(!reason.contains("secret"), "{reason}");
}
