-- Groups, who belongs to them, monthly meeting series, each meeting (with its one-off changes) and RSVPs.
CREATE TABLE groups (
    id                     INTEGER PRIMARY KEY,
    guild_id               INTEGER NOT NULL,
    name                   TEXT NOT NULL,
    announce_channel_id    INTEGER NOT NULL,
    facilitator_role_id    INTEGER NOT NULL,
    facilitator_channel_id INTEGER,
    timezone               TEXT NOT NULL,
    welcome_channel_id     INTEGER,
    welcome_message_id     INTEGER,
    problem                TEXT,
    archived_at            TEXT,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
);
CREATE UNIQUE INDEX groups_live_name ON groups (guild_id, name COLLATE NOCASE)
    WHERE archived_at IS NULL;

CREATE TABLE group_members (
    group_id  INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE series (
    id               INTEGER PRIMARY KEY,
    group_id         INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    title            TEXT NOT NULL,
    rrule            TEXT NOT NULL,
    local_time       TEXT NOT NULL,
    anchor_date      TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 15 AND 720),
    place_kind       TEXT NOT NULL CHECK (place_kind IN ('voice', 'stage', 'external')),
    channel_id       INTEGER,
    location         TEXT,
    description      TEXT,
    capacity         INTEGER CHECK (capacity IS NULL OR capacity > 0),
    ended_at         TEXT,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX series_group ON series (group_id);

CREATE TABLE meetings (
    id               INTEGER PRIMARY KEY,
    series_id        INTEGER NOT NULL REFERENCES series (id) ON DELETE CASCADE,
    occurrence_start TEXT NOT NULL,
    starts_at        TEXT NOT NULL,
    duration_minutes INTEGER NOT NULL,
    place_kind       TEXT NOT NULL CHECK (place_kind IN ('voice', 'stage', 'external')),
    channel_id       INTEGER,
    location         TEXT,
    moved            INTEGER NOT NULL DEFAULT 0,
    note             TEXT,
    cancelled_at     TEXT,
    event_id         INTEGER,
    event_synced     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    UNIQUE (series_id, occurrence_start)
);
CREATE INDEX meetings_starts_at ON meetings (starts_at);

CREATE TABLE rsvps (
    meeting_id  INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    answer      TEXT NOT NULL CHECK (answer IN ('going', 'maybe', 'no', 'waitlist')),
    answered_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX rsvps_user ON rsvps (user_id);

-- A facilitator's series before they confirm it with a button (survives a restart).
CREATE TABLE series_drafts (
    id         INTEGER PRIMARY KEY,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    series_id  INTEGER REFERENCES series (id) ON DELETE CASCADE,
    payload    TEXT NOT NULL,
    created_by INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
