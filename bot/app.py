"""The discord.py runtime: the Bot subclass, where it connects, and running it."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import pkgutil
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import aiosqlite
import discord
import yarl
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from bot import health, notify, texts
from bot.checkins.crypto import KeyProblem, NoteKeys, load_note_keys
from bot.checkins.trends import snapshot_closed_months
from bot.clock import Clock, real_delay
from bot.config import Settings
from bot.db import (
    DiskFullError,
    NewDatabase,
    acquire_process_lock,
    disk_full,
    keep_wal_copied,
    open_database,
    transaction,
)
from bot.delivery.alarm import Alarm
from bot.delivery.dispatcher import LATE_GRACE, Current, Dispatcher, Renderer
from bot.delivery.dm_channels import DmChannels
from bot.delivery.pacer import Pacer
from bot.discord_port import DiscordPyPort, allowed_mentions
from bot.errors import HoldfastError
from bot.groups import access
from bot.groups import service as groups
from bot.groups.model import Group
from bot.meetings import interest, series
from bot.meetings.announcements import refresh_announcement
from bot.meetings.events import EventSync, sync_events
from bot.meetings.recurrence import Lead
from bot.migrate import migrate, schema_version
from bot.planning import Policy, use_defaults
from bot.reminders.model import ReminderPolicy
from bot.reminders.plan import plan_nudges_in_reach
from bot.state import (
    clear_state,
    command_set_digest,
    command_sync_key,
    events_forbidden_key,
    read_state,
    write_state,
)
from bot.texts import checkins as checkin_texts
from bot.texts import fit
from bot.texts import groups as group_texts
from bot.texts import meetings as meeting_texts

log = logging.getLogger(__name__)

COGS_PACKAGE = "cogs"
HORIZON_JOB = "meetings:horizon"
EVENTS_JOB = "meetings:events"
SNAPSHOT_JOB = "checkins:snapshots"
NUDGES_JOB = "reminders:nudges"
# How often each periodic job runs, on the bot's clock.
EVENTS_EVERY = timedelta(minutes=15)
SNAPSHOT_EVERY = timedelta(hours=1)
HORIZON_EVERY = timedelta(hours=6)
NUDGES_EVERY = timedelta(hours=1)
# Real scheduling latency a fast demo clock allows before calling a message late.
DEMO_REAL_SLACK = timedelta(seconds=1)
# The heartbeat (and, under systemd's watchdog, the ping) comes this often, in real time.
HEARTBEAT_EVERY = timedelta(seconds=15)
# However fast the demo clock runs, a periodic job runs at most once a real second.
MIN_REAL_INTERVAL = timedelta(seconds=1)
# Answers arriving together update the announcement once, this long after the first.
REFRESH_SETTLE_SECONDS = 2.0
# How long shutdown waits for handlers that are already running (a member mid-RSVP).
DRAIN_SECONDS = 10.0
# discord.py runs each slash command, button and modal handler in a task with one of these
# names; they are how shutdown finds work that is still in flight.
_HANDLER_TASK_PREFIXES = (
    "CommandTree-invoker",
    "discord-ui-view-dispatch-",
    "discord-ui-modal-dispatch-",
    "discord-ui-dynamic-item-",
    # Listeners that follow a command (e.g. telling a member their DMs were closed) still
    # need the database; discord.py names each event task after its event.
    "discord.py: on_app_command_completion",
    # A member's DM answering by a word (cogs/reminders.py) writes their answer.
    "discord.py: on_message",
)


def point_discord_at(api_base_url: str | None, gateway_url: str | None) -> None:
    """Send discord.py's HTTP and websocket traffic somewhere other than discord.com.

    discord.py has no public option for this; `Route.BASE` (shared by the webhook adapter that
    carries interaction responses) and `DEFAULT_GATEWAY` are the two places it reads. Only the
    test emulator and the demo set these.
    """
    if api_base_url:
        discord.http.Route.BASE = api_base_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


# Discord's global limit does not count interaction responses: the callback
# (/interactions/{id}/{token}/callback) and followups (/webhooks/{application_id}/{token}...).
PACE_EXEMPT_PATHS = ("/interactions/", "/webhooks/")


def takes_a_turn(route: discord.http.Route) -> bool:
    """True for a REST request that counts against Discord's global limit."""
    return not route.path.startswith(PACE_EXEMPT_PATHS)


