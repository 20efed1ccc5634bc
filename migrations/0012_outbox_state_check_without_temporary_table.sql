-- The outbox's state check as plain comparisons: SQLite builds a temporary table for `state IN (…)` each time a row is written, a third of what planning's inserts cost.
-- Same columns, same rules, same indexes; only the way the state check is written changes
-- (EXPLAIN of an insert showed an OpenEphemeral per row for the IN list).
CREATE TABLE outbox_plain_checks (
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
                     CHECK (state = 'pending' OR state = 'sending' OR state = 'sent'
                            OR state = 'skipped' OR state = 'failed' OR state = 'cancelled'),
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

INSERT INTO outbox_plain_checks SELECT * FROM outbox;

-- Ids live on in Discord as markers: the new table carries on from the highest id ever given,
-- even when the rows that had the highest ids were deleted since (/mydata delete).
DELETE FROM sqlite_sequence WHERE name = 'outbox_plain_checks';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'outbox_plain_checks', seq FROM sqlite_sequence WHERE name = 'outbox';

DROP TABLE outbox;
ALTER TABLE outbox_plain_checks RENAME TO outbox;

-- The indexes of 0007, as they were.
CREATE INDEX outbox_pending_due ON outbox (next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX outbox_scope ON outbox (scope, state);
CREATE INDEX outbox_in_doubt ON outbox (id) WHERE state = 'sending';
CREATE INDEX outbox_user_state ON outbox (user_id, state) WHERE user_id IS NOT NULL;
