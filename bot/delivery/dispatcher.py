"""The dispatcher: claims due outbox rows and sends them, exactly once, through the port.

The order is what makes "exactly once" hold across crashes:

1. claim (pending → sending, attempts + 1, nonce stored) and COMMIT, before Discord is called;
2. render and send with the stored nonce (Discord's enforce_nonce turns a repeat into the
   first message);
3. record the outcome (sent with the message id, or back to pending, skipped, failed).

A crash between 1 and 3 leaves the row 'sending': *in doubt*. `recover_in_doubt` then looks for
the row's marker among the bot's recent messages at the destination; found means it was sent,
not found means it goes back to pending and is sent again with the same nonce. A retry after an
error (a 5xx or timeout may come after Discord took the message) looks for the marker too before
sending again: the nonce only de-duplicates for a few minutes, and the bot may be down longer.

A message that stays on show and tells the truth about something that changes (a meeting's
announcement) registers a *current* view for its kind: what the message should say now. Once it
is recorded as sent, the dispatcher asks again and edits the message if the answer differs from
what went out, so a change committed while the message was on its way to Discord (when there
was nothing posted yet to edit) is never lost. After a crash the sent text is unknown, so it
edits whatever it finds.

Nothing here logs or stores a message's content: only ids, kinds and safe reasons.
"""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from bot.clock import Clock
from bot.db import transaction
from bot.delivery import outbox
from bot.delivery.outbox import TOO_LATE, Delivery
from bot.delivery.port import DeliveryFailed, DiscordPort, OutgoingMessage, Sent

log = logging.getLogger(__name__)

# A message sent within this long after its due time is simply on time; after it, renderers are
# told (RenderContext.late) so they can say plainly that it comes late.
LATE_GRACE = timedelta(minutes=2)
# How long past its window a row whose earlier attempt may have reached Discord is looked for
# again when Discord cannot be asked (found: sent; not there: skipped; never sent anew).
LOOK_AGAIN_FOR = timedelta(days=1)


@dataclass(frozen=True)
class RenderContext:
    now: datetime
    late: bool
    """True when the message goes out noticeably after its due time (e.g. after downtime)."""


@dataclass(frozen=True)
class Skip:
    """A renderer's answer when the message should not be sent after all (e.g. the member
    already RSVPed). `reason` is recorded; it must not contain anything private."""

    reason: str


@dataclass(frozen=True)
class Defer:
    """A renderer's answer when the message should go, but not yet (e.g. a reminder sent late
    after downtime would land in the member's quiet hours): the row waits, pending, until
    `until`, and is rendered again then. `reason` is recorded; nothing private in it."""

    until: datetime
    reason: str


Renderer = Callable[
    [aiosqlite.Connection, Delivery, RenderContext], Awaitable[OutgoingMessage | Skip | Defer]
]


Current = Callable[[aiosqlite.Connection, Delivery], Awaitable[OutgoingMessage | None]]
"""What a sent message of some kind should say now (None: leave it as it is)."""


class MarkerMissingError(Exception):
    """A renderer built a message without the delivery's marker in a button custom_id.

    A programming error: without the marker a crash mid-send could not be recovered without
    risking a duplicate, so such a message is never sent."""


@dataclass(frozen=True)
class Backoff:
    """Exponential retry delays: first, then doubling, capped; plus up to `jitter` of the delay
    (random by default, injectable for tests) so many retries do not land at once."""

    first: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=10)
    jitter: float = 0.2

    def delay(self, attempts: int, spread: float) -> timedelta:
        """The wait after the `attempts`-th failed attempt; `spread` is in [0, 1)."""
        # The doubling stops once it passes the cap (a row looked for again all day can count
        # a hundred attempts; 5 s x 2**100 is beyond what a timedelta holds).
        doublings = min(max(attempts - 1, 0), 32)
        base: timedelta = min(self.first * (2**doublings), self.cap)
        return base * (1 + self.jitter * spread)


@dataclass(frozen=True)
class RecoveryResult:
    found: int = 0
    """Messages that had been sent: marked sent, not sent again."""
    requeued: int = 0
    """Messages that had not been sent: back to pending, same nonce."""
    failed: int = 0
    unresolved: int = 0
    """Discord could not be asked (transient error): still in doubt, tried again later."""


