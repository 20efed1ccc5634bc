-- Reminders that fit a life (issue 16): snoozes, the once-a-day hint for replies by a word, Maybes that came from Discord's Interested button.

-- "Remind me in an hour / this evening": at most one per member and meeting (a second replaces
-- it). The outbox row is planned from this; an answer given after `asked_at` drops it.
CREATE TABLE snoozes (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    due_at     TEXT NOT NULL,
    asked_at   TEXT NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX snoozes_user ON snoozes (user_id);

-- When a member who wrote something other than an answer in a DM was last told how to answer.
CREATE TABLE reply_hints (
    user_id   INTEGER PRIMARY KEY,
    hinted_at TEXT NOT NULL
);

-- A Maybe given by clicking Interested on the meeting's Events entry (removing the interest
-- removes that Maybe, and only that one).
CREATE TABLE interest_answers (
    meeting_id INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (meeting_id, user_id)
);
CREATE INDEX interest_answers_user ON interest_answers (user_id);
