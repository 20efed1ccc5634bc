-- The running bot's heartbeat (one row), so `python -m bot health`, systemd and Docker can tell it is alive and connected.
CREATE TABLE heartbeat (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    pid        INTEGER NOT NULL,
    -- Real time (UTC) of the last beat; the bot's own clock at that beat (they differ only on
    -- the demo clock), which overdue deliveries are measured against.
    beat_at    TEXT NOT NULL,
    clock_now  TEXT NOT NULL,
    connected  INTEGER NOT NULL CHECK (connected IN (0, 1)),
    -- 1 once the bot has stopped cleanly (its last beat).
    stopped    INTEGER NOT NULL DEFAULT 0 CHECK (stopped IN (0, 1)),
    started_at TEXT NOT NULL
);
