"""`holdfast` / `python -m bot`: run, migrate, check-config, gen-key, backup, preview-schedule.

Exit codes: 0 fine, 1 something failed at run time (database, Discord), 2 the settings or the
command line need fixing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

from cryptography.fernet import Fernet

from bot import __version__, health, texts
from bot.backup import BackupError, backup_and_keep, backup_database
from bot.checkins.crypto import (
    KeyProblem,
    NoteKeys,
    key_file_path,
    load_note_keys,
    read_key_file,
    rotate_keys,
    write_key_file,
)
from bot.clock import Clock, RunningClock, SystemClock
from bot.config import ConfigError, Settings, load_settings, masked
from bot.db import (
    DatabaseError,
    NewDatabase,
    acquire_process_lock,
    inspect_file,
    open_database,
)
from bot.logs import configure_logging
from bot.meetings.recurrence import (
    Lead,
    RuleError,
    Schedule,
    load_zone_or_error,
    local_iso,
    occurrences,
    parse_leads,
    parse_local_time,
    parse_rule,
    resolve_local,
    utc_iso,
)
from bot.migrate import load_migrations, migrate
from bot.reminders.plan import reminder_times
from bot.texts import checkins as checkin_texts
from bot.texts import health as health_texts
from bot.texts import recurrence as recurrence_texts
from bot.zones import use_bundled_tzdata

EXIT_OK, EXIT_FAILED, EXIT_CONFIG = 0, 1, 2
PREVIEW_DEFAULT_COUNT, PREVIEW_MAX_COUNT = 12, 1000


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="holdfast",
        description="Holdfast: monthly meetings, reminders and check-ins for support groups.",
    )
    parser.add_argument("--version", action="version", version=f"holdfast {__version__}")
    parser.add_argument(
        "--env-file",
        type=Path,
        default=None,
        help="settings file to read (default: .env in the current folder, if there is one)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("run", help="apply migrations and start the bot (the default)")
    sub.add_parser("migrate", help="bring the database up to date, then exit")
    sub.add_parser("check-config", help="check every setting and show the effective configuration")
    sub.add_parser("gen-key", help="print a new key for NOTE_ENCRYPTION_KEYS")
    sub.add_parser("rotate-keys", help="re-encrypt every check-in note with the newest note key")
    health_parser = sub.add_parser(
        "health",
        help="exit 0 if the running bot is healthy, else 1 with one line saying why",
    )
    health_parser.add_argument(
        "--max-age",
        default=str(int(health.MAX_BEAT_AGE.total_seconds())),
        help="seconds a heartbeat may be old (default 60)",
    )
    health_parser.add_argument(
        "--overdue-minutes",
        default=str(int(health.OVERDUE_AFTER.total_seconds() // 60)),
        help="minutes a delivery may wait past its time (default 15)",
    )
    backup = sub.add_parser(
        "backup", help="save a consistent copy of the database, even while the bot runs"
    )
    backup.add_argument("path", type=Path, help="file (or folder) to write the copy to")
    backup.add_argument(
        "--keep",
        default=None,
        help="PATH is a folder: write a dated copy there and keep only the newest N",
    )
    preview = sub.add_parser(
        "preview-schedule",
        help="show when a rule's next meetings (and reminders) fall; needs no settings",
    )
    preview.add_argument(
        "--rule",
        required=True,
        help='"last thursday", "second tue", "day 15", "weekly mon", "fortnightly fri" or '
        '"RRULE:..."',
    )
    preview.add_argument("--time", required=True, help="local start time: 19:30, 7:30pm or 7pm")
    preview.add_argument("--tz", required=True, help="IANA time zone, e.g. Europe/London")
    preview.add_argument(
        "--from",
        dest="from_date",
        default=None,
        help="first local date, YYYY-MM-DD (default: today in that zone)",
    )
    # Read as text so a bad value gets Holdfast's one-line explanation, not argparse's usage.
    preview.add_argument(
        "--count", default=str(PREVIEW_DEFAULT_COUNT), help="how many meetings (default 12)"
    )
    preview.add_argument("--leads", default=None, help="reminder lead times, e.g. 7d,1d,2h")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    use_bundled_tzdata()
    command = args.command or "run"
    if command == "gen-key":
        print(Fernet.generate_key().decode())
        return EXIT_OK
    if command == "preview-schedule":
        # Pure arithmetic: handled before any settings are read, so it needs no .env or token.
        return preview_schedule(args, SystemClock().now())
    if args.env_file is not None and not args.env_file.is_file():
        print(texts.env_file_missing(args.env_file), file=sys.stderr)
        return EXIT_CONFIG
    default_env = Path(".env")
    env_file = args.env_file or (default_env if default_env.is_file() else None)
    try:
        # A backup only reads the database: its folder may be read-only.
        settings = load_settings(env_file, writes_database=command != "backup")
    except ConfigError as exc:
        _print_problems([p.message for p in exc.problems])
        return EXIT_CONFIG
    if command == "check-config":
        return check_config(settings)
    if command == "health":
        return health_command(settings, args, SystemClock().now())
    configure_logging(settings.LOG_LEVEL, _secrets(settings))
    try:
        if command == "migrate":
            return migrate_command(settings)
        if command == "rotate-keys":
            return rotate_keys_command(settings)
        if command == "backup":
            return backup_command(settings, args, SystemClock().now())
        if settings.token is None:
            print(texts.missing_token(args.env_file or default_env), file=sys.stderr)
            return EXIT_CONFIG
        from bot.app import run_bot

        return asyncio.run(run_bot(settings, clock_for(settings)))
    except (DatabaseError, BackupError, KeyProblem) as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return EXIT_OK


def preview_schedule(args: argparse.Namespace, now: datetime) -> int:
    option = "--rule"
    try:
        rule = parse_rule(args.rule)
        option = "--time"
        local_time = parse_local_time(args.time)
        option = "--tz"
        zone = load_zone_or_error(args.tz)
        option = "--from"
        start = _parse_from(args.from_date) if args.from_date else now.astimezone(zone).date()
        option = "--count"
        count = _parse_count(args.count)
        option = "--leads"
        leads = parse_leads(args.leads) if args.leads is not None else []
    except RuleError as exc:
        # One line naming the option and the value, so a typo is found at a glance.
        print(f"{option}: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    schedule = Schedule(rule=rule, local_time=local_time, zone=zone.key, anchor=start)
    after = resolve_local(datetime.combine(start, time()), zone)
    for line in preview_lines(schedule, occurrences(schedule, after=after, count=count), leads):
        print(line)
    return EXIT_OK


def preview_lines(schedule: Schedule, starts: list[datetime], leads: list[Lead]) -> list[str]:
    """One line per meeting (local ISO with offset, then UTC), each followed by its reminders."""
    lines: list[str] = []
    for start in starts:
        lines.append(f"{local_iso(start, schedule.zone)}  {utc_iso(start)}")
        # The very function the bot plans reminders with (before a member's quiet hours).
        for lead, due in zip(leads, reminder_times(start, leads, schedule.zone), strict=True):
            lines.append(f"  {lead.text}  {local_iso(due, schedule.zone)}  {utc_iso(due)}")
    return lines


def _parse_from(text: str) -> date:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            pass
    raise RuleError(recurrence_texts.date_not_understood(text))


def _parse_count(text: str) -> int:
    cleaned = text.strip()
    if cleaned.isdigit() and 1 <= int(cleaned) <= PREVIEW_MAX_COUNT:
        return int(cleaned)
    raise RuleError(recurrence_texts.count_out_of_range(text, PREVIEW_MAX_COUNT))


def clock_for(settings: Settings) -> Clock:
    """The real clock, or (emulator only; the settings refuse it otherwise) one that starts at
    CLOCK_START and runs CLOCK_SPEED times real speed."""
    if settings.CLOCK_START is None:
        return SystemClock()
    return RunningClock(settings.CLOCK_START, settings.CLOCK_SPEED)


def migrate_command(settings: Settings) -> int:
    # A first migration that fails takes back every file it made (see NewDatabase).
    fresh = NewDatabase.before(settings.DATABASE_PATH)
    with fresh.taken_back_on_failure():
        lock = acquire_process_lock(settings.DATABASE_PATH)
    try:
        with fresh.taken_back_on_failure():
            result = asyncio.run(migrate(settings.DATABASE_PATH, SystemClock().now()))
    finally:
        lock.release()
    print(texts.migrated(result.applied, result.backup))
    return EXIT_OK


def rotate_keys_command(settings: Settings) -> int:
    """Re-encrypt every note with the newest key. With a generated key file (and no keys in the
    environment) a new key is added to the front of the file first, keeping the old ones, so a
    crash part-way leaves every note readable."""
    fresh = NewDatabase.before(settings.DATABASE_PATH)
    with fresh.taken_back_on_failure():
        lock = acquire_process_lock(settings.DATABASE_PATH)
    try:
        with fresh.taken_back_on_failure():
            notes, added_to = asyncio.run(_rotate(settings))
    finally:
        lock.release()
    print(checkin_texts.keys_rotated(notes, added_to))
    return EXIT_OK


async def _rotate(settings: Settings) -> tuple[int, Path | None]:
    now = SystemClock().now()
    await migrate(settings.DATABASE_PATH, now)
    conn = await open_database(settings.DATABASE_PATH)
    try:
        configured = tuple(k.get_secret_value() for k in settings.NOTE_ENCRYPTION_KEYS)
        # Checks the keys open this database before anything changes.
        loaded = await load_note_keys(conn, configured, settings.DATABASE_PATH, now)
        keys, added_to = loaded.keys, None
        if not configured:
            key_file = key_file_path(settings.DATABASE_PATH)
            new_keys = [Fernet.generate_key().decode(), *read_key_file(key_file)]
            write_key_file(key_file, new_keys)
            keys = NoteKeys.from_keys(new_keys, loaded.keys.member_secret)
            added_to = key_file
        return await rotate_keys(conn, keys, now), added_to
    finally:
        await conn.close()


def backup_command(settings: Settings, args: argparse.Namespace, now: datetime) -> int:
    if args.keep is None:
        written = backup_database(settings.DATABASE_PATH, args.path)
        print(texts.backup_done(written, written.stat().st_size))
    else:
        if not args.keep.strip().isdigit() or int(args.keep) < 1:
            print(texts.positive_number_needed("--keep", args.keep), file=sys.stderr)
            return EXIT_CONFIG
        keep = int(args.keep)
        rotation = backup_and_keep(settings.DATABASE_PATH, args.path, keep, now)
        written = rotation.written
        print(texts.backups_rotated(written, written.stat().st_size, len(rotation.removed), keep))
    key_file = key_file_path(settings.DATABASE_PATH)
    if key_file.is_file():
        print(texts.backup_keys_reminder(key_file))
    return EXIT_OK


def health_command(settings: Settings, args: argparse.Namespace, now: datetime) -> int:
    """One line; 0 healthy, 1 not (or the database cannot be read), 2 a bad option."""
    limits: list[int] = []
    for option, text in (("--max-age", args.max_age), ("--overdue-minutes", args.overdue_minutes)):
        if not text.strip().isdigit() or int(text) < 1:
            print(texts.positive_number_needed(option, text), file=sys.stderr)
            return EXIT_CONFIG
        limits.append(int(text))
    try:
        verdict = health.check_file(
            settings.DATABASE_PATH,
            now,
            max_age=timedelta(seconds=limits[0]),
            overdue_after=timedelta(minutes=limits[1]),
        )
    except sqlite3.Error as exc:
        print(health_texts.unreadable(settings.DATABASE_PATH, exc), file=sys.stderr)
        return EXIT_FAILED
    print(verdict.line(), file=sys.stdout if verdict.healthy else sys.stderr)
    return EXIT_OK if verdict.healthy else EXIT_FAILED


def check_config(settings: Settings) -> int:
    problems: list[str] = []
    if settings.token is None:
        problems.append(
            "DISCORD_TOKEN is not set. Put the bot's token in .env (run `make run` without a "
            "token for step-by-step guidance)."
        )
    print("Effective configuration:")
    for key, value in masked(settings).items():
        print(f"  {key} = {value}")
    try:
        print(f"  Database: {describe_database(settings.DATABASE_PATH)}")
    except DatabaseError as exc:
        problems.append(str(exc))
    if problems:
        _print_problems(problems)
        return EXIT_CONFIG
    print("All settings look good.")
    return EXIT_OK


def describe_database(path: Path) -> str:
    if not inspect_file(path):
        return f"{path} (not created yet; it will be made on first start)"
    return f"{path} (exists; {len(load_migrations())} migration(s) shipped)"


def _print_problems(problems: list[str]) -> None:
    print(texts.config_problems_heading(len(problems)), file=sys.stderr)
    for problem in problems:
        print(f"  - {problem}", file=sys.stderr)


def _secrets(settings: Settings) -> list[str]:
    keys = [key.get_secret_value() for key in settings.NOTE_ENCRYPTION_KEYS]
    return [s for s in [settings.token, *keys] if s]
