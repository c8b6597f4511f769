//! The WebSocket agent protocol over real connections: event order, isolation between
//! users, malformed frames.

#[macro_use]
mod common;

use common::*;
use serde_json::json;

on_each_backend!(
    event_order,
    isolation_between_users,
    malformed_frames_then_a_valid_run,
    token_in_query_and_new_thread_ids,
    concurrent_runs_are_all_stored,
);

async fn event_order(target: Target) {
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "alice").await;
    let mut socket = ws_connect(&server, &token).await;

    let message = "hello brave new world";
    let events = run_agent(&mut socket, "order-1", message).await;
    let run_id = events[0]["run_id"].as_str().unwrap().to_owned();
    for event in &events {
        assert_eq!(event["run_id"], run_id.as_str(), "{event}");
        assert_eq!(event["thread_id"], "order-1", "{event}");
    }
    assert!(events[1]["content"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(events[2]["tool"], "word_count");
    assert_eq!(events[2]["input"]["text"], message);
    assert_eq!(events[3]["tool"], "word_count");
    assert_eq!(events[3]["output"], json!({ "words": 4, "characters": 21 }));
    assert_eq!(events[4]["message"], expected_answer(message));
    assert_eq!(
        events[4]["message"],
        "Your message has 4 words and 21 characters."
    );
    let ids = events[4]["message_ids"].as_array().unwrap().clone();
    assert_eq!(ids.len(), 2);
    assert!(ids[0].as_i64().unwrap() < ids[1].as_i64().unwrap());

    // The exchange is stored, in order.
    let (status, body) = messages(&client, &server, &token, "order-1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["thread_id"], "order-1");
    let stored = body["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 2, "{body}");
    assert_eq!(stored[0]["role"], "user");
    assert_eq!(stored[0]["content"], message);
    assert_eq!(stored[0]["id"], ids[0]);
    assert_eq!(stored[0]["run_id"], run_id.as_str());
    assert_eq!(stored[1]["role"], "assistant");
    assert_eq!(stored[1]["content"], expected_answer(message));
    assert_eq!(stored[1]["id"], ids[1]);

    // A second run on the same connection and thread appends.
    let second = "again";
    let events = run_agent(&mut socket, "order-1", second).await;
    assert_ne!(events[0]["run_id"], run_id.as_str());
    let (_, body) = messages(&client, &server, &token, "order-1").await;
    let stored = body["messages"].as_array().unwrap();
    let contents: Vec<&str> = stored
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        contents,
        [
            message,
            &expected_answer(message),
            second,
            &expected_answer(second)
        ]
    );
}

async fn isolation_between_users(target: Target) {
    let server = target.start();
    let client = http();
    let (_, alice) = create_user(&client, &server, "alice").await;
    let (_, bob) = create_user(&client, &server, "bob").await;

    let mut alice_ws = ws_connect(&server, &alice).await;
    run_agent(&mut alice_ws, "alice-thread", "secret plans").await;

    // Bob cannot read Alice's thread: 404, the same answer as for a thread that does not exist.
    let (status, body) = messages(&client, &server, &bob, "alice-thread").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(
        body,
        json!({ "error": "not_found", "message": "thread not found" })
    );
    let (status, missing) = messages(&client, &server, &bob, "no-such-thread").await;
    assert_eq!(status, 404);
    assert_eq!(missing, body);

    // Nor write to it: an error event, nothing stored, and the connection stays usable.
    let mut bob_ws = ws_connect(&server, &bob).await;
    send_json(
        &mut bob_ws,
        &json!({ "type": "run_agent", "thread_id": "alice-thread", "message": "let me in" }),
    )
    .await;
    let event = next_event(&mut bob_ws).await;
    assert_eq!(event["type"], "error", "{event}");
    assert_eq!(event["code"], "thread_not_found");
    assert_eq!(event["message"], "thread not found");
    send_json(&mut bob_ws, &json!({ "type": "ping" })).await;
    assert_eq!(next_event(&mut bob_ws).await, json!({ "type": "pong" }));

    let (_, body) = messages(&client, &server, &alice, "alice-thread").await;
    let stored = body["messages"].as_array().unwrap();
    assert_eq!(stored.len(), 2, "{body}");
    assert!(stored.iter().all(|m| m["content"] != "let me in"));

    // Bob's own thread is his, and hidden from Alice.
    run_agent(&mut bob_ws, "bob-thread", "my own").await;
    let (status, _) = messages(&client, &server, &bob, "bob-thread").await;
    assert_eq!(status, 200);
    let (status, _) = messages(&client, &server, &alice, "bob-thread").await;
    assert_eq!(status, 404);
}

async fn malformed_frames_then_a_valid_run(target: Target) {
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "carol").await;
    let mut socket = ws_connect(&server, &token).await;

    let cases: [(&str, &str); 9] = [
        ("this is not json", "malformed_frame"),
        ("{\"type\":\"run_agent\",", "malformed_frame"),
        ("[1,2,3]", "malformed_frame"),
        (
            "{\"thread_id\":\"x\",\"message\":\"no type\"}",
            "malformed_frame",
        ),
        ("{\"type\":\"dance\"}", "unknown_type"),
        (
            "{\"type\":\"run_agent\",\"thread_id\":\"t\"}",
            "invalid_request",
        ),
        (
            "{\"type\":\"run_agent\",\"thread_id\":\"t\",\"message\":\"   \"}",
            "invalid_request",
        ),
        (
            "{\"type\":\"run_agent\",\"thread_id\":\"bad id!\",\"message\":\"x\"}",
            "invalid_request",
        ),
        (
            "{\"type\":\"run_agent\",\"thread_id\":7,\"message\":\"x\"}",
            "invalid_request",
        ),
    ];
    for (frame, code) in cases {
        send_text(&mut socket, frame).await;
        let event = next_event(&mut socket).await;
        assert_eq!(event["type"], "error", "{frame} -> {event}");
        assert_eq!(event["code"], code, "{frame} -> {event}");
        assert!(event["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    send_binary(&mut socket, &[0, 159, 146, 150]).await;
    let event = next_event(&mut socket).await;
    assert_eq!(event["code"], "malformed_frame", "{event}");

    // The same connection still runs the agent, in order.
    let events = run_agent(&mut socket, "after-garbage", "still works").await;
    assert_eq!(events[4]["message"], expected_answer("still works"));

    // Nothing from the bad frames was stored.
    let (status, _) = messages(&client, &server, &token, "t").await;
    assert_eq!(status, 404);
    let (_, body) = messages(&client, &server, &token, "after-garbage").await;
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);
}

async fn token_in_query_and_new_thread_ids(target: Target) {
    let server = target.start();
    let client = http();
    let (_, token) = create_user(&client, &server, "dave").await;

    // Browsers cannot set headers on a WebSocket: `?token=` works too.
    let mut socket = ws_connect_query(&server, &token).await;

    // Without a thread_id the server makes a new thread for the user.
    send_json(
        &mut socket,
        &json!({ "type": "run_agent", "message": "fresh thread" }),
    )
    .await;
    let mut events = Vec::new();
    for expected in RUN_EVENTS {
        let event = next_event(&mut socket).await;
        assert_eq!(event["type"], expected);
        events.push(event);
    }
    let thread_id = events[0]["thread_id"].as_str().unwrap().to_owned();
    assert!(thread_id.starts_with("t_"), "{thread_id}");
    let (status, body) = messages(&client, &server, &token, &thread_id).await;
    assert_eq!(status, 200);
    assert_eq!(body["messages"].as_array().unwrap().len(), 2);

    // Two runs without a thread_id get two threads.
    send_json(
        &mut socket,
        &json!({ "type": "run_agent", "message": "another" }),
    )
    .await;
    let started = next_event(&mut socket).await;
    assert_ne!(started["thread_id"], thread_id.as_str());
    for expected in &RUN_EVENTS[1..] {
        assert_eq!(next_event(&mut socket).await["type"], *expected);
    }

    // A bad token is refused at the handshake: 401, no upgrade.
    let refused = tokio_tungstenite::connect_async(server.ws_url("?token=not-a-token")).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 401)
        }
        other => panic!("expected a 401 handshake, got {other:?}"),
    }
    let refused = tokio_tungstenite::connect_async(server.ws_url("")).await;
    assert!(
        matches!(refused, Err(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401),
        "{refused:?}"
    );
}

/// Many runs at once (the SQLite path writes them in groups): every acknowledged exchange
/// is stored under the ids `agent_completed` reported, including three connections of one
/// user writing to the same thread.
async fn concurrent_runs_are_all_stored(target: Target) {
    let server = target.start();
    let client = http();
    let (_, shared_owner) = create_user(&client, &server, "many").await;
    let mut users = Vec::new();
    for i in 0..10 {
        users.push(create_user(&client, &server, &format!("user{i}")).await.1);
    }

    let mut tasks = Vec::new();
    for connection in 0..3 {
        let (addr, token) = (server.addr, shared_owner.clone());
        tasks.push(tokio::spawn(async move {
            let mut socket = ws_connect_addr(addr, &token).await;
            let mut acknowledged = Vec::new();
            for run in 0..10 {
                let message = format!("shared connection {connection} run {run}");
                let events = run_agent(&mut socket, "shared", &message).await;
                acknowledged.push(("shared".to_owned(), message, events[4].clone()));
            }
            acknowledged
        }));
    }
    for (i, token) in users.iter().enumerate() {
        let (addr, token) = (server.addr, token.clone());
        tasks.push(tokio::spawn(async move {
            let mut socket = ws_connect_addr(addr, &token).await;
            let thread = format!("own-{i}");
            let mut acknowledged = Vec::new();
            for run in 0..5 {
                let message = format!("user {i} run {run}");
                let events = run_agent(&mut socket, &thread, &message).await;
                acknowledged.push((thread.clone(), message, events[4].clone()));
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    assert_eq!(acknowledged.len(), 30 + 50);

    let mut stored = std::collections::HashMap::new();
    let (_, body) = messages(&client, &server, &shared_owner, "shared").await;
    stored.insert(
        "shared".to_owned(),
        body["messages"].as_array().unwrap().clone(),
    );
    for (i, token) in users.iter().enumerate() {
        let thread = format!("own-{i}");
        let (_, body) = messages(&client, &server, token, &thread).await;
        stored.insert(thread, body["messages"].as_array().unwrap().clone());
    }
    assert_eq!(stored["shared"].len(), 60);
    for i in 0..10 {
        assert_eq!(stored[&format!("own-{i}")].len(), 10);
    }
    for (thread, message, completed) in &acknowledged {
        let ids = completed["message_ids"].as_array().unwrap();
        let find = |id: &serde_json::Value| {
            stored[thread]
                .iter()
                .find(|m| &m["id"] == id)
                .unwrap_or_else(|| panic!("message {id} of {thread} is not stored"))
                .clone()
        };
        let (user, assistant) = (find(&ids[0]), find(&ids[1]));
        assert_eq!(user["role"], "user");
        assert_eq!(user["content"], message.as_str());
        assert_eq!(assistant["role"], "assistant");
        assert_eq!(assistant["content"], expected_answer(message));
        assert_eq!(user["run_id"], completed["run_id"]);
        assert_eq!(assistant["run_id"], completed["run_id"]);
    }
}
