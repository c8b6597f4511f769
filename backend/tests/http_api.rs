//! The HTTP routes over real connections: health, users and tokens, authentication.

#[macro_use]
mod common;

use common::*;
use serde_json::{Value, json};

on_each_backend!(
    health_is_200_on_the_first_request,
    tokens_are_stored_hashed,
    requests_without_a_valid_token_get_401,
);

async fn health_is_200_on_the_first_request(target: Target) {
    let server = target.start();
    let response = http()
        .get(server.url("/health/database"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body, json!({ "status": "healthy" }));
}

async fn tokens_are_stored_hashed(target: Target) {
    let server = target.start();
    let client = http();
    let response = client.post(server.url("/users")).send().await.unwrap();
    assert_eq!(response.status(), 201, "a body is optional");
    let anonymous: Value = response.json().await.unwrap();
    assert_eq!(anonymous["name"], anonymous["user_id"]);
    let (_, token) = create_user(&client, &server, "erin").await;
    assert_eq!(token.len(), 64);

    let hashes = target.stored_token_hashes().await;
    assert_eq!(hashes.len(), 2);
    let expected = sha256_hex(&token);
    assert!(hashes.contains(&expected), "{hashes:?}");
    assert!(!hashes.contains(&token));

    if target.backend == "sqlite" {
        // Nowhere in the database files either.
        let dir = target.data_dir();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "the raw token is in {dir:?}"
            );
        }
    }
}

async fn requests_without_a_valid_token_get_401(target: Target) {
    let server = target.start();
    let client = http();
    let url = server.url("/threads/anything/messages");
    let response = client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let response = client.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(response.status(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized");

    let response = client
        .post(server.url("/users"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
}

/// SHA-256, written out here so the test does not trust the server's own helper.
fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
