-- "We missed you", never a register: groups that chose to note who came, who came to each meeting (nothing about who did not), and each member's choice about the missed-you message.
CREATE TABLE attendance_groups (
    group_id      INTEGER PRIMARY KEY REFERENCES groups (id) ON DELETE CASCADE,
    turned_on_at  TEXT NOT NULL
);

-- A meeting whose attendance was actually noted (people seen in its voice or stage channel, or
-- the facilitator's answer for a meeting elsewhere): only then may anyone hear "we missed you".
CREATE TABLE attendance_noted (
    meeting_id INTEGER PRIMARY KEY REFERENCES meetings (id) ON DELETE CASCADE,
    how        TEXT NOT NULL CHECK (how IN ('voice', 'facilitator')),
    noted_at   TEXT NOT NULL
);

-- "Came", one row per member per meeting; no join or leave times.
CREATE TABLE attendance (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    how        TEXT NOT NULL CHECK (how IN ('voice', 'facilitator')),
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX attendance_user ON attendance (user_id);

ALTER TABLE reminder_prefs ADD COLUMN missed_you INTEGER NOT NULL DEFAULT 1 CHECK (missed_you IN (0, 1));
