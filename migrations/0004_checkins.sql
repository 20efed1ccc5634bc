-- Private check-ins (keyed member hashes, encrypted notes), remembered groups, nudges, monthly trend snapshots and the trends audit log.
CREATE TABLE checkins (
    id         INTEGER PRIMARY KEY,
    member_key TEXT NOT NULL,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    month      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    mood       INTEGER NOT NULL CHECK (mood BETWEEN 1 AND 5),
    stress     INTEGER NOT NULL CHECK (stress BETWEEN 1 AND 5),
    supported  INTEGER NOT NULL CHECK (supported BETWEEN 1 AND 5),
    note       BLOB
);
CREATE INDEX checkins_group_month ON checkins (group_id, month);
CREATE INDEX checkins_member ON checkins (member_key, created_at);

-- The group a member's check-ins count towards, chosen once.
CREATE TABLE checkin_members (
    member_key TEXT PRIMARY KEY,
    group_id   INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    updated_at TEXT NOT NULL
);

-- The opt-in nudge: a DM needs the Discord id, so this table holds it and nothing else about check-ins.
CREATE TABLE checkin_nudges (
    user_id    INTEGER PRIMARY KEY,
    cadence    TEXT NOT NULL CHECK (cadence IN ('weekly', 'monthly')),
    day        INTEGER NOT NULL,
    local_time TEXT NOT NULL,
    timezone   TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- weekly: day is a weekday, 0 = Monday; monthly: a day of the month, 1 to 28.
    CHECK ((cadence = 'weekly' AND day BETWEEN 0 AND 6) OR (cadence = 'monthly' AND day BETWEEN 1 AND 28))
);

-- A closed month's aggregate, computed once and shown from then on; no member column by design.
CREATE TABLE trend_snapshots (
    group_id     INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    month        TEXT NOT NULL,
    shown        INTEGER NOT NULL CHECK (shown IN (0, 1)),
    band         TEXT,
    mood         REAL,
    stress       REAL,
    supported    REAL,
    distribution TEXT,
    computed_at  TEXT NOT NULL,
    PRIMARY KEY (group_id, month),
    CHECK (shown = 1 OR (band IS NULL AND mood IS NULL AND stress IS NULL AND supported IS NULL))
);

-- Every facilitator view of /trends: who, when, which group, which months.
CREATE TABLE trend_audit (
    id        INTEGER PRIMARY KEY,
    group_id  INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    viewer_id INTEGER NOT NULL,
    viewed_at TEXT NOT NULL,
    months    TEXT NOT NULL
);
CREATE INDEX trend_audit_group ON trend_audit (group_id, viewed_at);
