"""Every sentence Holdfast says to a person lives in this package, one module per capability,
so the voice stays the same everywhere: warm, plain, short, UK English, never clinical or judging.
"""

from __future__ import annotations

from pathlib import Path

from bot import __version__

PRODUCT = "Holdfast"

# Permissions the bot asks for in its invite link, and why (the README repeats this list).
BOT_PERMISSIONS_WHY: tuple[tuple[str, str], ...] = (
    ("View Channels", "to see the channels it posts in"),
    ("Send Messages", "to post meeting announcements and reminders"),
    ("Send Messages in Threads", "to answer in threads"),
    ("Embed Links", "to show meeting cards"),
    ("Attach Files", "to attach calendar files and charts"),
    ("Read Message History", "to check it never posts a reminder twice"),
    ("Create Events", "to add meetings to the server's Events list"),
    ("Manage Events", "to move or cancel those events"),
)
# discord.Permissions(...) of the list above; tests/test_texts.py keeps them in step.
BOT_PERMISSIONS_VALUE = 17875654003712


def invite_url(application_id: str = "YOUR_APPLICATION_ID") -> str:
    return (
        "https://discord.com/oauth2/authorize"
        f"?client_id={application_id}&scope=bot+applications.commands"
        f"&permissions={BOT_PERMISSIONS_VALUE}"
    )


def missing_token(env_file: Path | None) -> str:
    where = str(env_file) if env_file else ".env"
    perms = "\n".join(f"       - {name}: {why}" for name, why in BOT_PERMISSIONS_WHY)
    return f"""\
Holdfast needs a Discord bot token before it can start.

  1. Create the Discord application (once):
     - Open https://discord.com/developers/applications and choose "New Application".
     - Under "Bot", choose "Reset Token" and copy the token. Keep it secret, like a password.
     - No privileged intents are needed; leave them switched off.
  2. Put the token in {where} (copy .env.example to {where} if you have not yet):
       DISCORD_TOKEN=paste-the-token-here
  3. Invite the bot to your server. Replace YOUR_APPLICATION_ID with the "Application ID"
     from the "General Information" page, then open this link:
       {invite_url()}
     Scopes: bot and applications.commands. Permissions it asks for:
{perms}
  4. Optional: set GUILD_IDS to your server's id so slash commands appear straight away.

Then run `make run` again. `python -m bot check-config` checks every setting."""


def env_file_missing(path: Path) -> str:
    return f"There is no settings file at {path}. Check the path given to --env-file."


def token_rejected() -> str:
    return (
        "Discord did not accept DISCORD_TOKEN. It may have been reset or copied incompletely. "
        "In the Developer Portal open your application, choose Bot, then Reset Token, and put "
        "the new token in .env."
    )


def cannot_reach_discord(reason: str) -> str:
    return (
        f"Holdfast could not reach Discord ({reason}). Check the internet connection and try again."
    )


def command_sync_failed(guild_id: int | None, code: int) -> str:
    if guild_id is None:
        return (
            f"Discord refused Holdfast's slash commands (error {code}). They will be tried "
            "again at the next start."
        )
    if code == 10004:
        return (
            f"GUILD_IDS includes {guild_id}, but Holdfast is not in that server. Invite it "
            "(see the README) or remove the id from GUILD_IDS."
        )
    if code == 50001:
        return (
            f"Holdfast may not add slash commands to server {guild_id}. Invite it again with "
            f"the applications.commands scope: {invite_url()}"
        )
    return (
        f"Discord refused Holdfast's slash commands for server {guild_id} (error {code}). "
        "They will be tried again at the next start."
    )


def intents_refused() -> str:
    return (
        "Discord refused the gateway intents Holdfast asked for. Holdfast needs no privileged "
        "intents; check the bot's settings in the Developer Portal."
    )


def unexpected_stop() -> str:
    return (
        "Holdfast stopped because of an unexpected problem. Start it with LOG_LEVEL=DEBUG to "
        "see the details, and please report them."
    )