def pace_requests(http: discord.http.HTTPClient, pacer: Pacer) -> None:
    """Every request through discord.py's HTTP client takes a turn from `pacer` first.

    The turn comes before discord.py's per-route bucket (inside `HTTPClient.request`), so a
    request leaves as soon as its bucket lets it and discord.py's count of each bucket stays
    true. (Interaction responses do not come through here: discord.py sends them with
    discord.webhook.async_; they are exempt anyway.)
    """
    send = http.request
    # discord.py keeps each bucket's count from the response headers, but when many requests
    # for one bucket are in flight their answers come back out of order and an older, higher
    # `remaining` overwrites a newer one: a crowd (a hundred members pressing Join, each a DM
    # channel to open) then overruns the route's limit. So one request per route and major
    # parameter is in flight at a time; different channels still go side by side.
    in_flight: dict[str, asyncio.Lock] = {}

    async def paced(route: discord.http.Route, **kwargs: Any) -> Any:
        if takes_a_turn(route):
            await pacer.turn()
        key = f"{route.key}:{route.major_parameters}"
        async with in_flight.setdefault(key, asyncio.Lock()):
            return await send(route, **kwargs)

    http.request = paced  # type: ignore[method-assign]


def bot_intents() -> discord.Intents:
    # Guilds: channels and roles for permission checks. No privileged intents, no message
    # content: members talk to Holdfast through slash commands, buttons and modals...
    intents = discord.Intents.none()
    intents.guilds = True
    # Who is in a meeting's voice or stage channel, for groups that note who came (not
    # privileged; GUILD_CREATE then also carries the voice states at each connection).
    intents.voice_states = True
    # ...and by replying "going", "maybe" or "can't" to a reminder DM (issue 16). DIRECT_MESSAGES
    # (1 << 12) is not privileged, and DM content reaches a bot without MESSAGE_CONTENT: Discord's
    # "Message Content Intent" lists "Content in DMs with the app" among its exceptions.
    intents.dm_messages = True
    # Interested clicks on the meetings' Events entries (GUILD_SCHEDULED_EVENT_USER_ADD and
    # _REMOVE) need GUILD_SCHEDULED_EVENTS (1 << 16), not privileged either (Gateway, "List of
    # Intents"). How they are read: HoldfastBot.hear_interest.
    intents.guild_scheduled_events = True
    return intents


