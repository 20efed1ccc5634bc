"""APScheduler as the dispatcher's alarm clock, and nothing more.

The outbox is the truth; the scheduler only holds two jobs: a one-off 'date' job at the earliest
due time (re-armed after every run, one job id, so there is never more than one) and a periodic
safety sweep that catches anything the alarm missed (a row planned by another path, a retry
whose lookup failed, a clock jump). Nothing in the scheduler needs to survive a restart.

Both are measured on the bot's clock: APScheduler runs on real time, so every wait is divided by
the clock's speed (1 in production; faster on the demo clock, where a reminder due in five demo
minutes at ten times speed fires thirty real seconds from now).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.base import JobLookupError

from bot.clock import real_delay
from bot.delivery import outbox
from bot.delivery.dispatcher import Dispatcher

log = logging.getLogger(__name__)

ALARM_JOB = "delivery:alarm"
SWEEP_JOB = "delivery:sweep"
SWEEP_EVERY = timedelta(seconds=60)
# However fast the demo clock runs, the sweep comes at most once a real second.
MIN_REAL_SWEEP = timedelta(seconds=1)


def _real_now() -> datetime:
    return datetime.now(UTC)


class Alarm:
    def __init__(
        self,
        dispatcher: Dispatcher,
        scheduler: Any,
        *,
        sweep_every: timedelta = SWEEP_EVERY,
        real_now: Callable[[], datetime] = _real_now,
        explain: Callable[[BaseException], str | None] = lambda error: None,
    ) -> None:
        self.dispatcher = dispatcher
        # The admin's one sentence for a failure that has one (a full disk); None: a traceback.
        self.explain = explain
        self.scheduler = scheduler
        self.sweep_every = sweep_every
        self.real_now = real_now
        self.armed_for: datetime | None = None
        """The due time (on the bot's clock) the alarm is set for, if any."""
        self.startup: asyncio.Task[int] | None = None
        self._tasks: set[asyncio.Task[int]] = set()
        self._stopped = False

    def start(self) -> asyncio.Task[int]:
        """Begin: the first cycle recovers rows left in doubt, sends what is overdue (late
        policy applies) and arms the alarm; the sweep runs every `sweep_every` after that."""
        real_every = max(real_delay(self.dispatcher.clock, self.sweep_every), MIN_REAL_SWEEP)
        self.scheduler.add_job(
            self._fire,
            "interval",
            seconds=real_every.total_seconds(),
            id=SWEEP_JOB,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
        )
        self.startup = self.wake()
        return self.startup

    def wake(self) -> asyncio.Task[int]:
        """Run a cycle now (e.g. just after a meeting was scheduled). Returns the task: callers
        may ignore it (fire and forget) or await it for the number of messages sent."""
        task = asyncio.get_running_loop().create_task(self._cycle(), name="delivery-cycle")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _fire(self) -> None:
        # A long fan-out outlasts the sweep's interval. That is normal, not a warning: while a
        # run is under way the sweep has nothing to add (the run re-arms the alarm when it
        # ends), and returning at once, without waiting for the run, keeps APScheduler from
        # logging "maximum number of running instances reached" every minute.
        if any(not task.done() for task in self._tasks):
            return
        self.wake()

    async def _cycle(self) -> int:
        if self._stopped:
            return 0
        sent = 0
        try:
            sent = await self.dispatcher.cycle()
        except Exception as error:
            # The database or the port broke mid-run: the rows say where things stand, and
            # the sweep comes back to them.
            self._failed("delivery run failed; the next sweep tries again", error)
        if not self._stopped:
            try:
                await self.arm()
            except Exception as error:
                self._failed("could not set the delivery alarm; the sweep still runs", error)
        return sent

    def _failed(self, what: str, error: Exception) -> None:
        plain = self.explain(error)
        if plain is not None:
            log.error("%s: %s", what, plain)
        else:
            log.error("%s", what, exc_info=error)

    async def arm(self) -> datetime | None:
        """Set the one-off job for the earliest pending row (or clear it if there is none)."""
        due = await outbox.next_due(self.dispatcher.conn)
        self.armed_for = due
        if due is None:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(ALARM_JOB)
            return None
        # The delay is measured on the bot's clock (which tests drive by hand) and the job is
        # set on the real clock APScheduler runs on, shortened by the clock's speed: a
        # ManualClock that never moves then simply means the job fires when real time catches
        # up, and tests call wake() themselves.
        clock = self.dispatcher.clock
        delay = max(due - clock.now(), timedelta(0))
        self.scheduler.add_job(
            self._fire,
            "date",
            run_date=self.real_now() + real_delay(clock, delay),
            id=ALARM_JOB,
            replace_existing=True,
            # Late is still useful (the dispatcher applies the late policy), never dropped.
            misfire_grace_time=None,
        )
        return due

    async def stop(self, within_seconds: float = 10.0) -> None:
        """No new cycles; let a send already in flight finish and be recorded (bounded)."""
        self._stopped = True
        for job_id in (ALARM_JOB, SWEEP_JOB):
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(job_id)
        running = {t for t in self._tasks if not t.done()}
        if running:
            _done, still = await asyncio.wait(running, timeout=within_seconds)
            if still:
                log.warning("stopping with a delivery still in flight; it is recovered at start")
