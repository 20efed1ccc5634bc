-- The delivery outbox: every scheduled message (announcements, reminders, nudges) is a row here before Discord sees it.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
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

-- The dispatcher's question, "which pending row is due first?", reads only this index.
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at, id) WHERE state = 'pending';

-- Re-planning reads one scope's rows ("meeting:42").
CREATE INDEX outbox_scope ON outbox (scope, state);

-- Start-up recovery reads the rows left in doubt ('sending').
CREATE INDEX outbox_in_doubt ON outbox (id) WHERE state = 'sending';
