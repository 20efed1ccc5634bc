-- A group's ground rules (NULL: the default), a meeting's topic, and members' private topic suggestions.
ALTER TABLE groups ADD COLUMN rules TEXT;

ALTER TABLE meetings ADD COLUMN topic TEXT;

-- A member's suggestion of a topic for their group: facilitators see the text, never who wrote it.
CREATE TABLE topic_suggestions (
    id           INTEGER PRIMARY KEY,
    group_id     INTEGER NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    text         TEXT NOT NULL,
    suggested_at TEXT NOT NULL
);
CREATE INDEX topic_suggestions_group ON topic_suggestions (group_id, suggested_at, id);
CREATE INDEX topic_suggestions_user ON topic_suggestions (user_id);