class HoldfastTree(app_commands.CommandTree["HoldfastBot"]):
    async def on_error(
        self, interaction: discord.Interaction[HoldfastBot], error: app_commands.AppCommandError
    ) -> None:
        original = getattr(error, "original", error)
        if isinstance(original, HoldfastError):
            message = str(original)
        elif isinstance(error, app_commands.CheckFailure):
            message = texts.not_allowed()
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            # The exception, not the interaction's options: those may hold a member's words.
            message = interaction.client.failure_reply(original, f"command /{command}")
        await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction[HoldfastBot], content: str) -> None:
    # The last guard: an error that quotes something long must still reach the person.
    content = fit.clip(content)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(content, ephemeral=True)
        else:
            await interaction.response.send_message(content, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not tell the member about an error (interaction expired)")


@dataclass(frozen=True)
class InterestClick:
    """Someone clicked Interested on a scheduled event (or took it back)."""

    event_id: int
    user_id: int
    interested: bool


@dataclass(frozen=True)
class SyncOutcome:
    scope: str
    synced: bool
    failed: bool = False


class HoldfastBot(commands.Bot):
    """Holdfast's runtime. Services live in `bot/`; cogs reach them through this object."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        # One pace for everything the bot sends (scheduled deliveries, welcome DMs, command
        # syncs...): discord.py learns of the global limit only from a 429.
        pacer = Pacer(settings.SEND_RATE_PER_SECOND)
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=bot_intents(),
            tree_cls=HoldfastTree,
            member_cache_flags=discord.MemberCacheFlags.none(),
            chunk_guilds_at_startup=False,
            max_messages=None,
            guild_ready_timeout=settings.GUILD_READY_TIMEOUT,
            # Nothing Holdfast sends notifies anyone unless that send names whom (a title or a
            # note with "<@id>" or "@everyone" in it stays inert): discord_port.allowed_mentions
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.pacer = pacer
        pace_requests(self.http, pacer)
        self.settings = settings
        self.clock = clock
        # When start-up began (run_bot sets it before migrating), for the start-up figure.
        self.boot_started = time.perf_counter()
        self.started_at: datetime = clock.now()
        self._db: aiosqlite.Connection | None = None
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.sync_outcomes: list[SyncOutcome] = []
        # kind → renderer; cogs add theirs in their extension's setup() (before the first
        # delivery run, which starts at the end of setup_hook).
        self.delivery_renderers: dict[str, Renderer] = {}
        # kind → what a sent message of that kind should say now (kept true after sending).
        self.delivery_current: dict[str, Current] = {}
        self._delivery_db: aiosqlite.Connection | None = None
        self._delivery: Dispatcher | None = None
        self._alarm: Alarm | None = None
        # Its requests keep to the pace above like every other (DM channels: setup_hook).
        self.port = DiscordPyPort(self)
        self._refreshing: dict[int, asyncio.Task[None]] = {}
        self._events_lock = asyncio.Lock()
        self._note_keys: NoteKeys | None = None
        # Whether the gateway is connected (on_connect/on_resumed until on_disconnect).
        self.connected = False
        self._liveness: asyncio.Task[None] | None = None
        self._wal_keeper: asyncio.Task[None] | None = None
        self._beat_now = asyncio.Event()
        self._told_ready = False
        self.watchdog = notify.watchdog_interval()
        # Interested clicks, in the order Discord sent them, and "reconcile with Discord's list"
        # after each new session; one worker takes them in turn (hear_interest).
        self._interest: asyncio.Queue[InterestClick | None] = asyncio.Queue()
        self._interest_worker: asyncio.Task[None] | None = None
        self.hear_interest()

    def hear_interest(self) -> None:
        """Read GUILD_SCHEDULED_EVENT_USER_ADD / _REMOVE from the gateway payload itself.

        discord.py 2.7 dispatches on_scheduled_event_user_add/remove only for users in its
        member cache (state.py parse_guild_scheduled_event_user_add: "referencing unknown user
        ID ... Discarding"), and Holdfast caches no members (no privileged intent); there is no
        raw variant of the event. The choices were: `enable_debug_events` with
        on_socket_raw_receive (every gateway message handed to listeners as text, to be parsed
        a second time, and every payload the bot sends, token included, dispatched too), or
        wrapping discord.py's parser for just these two events (`ConnectionState.parsers`,
        the dict the gateway looks each event up in). The wrapper sees only these events,
        already parsed, synchronously and in gateway order, and then calls discord.py's own
        parser, so nothing else changes. If a future discord.py renames the dict, the click is
        not lost for good: every new session reconciles with Discord's interested-users list
        (on_ready), and a warning says so.
        """
        parsers: dict[str, Callable[[Any], None]] = self._connection.parsers
        for event, interested in (
            ("GUILD_SCHEDULED_EVENT_USER_ADD", True),
            ("GUILD_SCHEDULED_EVENT_USER_REMOVE", False),
        ):
            original = parsers.get(event)
            if original is None:
                log.warning("discord.py has no parser for %s: Interested is reconciled only", event)
                continue

            def parse(
                data: dict[str, Any],
                original: Callable[[Any], None] = original,
                interested: bool = interested,
            ) -> None:
                try:
                    click = InterestClick(
                        int(data["guild_scheduled_event_id"]), int(data["user_id"]), interested
                    )
                except (KeyError, TypeError, ValueError):
                    log.warning("an Interested event without its ids; reconciling instead")
                    self._interest.put_nowait(None)
                else:
                    self._interest.put_nowait(click)
                    if self.get_user(click.user_id) is None:
                        # discord.py would only log the member's id at DEBUG and discard it:
                        # who is interested in a support group's meeting is not for the logs.
                        return
                original(data)

            parsers[event] = parse

    async def take_in_interest(self) -> None:
        """The one worker for Interested clicks (None: reconcile with Discord's lists)."""
        while True:
            work = await self._interest.get()
            try:
                if work is None:
                    await self.reconcile_interest()
                else:
                    outcome, meeting_id = await interest.set_interest(
                        self.db,
                        work.event_id,
                        work.user_id,
                        work.interested,
                        self.clock.now(),
                        self.policy,
                    )
                    self._after_interest(outcome, meeting_id)
            except Exception:
                log.exception("could not take in an Interested click")
            finally:
                self._interest.task_done()

    def _after_interest(self, outcome: interest.Outcome, meeting_id: int | None) -> None:
        if outcome == "nothing":
            return
        if self._alarm is not None:
            self._alarm.wake()  # Maybe's reminders, or the Join offer
        if outcome != "offered_join" and meeting_id is not None:
            self.refresh_announcement_soon(meeting_id)

    async def reconcile_interest(self) -> None:
        """Every meeting still to come with an Events entry: who is interested, by Discord's
        list (Get Guild Scheduled Event Users, 100 a page, ascending by user id), so clicks
        made while the bot was away count, and ones taken back are undone."""
        for mirrored in await interest.mirrored_meetings(self.db, self.clock.now()):
            user_ids: set[int] = set()
            after: int | None = None
            try:
                while True:
                    page = await self.http.get_scheduled_event_users(
                        mirrored.guild_id, mirrored.event_id, 100, False, after=after
                    )
                    user_ids.update(int(entry["user"]["id"]) for entry in page)
                    if len(page) < 100:
                        break
                    after = int(page[-1]["user"]["id"])
            except discord.HTTPException as exc:
                log.warning("could not read an event's interested users (%s)", exc.status)
                continue
            changed = await interest.reconcile(
                self.db, mirrored.meeting_id, user_ids, self.clock.now(), self.policy
            )
            for outcome in set(changed.values()):
                self._after_interest(outcome, mirrored.meeting_id)

    async def on_message(self, message: discord.Message) -> None:
        """Holdfast has no prefix commands: a DM is read only by the reminders cog (answers by
        a word). commands.Bot would otherwise look for a command in every DM that starts with
        a mention and log the words it did not recognise ("Command ... is not found")."""

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("the database is opened in setup_hook")
        return self._db

    @property
    def delivery(self) -> Dispatcher:
        if self._delivery is None:
            raise RuntimeError("the dispatcher is built in setup_hook")
        return self._delivery

    @property
    def alarm(self) -> Alarm:
        if self._alarm is None:
            raise RuntimeError("the delivery alarm is built in setup_hook")
        return self._alarm

    @property
    def note_keys(self) -> NoteKeys:
        if self._note_keys is None:
            raise RuntimeError("the note keys are loaded in setup_hook")
        return self._note_keys

    async def load_keys(self) -> None:
        """The check-in keys; a KeyProblem stops start-up with wording for the admin."""
        configured = tuple(k.get_secret_value() for k in self.settings.NOTE_ENCRYPTION_KEYS)
        loaded = await load_note_keys(
            self.db, configured, self.settings.DATABASE_PATH, self.clock.now()
        )
        if loaded.generated_file is not None:
            log.warning("%s", checkin_texts.key_file_generated(loaded.generated_file))
        self._note_keys = loaded.keys

    async def snapshot_months(self) -> None:
        """Work out each group's month that just closed, once (the view does it too, lazily)."""
        await snapshot_closed_months(self.db, self.settings.PRIVACY_MIN_MEMBERS, self.clock.now())

    def register_renderer(
        self, kind: str, renderer: Renderer, *, current: Current | None = None
    ) -> None:
        """How a capability tells the dispatcher how to build its messages (one per kind), and,
        for a message kept true after sending, what it should say now."""
        if kind in self.delivery_renderers:
            raise ValueError(f"a renderer for {kind!r} is already registered")
        self.delivery_renderers[kind] = renderer
        if current is not None:
            self.delivery_current[kind] = current

    async def setup_hook(self) -> None:
        # What re-plans for what, with the admin's settings (bot/planning.py), for services
        # whose caller names no policy.
        use_defaults(self.policy)
        self._db = await open_database(self.settings.DATABASE_PATH)
        await self.load_keys()
        # The dispatcher has its own connection: its claim and mark transactions must never
        # interleave with a command's transaction on the shared one (SQLite allows one open
        # transaction per connection; WAL and busy_timeout serialise the two writers).
        self._delivery_db = await open_database(self.settings.DATABASE_PATH)
        self.port.dm_channels = DmChannels(self._delivery_db, self.clock.now)
        self._delivery = Dispatcher(
            self._delivery_db,
            self.port,
            self.clock,
            self.delivery_renderers,
            current=self.delivery_current,
            grace=late_grace(self.clock),
        )
        self._alarm = Alarm(self._delivery, self.scheduler, explain=self.plain_failure)
        self.scheduler.start()
        for module in sorted(m.name for m in pkgutil.iter_modules(_cogs_path())):
            if module.startswith("_"):
                continue  # shared helpers for the cogs, not extensions
            await self.load_extension(f"{COGS_PACKAGE}.{module}")
        # setup_hook runs after login, so HTTP works; recovery and sending need nothing from
        # the gateway. The first cycle (recover what is in doubt, send what is overdue, arm the
        # alarm) runs in the background so start-up does not wait on Discord, and it starts as
        # soon as the cogs have registered their renderers: never behind the command sync,
        # which can wait out a long rate limit.
        self._alarm.start().add_done_callback(self._deliveries_ready)
        await self.sync_commands_if_changed()
        await self.extend_meeting_horizon()
        # Periodic work runs on the bot's clock, like the reminders.
        # Once straight away too: catch up on what changed while the bot was stopped.
        self.every(EVENTS_EVERY, self.mirror_events, EVENTS_JOB, at_once=True)
        self.every(SNAPSHOT_EVERY, self.snapshot_months, SNAPSHOT_JOB)
        self.every(HORIZON_EVERY, self.extend_meeting_horizon, HORIZON_JOB)
        # Nudges come into reach as time passes; once straight away catches up after downtime.
        self.every(NUDGES_EVERY, self.plan_nudges_in_reach, NUDGES_JOB, at_once=True)
        self._liveness = asyncio.create_task(self.keep_alive(), name="holdfast-liveness")
        self._wal_keeper = asyncio.create_task(
            keep_wal_copied(self.settings.DATABASE_PATH), name="holdfast-wal-keeper"
        )
        self._interest_worker = asyncio.create_task(
            self.take_in_interest(), name="holdfast-interest"
        )

    def every(
        self,
        interval: timedelta,
        job: Callable[[], Awaitable[object]],
        job_id: str,
        *,
        at_once: bool = False,
    ) -> None:
        """Run `job` every `interval` of the bot's clock (APScheduler counts real time, so the
        interval is divided by the clock's speed; on a fast demo clock at most once a real
        second). `at_once`: also run it straight away."""
        real = max(real_delay(self.clock, interval), MIN_REAL_INTERVAL)

        async def run() -> None:
            try:
                await job()
            except Exception as error:
                plain = self.plain_failure(error)
                if plain is None:
                    raise  # APScheduler logs it, traceback and all
                log.error("%s failed; it runs again later: %s", job_id, plain)

        self.scheduler.add_job(
            run,
            "interval",
            seconds=real.total_seconds(),
            id=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            **({"next_run_time": datetime.now(UTC)} if at_once else {}),
        )

    def _deliveries_ready(self, task: asyncio.Task[int]) -> None:
        """Log when start-up's delivery work is done (recovered, overdue sent, alarm armed)."""
        if task.cancelled() or task.exception() is not None:
            return
        log.info(
            "deliveries ready %.3f s after start: %d sent at start-up, next due %s",
            time.perf_counter() - self.boot_started,
            task.result(),
            self._alarm.armed_for.isoformat() if self._alarm and self._alarm.armed_for else "none",
        )

    @property
    def policy(self) -> Policy:
        return policy_for(self.settings)

    def plain_failure(self, error: BaseException) -> str | None:
        """The admin's one sentence for a failure that has one (a full disk), else None."""
        full = disk_full(error, self.settings.DATABASE_PATH.parent)
        return str(full) if full is not None else None

    def failure_reply(self, error: BaseException, what: str) -> str:
        """What a member is told when `what` (a command, a button: never its options or
        words, which may be a member's) failed with an unexpected `error`; logged for the
        admin. A full disk is said plainly to both: the admin reads where and what to do."""
        full = disk_full(error, self.settings.DATABASE_PATH.parent)
        if full is not None:
            log.error("%s could not be saved: %s", what, full)
            return texts.cannot_save_now()
        log.error("%s failed", what, exc_info=error)
        return texts.something_went_wrong()

    async def extend_meeting_horizon(self) -> None:
        """Keep each series' meetings stored a few months ahead (and their announcements)."""
        added = await series.extend_all(self.db, self.clock.now(), self.policy)
        if added and self._alarm is not None:
            self._alarm.wake()

    async def plan_nudges_in_reach(self) -> None:
        """Plan the nudges of meetings that came close enough since the last run."""
        if await plan_nudges_in_reach(self.db, self.clock.now(), self.policy.reminders):
            self.alarm.wake()

    async def after_meeting_changed(self, meeting_id: int) -> None:
        """Send what the change planned now, and make the posted announcement tell the truth."""
        self.alarm.wake()
        await refresh_announcement(self.db, self.port, meeting_id)
        await self.mirror_events()

    async def after_series_changed(self, change: series.SeriesChange) -> None:
        self.alarm.wake()
        for meeting_id in [*change.retimed, *change.removed]:
            await refresh_announcement(self.db, self.port, meeting_id)
        await self.mirror_events()

    async def mirror_events(self) -> EventSync | None:
        """Bring the servers' Events lists in line with the next meetings (one run at a time)."""
        if self.settings.EVENTS_AHEAD == 0:
            return None
        async with self._events_lock:
            result = await sync_events(
                self.db, self.port, self.clock.now(), self.settings.EVENTS_AHEAD
            )
            for group_id in result.forbidden_groups:
                await self._report_events_forbidden(group_id)
            for group_id in result.synced_groups:
                key = events_forbidden_key(group_id)
                if await read_state(self.db, key) is not None:
                    async with transaction(self.db):
                        await clear_state(self.db, key)
        return result

    async def _report_events_forbidden(self, group_id: int) -> None:
        """Tell the group's facilitators once; everything else carries on working."""
        key = events_forbidden_key(group_id)
        if await read_state(self.db, key) is not None:
            return
        group = await groups.get_group(self.db, group_id)
        where = group.facilitator_channel_id or group.announce_channel_id
        try:
            await self.get_partial_messageable(where).send(
                meeting_texts.events_forbidden(group.facilitator_role_id),
                allowed_mentions=allowed_mentions(roles=(group.facilitator_role_id,)),
            )
        except discord.HTTPException:
            log.warning("could not tell group %s that events cannot be managed", group_id)
            return
        async with transaction(self.db):
            await write_state(self.db, key, "reported", self.clock.now())

    def refresh_announcement_soon(self, meeting_id: int) -> None:
        """Update an announcement's counts once a burst of answers settles.

        Clicks from elsewhere (a reminder, a DM) would otherwise cost one edit each, and
        Discord allows only a few edits a second per channel.
        """
        if meeting_id in self._refreshing:
            return

        async def later() -> None:
            try:
                await asyncio.sleep(REFRESH_SETTLE_SECONDS)
                await refresh_announcement(self.db, self.port, meeting_id)
            finally:
                self._refreshing.pop(meeting_id, None)

        self._refreshing[meeting_id] = asyncio.create_task(
            later(), name=f"refresh-announcement-{meeting_id}"
        )

    async def check_group_health(self, group: Group) -> str | None:
        """Notice a deleted channel or role and remember it for the admins; None if all is well."""
        guild = self.get_guild(group.guild_id)
        problem: str | None = None
        if guild is not None:
            if guild.get_channel(group.announce_channel_id) is None:
                problem = group_texts.channel_missing(group.announce_channel_id)
            elif guild.get_role(group.facilitator_role_id) is None:
                problem = group_texts.role_missing(group.facilitator_role_id)
            else:
                problem = self.role_ping_problem(group)
        await groups.record_problem(self.db, group, problem, self.clock.now())
        return problem

    def role_ping_problem(self, group: Group) -> str | None:
        """What to tell an admin if a mention of the facilitator role would notify nobody."""
        guild = self.get_guild(group.guild_id)
        if guild is None:
            return None
        role = guild.get_role(group.facilitator_role_id)
        channel = guild.get_channel(access.ping_channel_id(group))
        if role is None or channel is None:
            return None  # a deleted role or channel is its own problem
        may_mention_everyone = channel.permissions_for(guild.me).mention_everyone
        if access.role_notifies(role.mentionable, may_mention_everyone):
            return None
        return group_texts.role_not_notified(role.id)

    async def sync_commands_if_changed(self) -> list[SyncOutcome]:
        """Sync slash commands only when they changed: Discord rate-limits syncs hard.

        With GUILD_IDS set, server commands go to those servers, and the commands usable in DMs
        (check-ins, /mydata) are registered globally as well, because Discord offers only global
        commands in DMs. Each scope has its own fingerprint, so each syncs only when it changed.
        """
        assert self.application_id is not None
        outcomes: list[SyncOutcome] = []
        if not self.settings.GUILD_IDS:
            payload = [command.to_dict(self.tree) for command in self.tree.get_commands()]
            outcomes.append(await self._sync_scope(None, payload, self.tree.sync))
            self.sync_outcomes = outcomes
            return outcomes
        dm_usable = [c for c in self.tree.get_commands() if offered_in_dms(c)]
        for guild_id in self.settings.GUILD_IDS:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            for command in dm_usable:
                # Already offered everywhere as a global command; a copy would show it twice.
                self.tree.remove_command(command.name, guild=guild)
            payload = [
                command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)
            ]

            async def sync_guild(guild: discord.Object = guild) -> object:
                return await self.tree.sync(guild=guild)

            outcomes.append(await self._sync_scope(guild_id, payload, sync_guild))
        global_payload = [command.to_dict(self.tree) for command in dm_usable]

        async def sync_global() -> object:
            assert self.application_id is not None
            return await self.http.bulk_upsert_global_commands(
                self.application_id, payload=global_payload
            )

        outcomes.append(await self._sync_scope(None, global_payload, sync_global))
        self.sync_outcomes = outcomes
        return outcomes

    async def _sync_scope(
        self,
        guild_id: int | None,
        payload: list[dict[str, object]],
        sync: Callable[[], Awaitable[object]],
    ) -> SyncOutcome:
        assert self.application_id is not None
        digest = command_set_digest(self.application_id, payload)
        key = command_sync_key(guild_id)
        if await read_state(self.db, key) == digest:
            return SyncOutcome(key, synced=False)
        try:
            await sync()
        except discord.HTTPException as exc:
            # One unreachable server must not keep the bot from serving the others; the
            # hash is not recorded, so the next start tries again.
            log.error("%s", texts.command_sync_failed(guild_id, exc.code))
            return SyncOutcome(key, synced=False, failed=True)
        await write_state(self.db, key, digest, self.clock.now())
        log.info("slash commands synced (%s)", key)
        return SyncOutcome(key, synced=True)

    def real_now(self) -> datetime:
        """Real time, for the heartbeat (the bot's clock differs on the demo clock)."""
        return datetime.now(UTC)

    async def health(self) -> health.Health:
        """The same verdict as `python -m bot health`, for /status."""
        return await health.check(self.db, self.real_now())

    async def on_connect(self) -> None:
        self._set_connected(True)

    async def on_resumed(self) -> None:
        self._set_connected(True)

    async def on_disconnect(self) -> None:
        self._set_connected(False)

    def _set_connected(self, connected: bool) -> None:
        if connected != self.connected:
            self.connected = connected
            self._beat_now.set()  # the heartbeat says so at once

    async def keep_alive(self) -> None:
        """Every few real seconds: write the heartbeat and, under systemd's watchdog, ping it,
        but only while the event loop turns (this task runs), the database answers (the beat
        is written) and the dispatcher is not wedged (no run stuck without a step forward for a
        whole watchdog period). Without the pings systemd restarts the bot."""
        every = HEARTBEAT_EVERY
        if self.watchdog is not None:
            every = min(every, self.watchdog / 2)  # sd_watchdog_enabled(3): half the period
        while not self.is_closed():
            try:
                await health.beat(
                    self.db,
                    pid=os.getpid(),
                    real_now=self.real_now(),
                    clock_now=self.clock.now(),
                    connected=self.connected and not self.is_closed(),
                    started_at=self.started_at,
                )
            except Exception:
                log.exception("could not write the heartbeat")
            else:
                if self.watchdog is not None and self._alarm is not None:
                    stalled = self.delivery.stalled_for()
                    if stalled < self.watchdog.total_seconds():
                        notify.notify("WATCHDOG=1")
                    else:
                        log.error("%s", texts.deliveries_stalled(stalled))
                        notify.notify("STATUS=" + texts.deliveries_stalled(stalled))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._beat_now.wait(), every.total_seconds())
            self._beat_now.clear()

    async def _last_beat(self) -> None:
        """Say in the heartbeat that the bot stopped cleanly (health: "stopped", at once)."""
        try:
            await health.beat(
                self.db,
                pid=os.getpid(),
                real_now=self.real_now(),
                clock_now=self.clock.now(),
                connected=False,
                started_at=self.started_at,
                stopped=True,
            )
        except Exception:
            log.warning("could not record the stop in the heartbeat")

    async def on_ready(self) -> None:
        self._set_connected(True)
        # A new session (start-up, or a reconnect that could not resume): Interested clicks
        # made meanwhile were never sent to us, so read who is interested now.
        self._interest.put_nowait(None)
        if not self._told_ready:
            self._told_ready = True
            notify.notify("READY=1\nSTATUS=" + texts.ready_status(len(self.guilds)))
        user = self.user
        log.info(
            "Holdfast is ready: logged in as %s (%s) in %d server(s)",
            user,
            user.id if user else "?",
            len(self.guilds),
        )

    async def schema_version(self) -> int:
        return await schema_version(self.db)

    async def close(self) -> None:
        """Finish what is in flight, then stop the timer, Discord and the database, in order."""
        if not self.is_closed():
            notify.notify("STOPPING=1")
            if self._liveness is not None:
                self._liveness.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._liveness
                await self._last_beat()
            if self._wal_keeper is not None:
                self._wal_keeper.cancel()  # closing the last connection copies what is left
                with contextlib.suppress(asyncio.CancelledError):
                    await self._wal_keeper
            if self._interest_worker is not None:
                self._interest_worker.cancel()  # Discord's list is read again at the next start
                with contextlib.suppress(asyncio.CancelledError):
                    await self._interest_worker
            if self._alarm is not None:
                # A send already under way finishes and is recorded; nothing new starts.
                await self._alarm.stop(DRAIN_SECONDS)
            if self.scheduler.running:
                self.scheduler.shutdown(wait=True)
            await self.drain_handlers(DRAIN_SECONDS)
            for task in list(self._refreshing.values()):
                task.cancel()  # only a count refresh; the announcement is right at next click
        await super().close()
        if self._delivery_db is not None:
            await self._delivery_db.close()
            self._delivery_db = None
        if self._db is not None:
            await self._db.close()
            self._db = None
            log.info("database closed")

    async def drain_handlers(self, within_seconds: float) -> int:
        """Wait (bounded) for running handlers, which still need HTTP and the database."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within_seconds
        waited = 0
        while (pending := _handler_tasks()) and (remaining := deadline - loop.time()) > 0:
            waited += len(pending)
            await asyncio.wait(pending, timeout=remaining)
        if pending:
            log.warning("stopping with %d handler(s) still running", len(pending))
        return waited


def late_grace(clock: Clock) -> timedelta:
    """When a message counts as late. On the real clock, LATE_GRACE. On a fast demo clock a
    moment of real latency is many demo minutes (a real second at 3600 times speed is an hour),
    so the grace grows by a real second: a reminder that the machine sent as soon as it could
    is not called late."""
    return LATE_GRACE + DEMO_REAL_SLACK * (clock.speed - 1)


def offered_in_dms(
    command: app_commands.Command[Any, ..., Any] | app_commands.Group | app_commands.ContextMenu,
) -> bool:
    contexts = command.allowed_contexts
    return contexts is not None and contexts.dm_channel


def _handler_tasks() -> set[asyncio.Task[object]]:
    current = asyncio.current_task()
    return {
        task
        for task in asyncio.all_tasks()
        if task is not current
        and not task.done()
        and task.get_name().startswith(_HANDLER_TASK_PREFIXES)
    }


def policy_for(s: Settings) -> Policy:
    """The admin's planning choices from the settings (the bot's, and a demo's seeding)."""
    return Policy(
        announce_lead=timedelta(days=s.ANNOUNCE_DAYS_BEFORE),
        reminders=ReminderPolicy(
            leads=tuple(s.reminder_leads),
            nudge=Lead(s.NUDGE_DAYS_BEFORE, "d", f"{s.NUDGE_DAYS_BEFORE}d")
            if s.NUDGE_DAYS_BEFORE
            else None,
            rota_ask=Lead(s.ROTA_ASK_DAYS_BEFORE, "d", f"{s.ROTA_ASK_DAYS_BEFORE}d"),
            rota_escalate=Lead(
                s.ROTA_ESCALATE_HOURS_BEFORE, "h", f"{s.ROTA_ESCALATE_HOURS_BEFORE}h"
            ),
            admins=s.ADMIN_USER_IDS,
        ),
    )


