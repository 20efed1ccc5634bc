"""Keeping a meeting's announcement true after it was posted: counts, moves, cancellation.

Posting goes through the outbox (it is a scheduled delivery); editing what is already posted is
done here, straight away, and is harmless to repeat.
"""

from __future__ import annotations

import logging

import aiosqlite

from bot.delivery import outbox
from bot.delivery.port import DeliveryFailed, DiscordPort
from bot.meetings import cards
from bot.meetings.planning import announcement_key

log = logging.getLogger(__name__)


async def refresh_announcement(
    conn: aiosqlite.Connection, port: DiscordPort, meeting_id: int
) -> bool:
    """Edit the posted announcement to match the meeting now. False if there is none (yet)."""
    posted = await outbox.by_key(conn, announcement_key(meeting_id))
    if posted is None or posted.sent is None:
        return False
    message = await cards.current_announcement(conn, posted)
    if message is None:
        return False
    try:
        await port.edit(posted.sent.channel_id, posted.sent.message_id, message)
    except DeliveryFailed as failure:
        log.warning("could not update the announcement of meeting %s: %s", meeting_id, failure)
        return False
    return True


async def is_announcement(conn: aiosqlite.Connection, meeting_id: int, marker: str | None) -> bool:
    """True if a button's marker is that of this meeting's announcement.

    Known from the marker alone, so it holds even in the moment between Discord creating the
    message and the outbox recording it as sent.
    """
    if marker is None or not marker.startswith("d") or not marker[1:].isdigit():
        return False
    delivery = await outbox.get(conn, int(marker[1:]))
    return delivery is not None and delivery.key == announcement_key(meeting_id)
