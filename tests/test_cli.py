"""The command line as an admin meets it: real subprocesses, real files, exit codes and words."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.cli import build_parser, main, preview_schedule
from bot.config import Settings

TOKEN = "MTA4NjQ0NjE3NzQ1NjM4NjE2Ng.GxYzAb.abcdefghijklmnopqrstuvwxyz0123456789ABCD"


def run_cli(cwd: Path, *args: str, env_text: str | None = None) -> subprocess.CompletedProcess[str]:
    if env_text is not None:
        (cwd / ".env").write_text(env_text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_run_without_a_token_explains_what_to_do(tmp_path: Path) -> None:
    result = run_cli(tmp_path, env_text=f"DATABASE_PATH={tmp_path}/db.sqlite3\n")
    assert result.returncode == 2
    err = result.stderr
    assert "DISCORD_TOKEN=" in err
    assert ".env" in err
    assert "https://discord.com/developers/applications" in err
    assert "scope=bot+applications.commands" in err
    assert "permissions=" in err
    assert "Manage Events" in err
    assert "Traceback" not in err + result.stdout


def test_run_is_the_default_command(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "run", env_text="")
    assert result.returncode == 2
    assert "needs a Discord bot token" in result.stderr


def test_check_config_lists_every_problem_and_never_the_token(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "check-config",
        env_text=(
            "DISCORD_TOKEN=secret token value\nDEFAULT_TIMEZONE=Europe/Londn\n"
            "GUILD_IDS=abc\nLOG_LEVEL=loud\n"
        ),
    )
    assert result.returncode == 2
    out = result.stdout + result.stderr
    assert "4 problems" in out
    assert 'DEFAULT_TIMEZONE="Europe/Londn" is not a known time zone' in out
    assert "GUILD_IDS" in out
    assert "LOG_LEVEL" in out
    assert "DISCORD_TOKEN does not look like a bot token" in out
    assert "secret token value" not in out
    assert "Traceback" not in out


def test_check_config_shows_effective_settings_masked(tmp_path: Path) -> None:
    result = run_cli(
        tmp_path,
        "check-config",
        env_text=f"DISCORD_TOKEN={TOKEN}\nDATABASE_PATH={tmp_path}/db.sqlite3\n",
    )
    assert result.returncode == 0, result.stderr
    assert "All settings look good." in result.stdout
    assert "DEFAULT_TIMEZONE = Europe/London" in result.stdout
    assert "DISCORD_TOKEN = MTA4…" in result.stdout
    assert TOKEN not in result.stdout
    assert "not created yet" in result.stdout


def test_check_config_without_a_token_is_a_problem(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "check-config", env_text="")
    assert result.returncode == 2
    assert "DISCORD_TOKEN is not set" in result.stderr


def test_gen_key_prints_a_usable_fernet_key(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "gen-key")
    assert result.returncode == 0
    key = result.stdout.strip()
    box = Fernet(key.encode())
    assert box.decrypt(box.encrypt(b"kept safe")) == b"kept safe"


def test_migrate_then_backup(tmp_path: Path) -> None:
    env_text = f"DATABASE_PATH={tmp_path}/data/db.sqlite3\n"
    first = run_cli(tmp_path, "migrate", env_text=env_text)
    assert first.returncode == 0, first.stderr
    assert "Applied" in first.stdout
    again = run_cli(tmp_path, "migrate")
    assert again.returncode == 0
    assert "up to date" in again.stdout

    backup = run_cli(tmp_path, "backup", str(tmp_path / "copy.sqlite3"))
    assert backup.returncode == 0, backup.stderr
    assert "Backup written to" in backup.stdout
    conn = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert conn.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] >= 1
    conn.close()

    refused = run_cli(tmp_path, "backup", str(tmp_path / "copy.sqlite3"))
    assert refused.returncode == 1
    assert "will not overwrite" in refused.stderr


def test_migrate_makes_the_folders_it_creates_private(tmp_path: Path) -> None:
    # The admin's own folder stays as they made it; the ones Holdfast creates are 0700.
    (tmp_path / "mine").mkdir(mode=0o755)
    os.chmod(tmp_path / "mine", 0o755)
    database = tmp_path / "mine" / "new" / "deeper" / "db.sqlite3"
    result = run_cli(tmp_path, "migrate", env_text=f"DATABASE_PATH={database}\n")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mine").stat().st_mode & 0o777 == 0o755
    for created in (database.parent.parent, database.parent):
        assert created.stat().st_mode & 0o777 == 0o700, created
    for made in database.parent.iterdir():
        assert made.stat().st_mode & 0o777 == 0o600, made


@pytest.mark.parametrize("command", ["migrate", "run"])
def test_corrupt_database_is_refused_untouched(tmp_path: Path, command: str) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"definitely not sqlite" * 50)
    result = run_cli(tmp_path, command, env_text=f"DATABASE_PATH={db}\nDISCORD_TOKEN={TOKEN}\n")
    assert result.returncode == 1
    assert "not a Holdfast database" in result.stderr
    assert "Traceback" not in result.stderr
    assert db.read_bytes() == b"definitely not sqlite" * 50


def test_unknown_command_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "frobnicate")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_console_script_matches_python_dash_m(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("holdfast")
    assert script.exists(), "the `holdfast` console script is installed with the package"
    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("holdfast ")


def test_check_config_reports_a_damaged_database(tmp_path: Path) -> None:
    db = tmp_path / "db.sqlite3"
    db.write_bytes(b"not a database at all" * 10)
    result = run_cli(
        tmp_path, "check-config", env_text=f"DISCORD_TOKEN={TOKEN}\nDATABASE_PATH={db}\n"
    )
    assert result.returncode == 2
    assert "not a Holdfast database" in result.stderr
    assert "All settings look good" not in result.stdout
    assert db.read_bytes() == b"not a database at all" * 10


def test_an_explicit_env_file_that_does_not_exist_is_reported(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "--env-file", "settings/holdfast.env", "check-config")
    assert result.returncode == 2
    assert "no settings file at settings/holdfast.env" in result.stderr


def test_an_explicit_env_file_is_read(tmp_path: Path) -> None:
    other = tmp_path / "other.env"
    other.write_text("DEFAULT_TIMEZONE=Europe/Londn\n", encoding="utf-8")
    result = run_cli(tmp_path, "--env-file", str(other), "check-config")
    assert result.returncode == 2
    assert 'DEFAULT_TIMEZONE="Europe/Londn"' in result.stderr


PREVIEW = [
    "preview-schedule",
    "--rule",
    "last thursday",
    "--time",
    "19:30",
    "--tz",
    "Europe/London",
]


def test_preview_schedule_across_the_october_clock_change(tmp_path: Path) -> None:
    # A broken .env and no token: the preview is arithmetic and must not read settings at all.
    result = run_cli(
        tmp_path,
        *PREVIEW,
        "--from",
        "2026-09-01",
        "--count",
        "3",
        "--leads",
        "7d,1d,2h",
        env_text="DEFAULT_TIMEZONE=Europe/Londn\nLOG_LEVEL=loud\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (
        "2026-09-24T19:30:00+01:00  2026-09-24T18:30:00Z\n"
        "  7d  2026-09-17T19:30:00+01:00  2026-09-17T18:30:00Z\n"
        "  1d  2026-09-23T19:30:00+01:00  2026-09-23T18:30:00Z\n"
        "  2h  2026-09-24T17:30:00+01:00  2026-09-24T16:30:00Z\n"
        "2026-10-29T19:30:00+00:00  2026-10-29T19:30:00Z\n"
        "  7d  2026-10-22T19:30:00+01:00  2026-10-22T18:30:00Z\n"
        "  1d  2026-10-28T19:30:00+00:00  2026-10-28T19:30:00Z\n"
        "  2h  2026-10-29T17:30:00+00:00  2026-10-29T17:30:00Z\n"
        "2026-11-26T19:30:00+00:00  2026-11-26T19:30:00Z\n"
        "  7d  2026-11-19T19:30:00+00:00  2026-11-19T19:30:00Z\n"
        "  1d  2026-11-25T19:30:00+00:00  2026-11-25T19:30:00Z\n"
        "  2h  2026-11-26T17:30:00+00:00  2026-11-26T17:30:00Z\n"
    )


def test_preview_schedule_fortnightly_starts_on_or_after_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 3 October 2026 is a Saturday; the first Friday on or after it is the 9th.
    args = ["preview-schedule", "--rule", "Fortnightly FRI", "--time", "7:30pm"]
    code = main([*args, "--tz", "Asia/Kolkata", "--from", "2026-10-03", "--count", "2"])
    assert code == 0
    assert capsys.readouterr().out == (
        "2026-10-09T19:30:00+05:30  2026-10-09T14:00:00Z\n"
        "2026-10-23T19:30:00+05:30  2026-10-23T14:00:00Z\n"
    )


def test_preview_schedule_defaults_to_twelve_from_today_in_that_zone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 23:30 UTC on 24 October 2026 is already 00:30 on the 25th in London (BST).
    args = ["preview-schedule", "--rule", "day 25", "--time", "00:15", "--tz", "Europe/London"]
    now = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    assert preview_schedule(build_parser().parse_args(args), now) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 12
    assert lines[0] == "2026-10-25T00:15:00+01:00  2026-10-24T23:15:00Z"
    assert lines[-1] == "2027-09-25T00:15:00+01:00  2027-09-24T23:15:00Z"


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [
        ("--tz", "Mars/Olympus_Mons", '--tz: "Mars/Olympus_Mons" is not a time zone'),
        ("--tz", "Europe/Londn", '--tz: "Europe/Londn" is not a time zone'),
        ("--rule", "fifth tuesday", "--rule: Not every month has a fifth Tuesday"),
        ("--rule", "day 32", '--rule: "32" is not a day of the month'),
        ("--rule", "monthly", '--rule: Holdfast did not understand the rule "monthly"'),
        ("--time", "25:00", '--time: "25:00" is not a time'),
        ("--from", "2026-13-01", '--from: "2026-13-01" is not a date'),
        ("--from", "next week", '--from: "next week" is not a date'),
        ("--count", "0", '--count: "0" is not a number of meetings'),
        ("--count", "-3", '--count: "-3" is not a number of meetings'),
        ("--count", "lots", '--count: "lots" is not a number of meetings'),
        ("--leads", "7x", '--leads: "7x" is not a reminder time'),
        ("--leads", "0d", '--leads: "0d" would not be before the meeting'),
    ],
)
def test_preview_schedule_bad_input_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], option: str, value: str, named: str
) -> None:
    values = {"--rule": "last thursday", "--time": "19:30", "--tz": "Europe/London"}
    values[option] = value
    argv = ["preview-schedule", *[part for pair in values.items() for part in pair]]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(named)


def test_preview_schedule_bad_input_from_the_shell_has_no_traceback(tmp_path: Path) -> None:
    result = run_cli(tmp_path, *PREVIEW[:-1], "Europe/Londn", "--from", "2026-09-01")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr == (
        '--tz: "Europe/Londn" is not a time zone Holdfast knows. Did you mean "Europe/London"?\n'
    )
    assert result.stderr.count("\n") == 1