def _cogs_path() -> list[str]:
    package = importlib.import_module(COGS_PACKAGE)
    return list(package.__path__)


async def run_bot(settings: Settings, clock: Clock) -> int:
    """Migrate, connect and serve until SIGINT/SIGTERM. Returns the process exit code."""
    token = settings.token
    assert token is not None
    point_discord_at(settings.DISCORD_API_BASE_URL, settings.DISCORD_GATEWAY_URL)
    boot_started = time.perf_counter()
    # A first migration that fails takes back every file it made (see NewDatabase).
    fresh = NewDatabase.before(settings.DATABASE_PATH)
    with fresh.taken_back_on_failure():
        lock = acquire_process_lock(settings.DATABASE_PATH)
    try:
        with fresh.taken_back_on_failure():
            result = await migrate(settings.DATABASE_PATH, clock.now())
        for line in texts.migrated(result.applied, result.backup).splitlines():
            log.info("%s", line)
        bot = HoldfastBot(settings, clock)
        bot.boot_started = boot_started
        loop = asyncio.get_running_loop()
        stopping: list[asyncio.Task[None]] = []
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, lambda: stopping.append(loop.create_task(bot.close())))
        try:
            try:
                async with bot:
                    await bot.start(token)
            except (OSError, sqlite3.Error) as exc:
                # A start-up write (the key file, the first state rows) that found no room is
                # the admin's to fix, not an unexpected problem or an unreachable Discord.
                full = disk_full(exc, settings.DATABASE_PATH.parent)
                if full is None:
                    raise
                raise full from exc
        except DiskFullError as exc:
            log.error("%s", exc)
            return 1
        except discord.LoginFailure:
            log.error("%s", texts.token_rejected())
            return 1
        except (aiohttp.ClientConnectionError, discord.GatewayNotFound, OSError) as exc:
            log.error("%s", texts.cannot_reach_discord(type(exc).__name__))
            return 1
        except KeyProblem as exc:
            log.error("%s", exc)
            return 1
        except discord.PrivilegedIntentsRequired:
            log.error("%s", texts.intents_refused())
            return 1
        except Exception:
            log.error("%s", texts.unexpected_stop())
            log.debug("what went wrong", exc_info=True)
            return 1
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
            if stopping:
                await asyncio.gather(*stopping)
        log.info("Holdfast stopped cleanly.")
        return 0
    finally:
        lock.release()
