-- Schema of the reference backend (SQLite flavour; keep in step with ../postgres).
CREATE TABLE users (
    id          TEXT    PRIMARY KEY NOT NULL,
    name        TEXT    NOT NULL,
    -- sha256 of the bearer token, lowercase hex; the token itself is never stored
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL
);

CREATE TABLE threads (
    id          TEXT    PRIMARY KEY NOT NULL,
    owner_id    TEXT    NOT NULL REFERENCES users (id),
    created_at  BIGINT  NOT NULL
);

CREATE INDEX threads_owner ON threads (owner_id);

CREATE TABLE messages (
    id          INTEGER PRIMARY KEY,
    thread_id   TEXT    NOT NULL REFERENCES threads (id),
    run_id      TEXT    NOT NULL,
    role        TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
    content     TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);

CREATE INDEX messages_thread ON messages (thread_id, id);
