-- Member reminder preferences, per-group opt-ins, stored DM channels, the facilitator rota and told-once flags.
CREATE TABLE reminder_prefs (
    user_id           INTEGER PRIMARY KEY,
    leads             TEXT,
    via               TEXT NOT NULL DEFAULT 'dm' CHECK (via IN ('dm', 'channel')),
    paused            INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1)),
    quiet_start       TEXT,
    quiet_end         TEXT,
    timezone          TEXT,
    nudge             INTEGER NOT NULL DEFAULT 1 CHECK (nudge IN (0, 1)),
    unreachable_told  TEXT,
    updated_at        TEXT NOT NULL,
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- "Remind me of every meeting of this group", whether or not I have answered.
CREATE TABLE reminder_optins (
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);

-- A member's DM channel, so a second reminder costs one request, not two.
CREATE TABLE dm_channels (
    user_id    INTEGER PRIMARY KEY,
    channel_id INTEGER NOT NULL,
    stored_at  TEXT NOT NULL
);

-- Who holds each meeting, and whether they confirmed.
CREATE TABLE rota (
    meeting_id     INTEGER PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
    facilitator_user_id INTEGER NOT NULL,
    assigned_by    INTEGER NOT NULL,
    assigned_at    TEXT NOT NULL,
    confirmed_at   TEXT
);

-- Reminder rows by recipient, for "could not reach you" and the facilitators' count.
CREATE INDEX outbox_user_state ON outbox (user_id, state) WHERE user_id IS NOT NULL;
