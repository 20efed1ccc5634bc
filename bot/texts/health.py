"""What `python -m bot health` prints and the health lines of /status: facts for an admin."""

from __future__ import annotations

from datetime import timedelta


def _ago(age: timedelta) -> str:
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"


def no_database(path: object) -> str:
    return f"Holdfast has not started here yet: there is no database at {path}."


def unreadable(path: object, error: Exception) -> str:
    return f"Unhealthy: the database at {path} cannot be read ({error})."


def no_heartbeat() -> str:
    return "Holdfast has never run on this database (no heartbeat yet): is it started?"


def heartbeat_stale(age: timedelta, limit: timedelta) -> str:
    return (
        f"Holdfast's last heartbeat was {_ago(age)} (more than {int(limit.total_seconds())} s): "
        "it is stopped or stuck."
    )


def stopped(age: timedelta) -> str:
    return f"Holdfast is stopped: it shut down cleanly {_ago(age)}."


def not_connected() -> str:
    return "Holdfast is running but not connected to Discord."


def overdue(count: int, limit: timedelta) -> str:
    what = "delivery is" if count == 1 else "deliveries are"
    return (
        f"{count} {what} more than {int(limit.total_seconds() // 60)} min overdue: "
        "messages are not going out."
    )


def unhealthy(problems: list[str]) -> str:
    return "Unhealthy: " + " ".join(problems)


def healthy(age: timedelta) -> str:
    return f"Healthy: heartbeat {_ago(age)}, connected to Discord, no deliveries overdue."


def status_lines(
    age: timedelta | None, connected: bool, overdue_count: int, problems: list[str]
) -> str:
    """The health part of /status: the same facts `python -m bot health` checks."""
    beat = _ago(age) if age is not None else "none yet"
    link = "connected" if connected else "not connected"
    verdict = "healthy" if not problems else "needs a look: " + " ".join(problems)
    return (
        f"**Health:** {verdict}\n"
        f"Heartbeat {beat} · Discord: {link} · overdue deliveries: {overdue_count}"
    )
