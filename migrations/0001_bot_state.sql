-- Small key/value facts the runtime keeps between restarts (e.g. the hash of the last command sync).
CREATE TABLE bot_state (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