def config_problem(key: str, shown: str, code: str, fallback: str) -> str:
    if code == "token_shape":
        return (
            "DISCORD_TOKEN does not look like a bot token (it should be three parts joined by "
            "dots). Copy it from Bot → Reset Token in the Developer Portal; the client secret "
            "and the application id are different things."
        )
    if code == "token_has_prefix":
        return 'DISCORD_TOKEN should be just the token, without "Bot " in front of it.'
    if code == "timezone":
        return (
            f"DEFAULT_TIMEZONE={shown} is not a known time zone. Use a name like "
            '"Europe/London" (see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones).'
        )
    if code.startswith("guild_ids:"):
        bad = code.removeprefix("guild_ids:")
        return (
            f"GUILD_IDS has something that is not a server id: {bad}. Use the server ids "
            "(right-click the server → Copy Server ID, with Developer Mode on), "
            "separated by commas."
        )
    if code.startswith("fernet:"):
        position = code.removeprefix("fernet:")
        return (
            f"NOTE_ENCRYPTION_KEYS: key number {position} is not a valid key. Make one with "
            "`python -m bot gen-key`; separate several keys with commas, newest first."
        )
    if code.startswith("url:"):
        schemes = " or ".join(f"{s}://" for s in code.removeprefix("url:").split("/"))
        return (
            f"{key}={shown} is not a {schemes} address. "
            "Leave it unset unless you use the test emulator."
        )
    if code == "database_is_folder":
        return (
            f"DATABASE_PATH={shown} is a folder. Give a file name inside it, "
            "such as data/holdfast.sqlite3."
        )
    if code.startswith("database_unwritable:"):
        folder = code.removeprefix("database_unwritable:")
        return (
            f"DATABASE_PATH={shown} cannot be created: {folder} is not a folder Holdfast may "
            "write to. Choose another place or fix the folder's permissions."
        )
    if code == "privacy_floor":
        from bot.texts.checkins import privacy_floor

        return f"PRIVACY_MIN_MEMBERS={shown}: " + privacy_floor(5)
    if code == "signposts":
        from bot.texts.checkins import signposts_invalid

        return signposts_invalid()
    if key == "PRIVACY_MIN_MEMBERS":
        return f"PRIVACY_MIN_MEMBERS={shown} should be a whole number, 5 or more."
    if key == "LOW_CHECKIN_THRESHOLD":
        return f"LOW_CHECKIN_THRESHOLD={shown} should be a whole number from 1 to 5."
    if code == "empty":
        return f"{key} is empty. Give it a value or remove the line to use the default."
    if key == "LOG_LEVEL":
        return f"LOG_LEVEL={shown} is not a log level. Use DEBUG, INFO, WARNING or ERROR."
    if key == "ANNOUNCE_DAYS_BEFORE":
        return f"ANNOUNCE_DAYS_BEFORE={shown} should be a whole number of days from 1 to 60."
    if key == "EVENTS_AHEAD":
        return f"EVENTS_AHEAD={shown} should be a whole number from 0 (none) to 5."
    if code.startswith("user_ids:"):
        bad = code.removeprefix("user_ids:")
        return (
            f"ADMIN_USER_IDS has something that is not a user id: {bad}. Use the admins' user "
            "ids (right-click a name → Copy User ID, with Developer Mode on), separated by commas."
        )
    if code.startswith("leads:"):
        return f"REMINDER_LEADS={shown}: {code.removeprefix('leads:')}"
    if key == "NUDGE_DAYS_BEFORE":
        return f"NUDGE_DAYS_BEFORE={shown} should be a whole number of days from 0 (none) to 30."
    if key == "ROTA_ASK_DAYS_BEFORE":
        return f"ROTA_ASK_DAYS_BEFORE={shown} should be a whole number of days from 1 to 30."
    if key == "ROTA_ESCALATE_HOURS_BEFORE":
        return f"ROTA_ESCALATE_HOURS_BEFORE={shown} should be a whole number of hours, 1 to 336."
    if key == "SEND_RATE_PER_SECOND":
        return (
            f"SEND_RATE_PER_SECOND={shown} should be a number above 0 and at most 50 "
            "(Discord's own limit)."
        )
    if code == "clock_needs_emulator":
        return (
            "CLOCK_START is only for the test emulator and the demo: it is refused unless both "
            "DISCORD_API_BASE_URL and DISCORD_GATEWAY_URL point at an emulator on this machine "
            "(localhost, 127.x.x.x or ::1). Remove CLOCK_START."
        )
    if key == "CLOCK_START":
        return (
            f"CLOCK_START={shown} should be an ISO 8601 instant with an offset, "
            "e.g. 2026-03-01T09:00:00Z."
        )
    if key == "CLOCK_SPEED":
        return f"CLOCK_SPEED={shown} should be a number from 1 (real speed) to 10000."
    if key == "GUILD_READY_TIMEOUT":
        return f"GUILD_READY_TIMEOUT={shown} should be a number of seconds between 0 and 60."
    return f"{key}={shown}: {fallback}."