def require_marker(message: OutgoingMessage, delivery: Delivery) -> None:
    if not message.carries_marker(delivery.marker):
        raise MarkerMissingError(
            f"the {delivery.kind!r} renderer must put {delivery.marker!r} as a ':'-separated "
            "segment of a button custom_id"
        )


class Dispatcher:
    def __init__(
        self,
        conn: aiosqlite.Connection,
        port: DiscordPort,
        clock: Clock,
        renderers: Mapping[str, Renderer],
        *,
        current: Mapping[str, Current] | None = None,
        grace: timedelta = LATE_GRACE,
        backoff: Backoff | None = None,
        spread: Callable[[], float] = random.random,
        new_nonce: Callable[[], str] = lambda: secrets.token_hex(12),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.conn = conn
        self.port = port
        self.clock = clock
        # Read at send time, so renderers registered after construction are seen.
        self.renderers = renderers
        self.current = current if current is not None else {}
        self.grace = grace
        self.backoff = backoff or Backoff()
        self.spread = spread
        # Discord accepts nonces of up to 25 characters; 24 hex characters are 96 random bits.
        self.new_nonce = new_nonce
        # One run at a time: the alarm, the sweep and direct callers never overlap, so a row
        # seen 'sending' while holding the lock is truly in doubt, never merely in flight.
        self.lock = asyncio.Lock()
        # Rows recovery has just looked for in Discord and not found (this cycle only): their
        # send need not look again (5 rows in doubt in one channel were 10 history reads,
        # past the route's limit, and start-up waited a second for it).
        self._looked_for: set[int] = set()
        # Real time (monotonic) of the last step forward: a run started, a row was handled.
        self.monotonic = monotonic
        self.progress_at = monotonic()

    def stalled_for(self) -> float:
        """Real seconds a run has gone without a step forward (0 when idle): how the watchdog
        tells a wedged dispatcher (a send that never returns) from a busy one."""
        if not self.lock.locked():
            return 0.0
        return max(self.monotonic() - self.progress_at, 0.0)

    def _progress(self) -> None:
        self.progress_at = self.monotonic()

    async def run_due(self) -> int:
        """Send every row due now, one at a time, earliest first. Returns how many were sent."""
        async with self.lock:
            self._progress()
            return await self._send_due()

    async def recover_in_doubt(self) -> RecoveryResult:
        """Settle rows left 'sending' by a process that stopped mid-send."""
        async with self.lock:
            self._progress()
            try:
                return await self._recover()
            finally:
                self._looked_for.clear()  # only a send in the same cycle may rely on its look

    async def cycle(self) -> int:
        """Recover anything in doubt, then send what is due: the alarm's one job."""
        async with self.lock:
            self._progress()
            try:
                await self._recover()
                return await self._send_due()
            finally:
                self._looked_for.clear()

    async def _send_due(self) -> int:
        sent = 0
        while (delivery := await self._claim_next()) is not None:
            self._progress()
            if await self._deliver(delivery):
                sent += 1
            self._progress()
        return sent

    # --- claiming ----------------------------------------------------------------------------

    async def _claim_next(self) -> Delivery | None:
        """The next due row, now 'sending' (committed). Rows too late are skipped on the way."""
        while True:
            now = self.clock.now()
            # Most cycles find nothing due: a plain read says so without taking the write lock
            # (which a member's click may be waiting for).
            if await outbox.first_due(self.conn, now) is None:
                return None
            async with transaction(self.conn):
                row = await outbox.first_due(self.conn, now)
                if row is None:
                    return None
                if now > row.not_after and row.attempts == 0:
                    await outbox.mark_final(self.conn, row.id, "skipped", TOO_LATE, now)
                    log.info("delivery %d (%s) skipped: too late", row.id, row.kind)
                    continue
                # Too late after an attempt that may have reached Discord: claimed, so that
                # _deliver looks for it first and records what really happened.
                await outbox.claim(self.conn, row.id, self.new_nonce(), now)
                claimed = await outbox.get(self.conn, row.id)
            assert claimed is not None
            assert claimed.state == "sending"
            return claimed

    # --- one delivery ------------------------------------------------------------------------

    async def _deliver(self, delivery: Delivery) -> bool:
        # Recovery looked for it a moment ago in this cycle, under the same lock: not there.
        if delivery.attempts > 1 and delivery.id not in self._looked_for:
            earlier = await self._earlier_attempt(delivery)
            if earlier is not None:
                return earlier
        now = self.clock.now()
        if now > delivery.not_after:
            await self._final(delivery, "skipped", TOO_LATE)
            log.info("delivery %d (%s) skipped: too late", delivery.id, delivery.kind)
            return False
        renderer = self.renderers.get(delivery.kind)
        if renderer is None:
            log.error("delivery %d: no renderer for kind %r", delivery.id, delivery.kind)
            await self._final(delivery, "failed", f"no renderer for kind {delivery.kind!r}")
            return False
        context = RenderContext(now=now, late=now > delivery.due_at + self.grace)
        try:
            rendered = await renderer(self.conn, delivery, context)
            if isinstance(rendered, OutgoingMessage):
                require_marker(rendered, delivery)
            elif isinstance(rendered, Defer):
                if rendered.until <= now:
                    raise ValueError(f"a renderer deferred to {rendered.until}, not later")
            elif not isinstance(rendered, Skip):
                raise TypeError(
                    f"a renderer returns OutgoingMessage, Skip or Defer, not {rendered!r}"
                )
        except Exception as exc:
            # A bug, not Discord: record it and carry on with the other rows.
            log.exception("delivery %d: the %r renderer failed", delivery.id, delivery.kind)
            await self._final(delivery, "failed", f"renderer error: {type(exc).__name__}")
            return False
        if isinstance(rendered, Skip):
            await self._final(delivery, "skipped", rendered.reason)
            log.info("delivery %d (%s) skipped: %s", delivery.id, delivery.kind, rendered.reason)
            return False
        if isinstance(rendered, Defer):
            # Never past not_after: the late policy then skips it as too late when it comes up.
            await outbox.requeue(self.conn, delivery.id, rendered.until, rendered.reason, now)
            log.info(
                "delivery %d (%s) waits until %s: %s",
                delivery.id,
                delivery.kind,
                rendered.until.isoformat(),
                rendered.reason,
            )
            return False
        assert delivery.nonce is not None
        try:
            sent = await self.port.send(delivery.destination, rendered, nonce=delivery.nonce)
        except DeliveryFailed as exc:
            await self._failed_attempt(delivery, exc)
            return False
        except Exception as exc:
            # Unknown whether Discord took it; retrying with the same nonce is safe.
            log.exception("delivery %d: unexpected error while sending", delivery.id)
            failure = DeliveryFailed(f"unexpected error: {type(exc).__name__}", permanent=False)
            await self._failed_attempt(delivery, failure)
            return False
        await outbox.mark_sent(self.conn, delivery.id, sent, self.clock.now())
        log.info(
            "delivery %d (%s) sent as message %d (attempt %d)",
            delivery.id,
            delivery.kind,
            sent.message_id,
            delivery.attempts,
        )
        await self._keep_current(delivery, sent, rendered)
        return True

    async def _earlier_attempt(self, delivery: Delivery) -> bool | None:
        """A retry: an earlier attempt may have reached Discord even though the bot heard an
        error (a 5xx after processing, a response that never came). Within Discord's nonce
        window the same nonce brings back that message; after it (the bot was down before it
        could retry) only the marker shows it, so look before sending again.

        True: it had been sent (now marked so). False: the look failed (handled as a failed
        attempt). None: not there, send it."""
        try:
            found = await self.port.find_marker(delivery.destination, delivery.marker)
        except DeliveryFailed as exc:
            await self._failed_look(delivery, exc)
            return False
        if found is None:
            return None
        await outbox.mark_sent(self.conn, delivery.id, found, self.clock.now())
        log.info(
            "delivery %d had reached Discord on an earlier attempt (message %d)",
            delivery.id,
            found.message_id,
        )
        await self._keep_current(delivery, found, None)
        return True

    async def _keep_current(
        self, delivery: Delivery, sent: Sent, sent_as: OutgoingMessage | None
    ) -> None:
        """Edit a just-recorded message whose kind keeps it current, if what it should say now
        differs from `sent_as` (None: unknown, after a crash). Best effort: the message is
        sent either way, and the next change edits it again."""
        view = self.current.get(delivery.kind)
        if view is None:
            return
        try:
            now_says = await view(self.conn, delivery)
        except Exception:
            log.exception("delivery %d: the %r current view failed", delivery.id, delivery.kind)
            return
        if now_says is None or now_says == sent_as:
            return
        try:
            await self.port.edit(sent.channel_id, sent.message_id, now_says)
        except DeliveryFailed as exc:
            log.warning("delivery %d: could not bring it up to date: %s", delivery.id, exc.reason)
            return
        log.info("delivery %d (%s) brought up to date after sending", delivery.id, delivery.kind)

    async def _failed_look(self, delivery: Delivery, failure: DeliveryFailed) -> None:
        """Discord could not be asked whether an earlier attempt reached it. Only a look can
        tell sent from not sent, so it is tried again, past the row's window if need be (a
        member may have the message), for LOOK_AGAIN_FOR; then the row is given up as failed."""
        retry_at = self.clock.now() + self.backoff.delay(delivery.attempts, self.spread())
        if failure.permanent or retry_at > delivery.not_after + LOOK_AGAIN_FOR:
            await self._failed_attempt(delivery, failure)
            return
        await outbox.requeue(self.conn, delivery.id, retry_at, failure.reason, self.clock.now())
        log.info(
            "delivery %d (%s): will look again at %s whether it reached Discord: %s",
            delivery.id,
            delivery.kind,
            retry_at.isoformat(),
            failure.reason,
        )

    async def _failed_attempt(self, delivery: Delivery, failure: DeliveryFailed) -> None:
        now = self.clock.now()
        if failure.permanent:
            await self._final(delivery, "failed", failure.reason)
            log.warning("delivery %d (%s) failed: %s", delivery.id, delivery.kind, failure.reason)
            return
        retry_at = now + self.backoff.delay(delivery.attempts, self.spread())
        if retry_at > delivery.not_after:
            reason = f"gave up after {delivery.attempts} attempt(s): {failure.reason}"
            await self._final(delivery, "failed", reason)
            log.warning("delivery %d (%s) failed: %s", delivery.id, delivery.kind, reason)
            return
        await outbox.requeue(self.conn, delivery.id, retry_at, failure.reason, now)
        log.info(
            "delivery %d (%s) will be retried at %s: %s",
            delivery.id,
            delivery.kind,
            retry_at.isoformat(),
            failure.reason,
        )

    async def _final(self, delivery: Delivery, state: outbox.State, reason: str) -> None:
        assert state in ("skipped", "failed")
        await outbox.mark_final(self.conn, delivery.id, state, reason, self.clock.now())

    # --- recovery ----------------------------------------------------------------------------

    async def _recover(self) -> RecoveryResult:
        found = requeued = failed = unresolved = 0
        for delivery in await outbox.in_doubt(self.conn):
            self._progress()
            now = self.clock.now()
            try:
                sent = await self.port.find_marker(delivery.destination, delivery.marker)
            except DeliveryFailed as exc:
                if exc.permanent:
                    # The destination is gone or closed to us: nothing there can be seen, and
                    # nothing more can be sent.
                    await outbox.mark_final(self.conn, delivery.id, "failed", exc.reason, now)
                    failed += 1
                else:
                    unresolved += 1
                log.warning("delivery %d in doubt, lookup failed: %s", delivery.id, exc.reason)
                continue
            if sent is not None:
                await outbox.mark_sent(self.conn, delivery.id, sent, now)
                found += 1
                log.info(
                    "delivery %d was sent before the restart (message %d)",
                    delivery.id,
                    sent.message_id,
                )
                await self._keep_current(delivery, sent, None)
            else:
                await outbox.requeue(self.conn, delivery.id, now, "in doubt: not found", now)
                self._looked_for.add(delivery.id)
                requeued += 1
                log.info("delivery %d was not sent before the restart; sending again", delivery.id)
        return RecoveryResult(found, requeued, failed, unresolved)
