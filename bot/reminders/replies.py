"""Answering by a word: a member replies "going", "maybe" or "can't" to a DM about a meeting.

The words are read only here, only to find one of three answers; the message itself is never
stored or logged. Which meeting: the one the replied-to DM is about (a message the bot sent
through the outbox, found by its id); without a reply, the one meeting still to come that the
bot has written to them about in that DM, if there is exactly one. The answer goes through the
same `answer_meeting` as the buttons (same re-planning). Anything else gets a one-line hint on
how to answer, at most once a day per member (remembered in SQLite, so across restarts too).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.db import transaction
from bot.delivery.outbox import iso, parse
from bot.delivery.replanning import Replanner
from bot.errors import HoldfastError, NotAMember
from bot.meetings.model import Answer
from bot.meetings.planning import MEETING_CHANGED, WAITLIST_PROMOTED
from bot.meetings.rsvp import answer_meeting
from bot.reminders.model import NUDGE, REMINDER, SNOOZE
from bot.texts import meetings as meeting_texts
from bot.texts import reminders as texts

HINT_EVERY = timedelta(days=1)

# DMs about one meeting (the delivery's subject): what a word can answer.
MEETING_DM_KINDS = (REMINDER, NUDGE, SNOOZE, MEETING_CHANGED, WAITLIST_PROMOTED)

_GOING = {
    "going",
    "yes",
    "yep",
    "yeah",
    "yup",
    "y",
    "coming",
    "i'm going",
    "im going",
    "i'm coming",
    "im coming",
    "i'll be there",
    "ill be there",
    "count me in",
    "see you there",
}
_MAYBE = {"maybe", "perhaps", "possibly", "not sure", "might", "i might"}
_NO = {
    "no",
    "nope",
    "n",
    "can't",
    "cant",
    "cannot",
    "can not",
    "can't make it",
    "cant make it",
    "cannot make it",
    "can't come",
    "cant come",
    "not this time",
    "not going",
    "no sorry",
    "sorry no",
    "sorry can't",
    "sorry cant",
    "sorry can't make it",
    "sorry cant make it",
    "can't make it sorry",
    "cant make it sorry",
    "can't this time",
    "cant this time",
}
WORDS: dict[str, Answer] = {
    **dict.fromkeys(_GOING, Answer.GOING),
    **dict.fromkeys(_MAYBE, Answer.MAYBE),
    **dict.fromkeys(_NO, Answer.NO),
}
# Most a word could be (with some emoji and punctuation); longer text is not an answer.
LONGEST = 60

# The DM about a meeting that the member replied to (sent by the outbox, to them).
SELECT_REPLIED_TO = f"""
SELECT subject_id
FROM outbox
WHERE sent_message_id = :message_id AND sent_channel_id = :channel_id AND user_id = :user_id
  AND state = 'sent' AND subject_id IS NOT NULL
  AND kind IN ({", ".join(f"'{kind}'" for kind in MEETING_DM_KINDS)})
"""

# Meetings still to come that the bot wrote to the member about by DM.
SELECT_DM_MEETINGS = f"""
SELECT DISTINCT o.subject_id
FROM outbox AS o
JOIN meetings AS m ON m.id = o.subject_id
WHERE o.user_id = :user_id AND o.state = 'sent'
  AND o.kind IN ({", ".join(f"'{kind}'" for kind in MEETING_DM_KINDS)})
  AND m.starts_at > :now AND m.cancelled_at IS NULL
ORDER BY m.starts_at
"""

SELECT_HINTED = """
SELECT hinted_at
FROM reply_hints
WHERE user_id = :user_id
"""

UPSERT_HINTED = """
INSERT INTO reply_hints (user_id, hinted_at)
VALUES (:user_id, :hinted_at)
ON CONFLICT (user_id) DO UPDATE SET hinted_at = excluded.hinted_at
"""


@dataclass(frozen=True)
class Reply:
    """What to say back (None: nothing), and the meeting whose answers changed, if any."""

    text: str | None
    answered_meeting_id: int | None = None
    join_group_id: int | None = None
    """Not (or no longer) in the meeting's group: the reply offers the Join button."""


def _plain(char: str) -> bool:
    return char.isalnum() or char in " '"


def read_answer(text: str) -> Answer | None:
    """The answer a short message gives ("Going!", "can’t make it 😔", "YES"), or None."""
    if len(text) > LONGEST:
        return None
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = folded.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    # Punctuation and emoji at either end are tolerated, and between words too ("no, sorry").
    words = re.sub(r"[^\w' ]+", " ", folded)
    words = " ".join(word.strip("'") for word in words.split())
    return WORDS.get(words.strip())


async def meeting_for_reply(
    conn: aiosqlite.Connection,
    user_id: int,
    channel_id: int,
    replied_to: int | None,
    now: datetime,
) -> list[int]:
    """The meeting(s) a reply could be about: the replied-to DM's meeting, else every meeting
    still to come that the member was written to about (one: unambiguous). A reply to a
    message not tied to a meeting (not one about a meeting, or one whose record went with
    `/mydata delete`) is about none: another meeting is never guessed for it."""
    if replied_to is not None:
        params = {"message_id": replied_to, "channel_id": channel_id, "user_id": user_id}
        async with conn.execute(SELECT_REPLIED_TO, params) as cursor:
            row = await cursor.fetchone()
        return [] if row is None else [int(row[0])]
    async with conn.execute(SELECT_DM_MEETINGS, {"user_id": user_id, "now": iso(now)}) as cursor:
        return [int(row[0]) for row in await cursor.fetchall()]


async def _hint_once_a_day(conn: aiosqlite.Connection, user_id: int, now: datetime) -> Reply:
    async with transaction(conn):
        async with conn.execute(SELECT_HINTED, {"user_id": user_id}) as cursor:
            row = await cursor.fetchone()
        if row is not None and now - parse(row[0]) < HINT_EVERY:
            return Reply(None)
        await conn.execute(UPSERT_HINTED, {"user_id": user_id, "hinted_at": iso(now)})
    return Reply(texts.reply_hint())


async def answer_by_word(
    conn: aiosqlite.Connection,
    user_id: int,
    channel_id: int,
    text: str,
    replied_to: int | None,
    now: datetime,
    policy: Replanner | None = None,
) -> Reply:
    """Answer for a meeting from a DM the member wrote, as the buttons would."""
    wanted = read_answer(text)
    if wanted is None:
        return await _hint_once_a_day(conn, user_id, now)
    candidates = await meeting_for_reply(conn, user_id, channel_id, replied_to, now)
    if not candidates and replied_to is not None:
        return Reply(texts.reply_which_meeting())
    if not candidates:
        return await _hint_once_a_day(conn, user_id, now)
    if len(candidates) > 1:
        return Reply(texts.reply_which_meeting())
    try:
        result = await answer_meeting(conn, candidates[0], user_id, wanted, now, policy)
    except NotAMember as refusal:
        return Reply(str(refusal), join_group_id=refusal.group_id)
    except HoldfastError as refusal:
        return Reply(str(refusal))
    if not result.changed:
        reply = meeting_texts.answer_unchanged(result.answer.value)
    elif result.answer is Answer.WAITLIST:
        reply = meeting_texts.waitlisted(result.waitlist_position or 1)
    else:
        reply = meeting_texts.answer_recorded(
            result.answer.value, result.meeting.title, result.meeting.starts_at
        )
    return Reply(reply, result.meeting.id)
