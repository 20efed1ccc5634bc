"""The command line as an admin meets it: real subprocesses, real files, exit codes and words."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

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