def config_problems_heading(count: int) -> str:
    noun = "problem" if count == 1 else "problems"
    return f"Holdfast's settings have {count} {noun} to fix (in .env or the environment):"


# --- database -------------------------------------------------------------------------------


def not_a_database(path: Path) -> str:
    return (
        f"The file at DATABASE_PATH ({path}) is not a Holdfast database, or it is damaged. "
        "Holdfast has left it exactly as it was. Point DATABASE_PATH at the right file, or "
        "restore a backup (see the README's Backups section)."
    )


def database_newer(path: Path, db_version: int, known: int) -> str:
    return (
        f"The database at {path} was written by a newer version of Holdfast (schema {db_version}; "
        f"this version knows up to {known}). Nothing was changed. Update Holdfast "
        "(git pull, then make run), or restore the backup taken before the upgrade."
    )


def migration_edited(version: int, name: str) -> str:
    return (
        f"Migration {version:04d}_{name}.sql has changed since it was applied to this database. "
        "Shipped migrations must never be edited: restore the original file (git checkout "
        "migrations/) and put the change in a new, higher-numbered migration."
    )


def migration_failed(filename: str, reason: str) -> str:
    return (
        f"Migration {filename} could not be applied ({reason}). The database was left as it "
        "was before this migration."
    )


def database_locked(path: Path) -> str:
    return (
        f"Another Holdfast is already running on {path}. Only one may use a database at a time: "
        "stop the other one first."
    )


def database_unwritable(path: Path, reason: str) -> str:
    return (
        f"Holdfast cannot create or open the database at {path} ({reason}). "
        "Check DATABASE_PATH and the folder's permissions."
    )


def database_unreadable(path: Path, reason: str) -> str:
    return (
        f"Holdfast cannot read the database at {path} ({reason}). Nothing was changed. Check "
        "that the file and its folder may be read by the user Holdfast runs as."
    )


def database_wal_needs_writing(path: Path) -> str:
    return (
        f"The database at {path} has changes in its {path.name}-wal file that can only be read "
        "by writing beside it, and its folder is read-only to this user. Nothing was changed. "
        "Start and stop Holdfast once (it folds the changes in), or run this as the user "
        "Holdfast runs as."
    )


def disk_full(folder: Path, size_limited: bool) -> str:
    why = "the disk is full"
    if size_limited:
        why += " (or Holdfast reached the file size limit it was started with, `ulimit -f`)"
    return (
        f"Holdfast could not write to {folder}: {why}. Nothing was lost, and nothing was left "
        "half-done. Free some space there, then run the same command again."
    )


def backup_target_unwritable(folder: Path, reason: str) -> str:
    return (
        f"Holdfast cannot write the backup to {folder} ({reason}): that folder is not writable. "
        "Choose a folder Holdfast may write to. The database was not changed."
    )


def backup_failed(folder: Path, reason: str) -> str:
    return (
        f"The backup could not be written to {folder} ({reason}). Nothing was left there, and "
        "the database was not changed."
    )


def backup_source_unreadable(path: Path, reason: str) -> str:
    return (
        f"Holdfast cannot read the database at {path} to back it up ({reason}). Run the backup "
        "as the user Holdfast runs as, or check DATABASE_PATH."
    )


