-- /rota handover: a meeting's holder asks another facilitator to take it (one open offer per meeting; ids live on in buttons, so never reused).
CREATE TABLE rota_handovers (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    from_user_id  INTEGER NOT NULL,
    to_user_id    INTEGER NOT NULL,
    state         TEXT NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'accepted', 'declined', 'replaced')),
    offered_at    TEXT NOT NULL,
    answered_at   TEXT,
    CHECK (from_user_id <> to_user_id),
    CHECK ((state = 'open') = (answered_at IS NULL))
);

CREATE UNIQUE INDEX rota_handovers_one_open ON rota_handovers (meeting_id) WHERE state = 'open';
CREATE INDEX rota_handovers_from ON rota_handovers (from_user_id);
CREATE INDEX rota_handovers_to ON rota_handovers (to_user_id);
