-- Outbox ids live on in Discord as delivery markers (d<id>), so a deleted row's id (/mydata delete) must never be given to a new row: AUTOINCREMENT.
CREATE TABLE outbox_ids_never_reused (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT NOT NULL UNIQUE,
    scope            TEXT NOT NULL,
    kind             TEXT NOT NULL,
    guild_id         INTEGER,
    channel_id       INTEGER,
    user_id          INTEGER,
    subject_id       INTEGER,
    due_at           TEXT NOT NULL,
    not_after        TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'sending', 'sent', 'skipped', 'failed', 'cancelled')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  TEXT NOT NULL,
    last_error       TEXT,
    nonce            TEXT,
    sent_channel_id  INTEGER,
    sent_message_id  INTEGER,
    claimed_at       TEXT,
    sent_at          TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CHECK ((channel_id IS NULL) <> (user_id IS NULL)),
    CHECK (not_after >= due_at),
    CHECK (state <> 'sent' OR (sent_channel_id IS NOT NULL AND sent_message_id IS NOT NULL))
);

INSERT INTO outbox_ids_never_reused SELECT * FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_ids_never_reused RENAME TO outbox;

-- The indexes of 0002 and 0005, as they were.
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_scope ON outbox (scope, state);
CREATE INDEX outbox_in_doubt ON outbox (id) WHERE state = 'sending';
CREATE INDEX outbox_user_state ON outbox (user_id, state) WHERE user_id IS NOT NULL;