def backup_source_changed(path: Path) -> str:
    return (
        f"The database at {path} changed while it was being copied (did Holdfast start?), so "
        "no backup was written. Run the same command again."
    )


def backup_target_exists(path: Path) -> str:
    return f"{path} already exists. Choose a new file name; Holdfast will not overwrite a backup."


def backup_source_missing(path: Path) -> str:
    return f"There is no database at {path} to back up. Check DATABASE_PATH."


def backup_done(path: Path, size: int) -> str:
    return f"Backup written to {path} ({size:,} bytes) and checked."


def backup_keep_at_least_one(keep: int) -> str:
    return f"--keep {keep}: keep at least 1 backup."


def backup_folder_needed(path: Path) -> str:
    return f"{path} is a file; with --keep, give a folder for the dated backups."


def backups_rotated(written: Path, size: int, removed: int, keep: int) -> str:
    gone = f"; removed {removed} older one(s), keeping the newest {keep}" if removed else ""
    return f"Backup written to {written} ({size:,} bytes) and checked{gone}."


def backup_keys_reminder(key_file: Path) -> str:
    return (
        f"Check-in notes need the key file {key_file}, which is not in this backup: keep a copy "
        "of it somewhere safe, apart from the database backups (it changes only with "
        "rotate-keys)."
    )


def migrated(applied: list[str], backup: Path | None) -> str:
    if not applied:
        return "The database is up to date."
    lines = [f"Applied {len(applied)} migration(s): {', '.join(applied)}."]
    if backup is not None:
        lines.append(f"A copy of the database from before was saved to {backup}.")
    return "\n".join(lines)


# --- slash commands --------------------------------------------------------------------------


def about(privacy_min_members: int) -> str:
    k = privacy_min_members
    return (
        f"**{PRODUCT}** keeps this group's monthly meeting reliably in everyone's diary: "
        "reminders that arrive once and on time, easy RSVPs, and private check-ins.\n"
        "Your check-ins are yours. Facilitators only ever see the whole group's trend, "
        "never one person's answers. A month of that trend shows only when at least "
        f"{k + 1} people checked in ({k} besides any one person), and it is the same "
        "for everyone who looks.\n"
        f"Version {__version__}."
    )


def status(
    *, version: str, schema_version: int, guilds: int, latency_ms: int | None, up_since: int
) -> str:
    latency = f"{latency_ms} ms" if latency_ms is not None else "measuring…"
    return (
        f"**{PRODUCT} is running.**\n"
        f"Version {version} · database schema {schema_version}\n"
        f"Servers: {guilds} · Discord latency: {latency}\n"
        f"Up since <t:{up_since}:F> (<t:{up_since}:R>)"
    )


def positive_number_needed(option: str, value: str) -> str:
    return f"{option}: {value!r} is not a whole number of 1 or more."


def ready_status(guilds: int) -> str:
    return f"{PRODUCT} is ready in {guilds} server(s)."


def deliveries_stalled(seconds: float) -> str:
    return (
        f"Deliveries have made no progress for {int(seconds)} s (a send that never returns); "
        "not telling systemd's watchdog all is well."
    )


def cannot_save_now() -> str:
    """A member's click or command while the disk Holdfast writes to is full."""
    return (
        "Sorry, I can't save anything just now: the computer I run on has run out of room. "
        "Nothing was changed. Please try again later, and let an admin know if it keeps "
        "happening."
    )


def something_went_wrong() -> str:
    return (
        "Sorry, something went wrong on my side and nothing was changed. "
        "Please try again in a moment; if it keeps happening, let an admin know."
    )


def not_allowed() -> str:
    return "Sorry, that command is for the server's admins."


def form_out_of_date() -> str:
    return (
        "Sorry, that form is from before Holdfast was last updated, so I couldn't use it. "
        "Please open it again."
    )


def form_not_saved(reason: str, words: str) -> str:
    """A form that could not be used: why, and what the person typed, so none of it is lost."""
    if not words.strip():
        return reason
    return f"{reason}\n\nSo nothing is lost, here is what you wrote:\n>>> {words}"
