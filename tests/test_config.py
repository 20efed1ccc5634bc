from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from bot.config import ConfigError, Settings, load_settings, masked

TOKEN = "MTA4NjQ0NjE3NzQ1NjM4NjE2Ng.GxYzAb.abcdefghijklmnopqrstuvwxyz0123456789ABCD"
ALL_KEYS = set(Settings.model_fields)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ALL_KEYS:
        monkeypatch.delenv(key, raising=False)


def write_env(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_file(tmp_path: Path) -> None:
    settings = load_settings(None)
    assert settings.token is None
    assert Path("data/holdfast.sqlite3") == settings.DATABASE_PATH
    assert settings.GUILD_IDS == ()
    assert settings.DEFAULT_TIMEZONE == "Europe/London"
    assert settings.LOG_LEVEL == "INFO"


def test_good_env_file_is_read(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    env = write_env(
        tmp_path,
        f"DISCORD_TOKEN={TOKEN}\nDATABASE_PATH={tmp_path}/db.sqlite3\n"
        "GUILD_IDS=123456789012345678, 223456789012345678\nDEFAULT_TIMEZONE=America/New_York\n"
        f"LOG_LEVEL=debug\nNOTE_ENCRYPTION_KEYS={key}\n",
    )
    settings = load_settings(env)
    assert settings.token == TOKEN
    assert tmp_path / "db.sqlite3" == settings.DATABASE_PATH
    assert settings.GUILD_IDS == (123456789012345678, 223456789012345678)
    assert settings.DEFAULT_TIMEZONE == "America/New_York"
    assert settings.LOG_LEVEL == "DEBUG"
    assert [k.get_secret_value() for k in settings.NOTE_ENCRYPTION_KEYS] == [key]


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = write_env(tmp_path, "DEFAULT_TIMEZONE=Europe/Paris\n")
    monkeypatch.setenv("DEFAULT_TIMEZONE", "Europe/Dublin")
    assert load_settings(env).DEFAULT_TIMEZONE == "Europe/Dublin"


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        (
            "DEFAULT_TIMEZONE=Europe/Londn",
            "DEFAULT_TIMEZONE",
            '"Europe/Londn" is not a known time zone',
        ),
        ("GUILD_IDS=12,abc", "GUILD_IDS", "not a server id: 12, abc"),
        ("LOG_LEVEL=loud", "LOG_LEVEL", "is not a log level"),
        ("DISCORD_TOKEN=not a token", "DISCORD_TOKEN", "does not look like a bot token"),
        (f"DISCORD_TOKEN=Bot {TOKEN}", "DISCORD_TOKEN", 'without "Bot " in front'),
        ("NOTE_ENCRYPTION_KEYS=short", "NOTE_ENCRYPTION_KEYS", "key number 1 is not a valid key"),
        ("DISCORD_API_BASE_URL=ftp://x", "DISCORD_API_BASE_URL", "not a http:// or https://"),
        ("DISCORD_GATEWAY_URL=http://x", "DISCORD_GATEWAY_URL", "not a ws:// or wss://"),
        ("GUILD_READY_TIMEOUT=-1", "GUILD_READY_TIMEOUT", "number of seconds"),
        ("DATABASE_PATH=", "DATABASE_PATH", "is empty"),
        ("REMINDER_LEADS=7d,soon", "REMINDER_LEADS", '"soon" is not a reminder time'),
        ("NUDGE_DAYS_BEFORE=31", "NUDGE_DAYS_BEFORE", "from 0 (none) to 30"),
        ("SEND_RATE_PER_SECOND=80", "SEND_RATE_PER_SECOND", "at most 50"),
        ("CLOCK_START=tomorrow", "CLOCK_START", "ISO 8601 instant with an offset"),
        # The made-up clock is never allowed near real Discord.
        ("CLOCK_START=2026-10-28T19:00:00Z", "CLOCK_START", "only for the test emulator"),
        (
            "CLOCK_START=2026-10-28T19:00:00Z\nDISCORD_API_BASE_URL=https://discord.com/api/v10",
            "CLOCK_START",
            "only for the test emulator",
        ),
        # Both addresses must be loopback: a local API with the real gateway still reaches
        # Discord, and so does a local gateway with the real API.
        (
            "CLOCK_START=2026-10-28T19:00:00Z\nDISCORD_API_BASE_URL=http://127.0.0.1:8080/api/v10",
            "CLOCK_START",
            "only for the test emulator",
        ),
        (
            "CLOCK_START=2026-10-28T19:00:00Z\nDISCORD_API_BASE_URL=http://127.0.0.1:8080/api/v10"
            "\nDISCORD_GATEWAY_URL=wss://gateway.discord.gg",
            "CLOCK_START",
            "only for the test emulator",
        ),
        (
            "CLOCK_START=2026-10-28T19:00:00Z\nDISCORD_API_BASE_URL=https://discord.com/api/v10"
            "\nDISCORD_GATEWAY_URL=ws://127.0.0.1:8081",
            "CLOCK_START",
            "only for the test emulator",
        ),
        # A name is not an address: it could resolve anywhere.
        (
            "CLOCK_START=2026-10-28T19:00:00Z\nDISCORD_API_BASE_URL=http://emulator.local/api/v10"
            "\nDISCORD_GATEWAY_URL=ws://127.0.0.1:8081",
            "CLOCK_START",
            "only for the test emulator",
        ),
    ],
)
def test_each_kind_of_bad_value_names_its_key(
    tmp_path: Path, line: str, key: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_env(tmp_path, line + "\n"))
    assert [p.key for p in caught.value.problems] == [key]
    assert expected in caught.value.problems[0].message


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    env = write_env(
        tmp_path,
        "DEFAULT_TIMEZONE=Mars/Olympus\nGUILD_IDS=nope\nLOG_LEVEL=chatty\n"
        "NOTE_ENCRYPTION_KEYS=x\nDISCORD_TOKEN=oops\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    keys = {p.key for p in caught.value.problems}
    assert keys == {
        "DEFAULT_TIMEZONE",
        "GUILD_IDS",
        "LOG_LEVEL",
        "NOTE_ENCRYPTION_KEYS",
        "DISCORD_TOKEN",
    }


def test_secrets_are_never_echoed_in_problems(tmp_path: Path) -> None:
    secret_key = "this-is-a-secret-but-not-a-fernet-key"
    bad_token = "secret token with spaces"
    env = write_env(tmp_path, f"DISCORD_TOKEN={bad_token}\nNOTE_ENCRYPTION_KEYS={secret_key}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    text = str(caught.value)
    assert bad_token not in text
    assert secret_key not in text


def test_masked_configuration_hides_secrets(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings(
        write_env(tmp_path, f"DISCORD_TOKEN={TOKEN}\nNOTE_ENCRYPTION_KEYS={key}\n")
    )
    shown = masked(settings)
    assert set(shown) == ALL_KEYS
    rendered = "\n".join(shown.values())
    assert TOKEN not in rendered
    assert TOKEN[10:30] not in rendered
    assert key not in rendered
    assert shown["NOTE_ENCRYPTION_KEYS"] == "1 key(s) set"


def test_blank_optional_values_mean_unset(tmp_path: Path) -> None:
    settings = load_settings(
        write_env(tmp_path, "DISCORD_TOKEN=\nGUILD_IDS=\nDISCORD_API_BASE_URL=\n")
    )
    assert settings.token is None
    assert settings.GUILD_IDS == ()
    assert settings.DISCORD_API_BASE_URL is None


def test_database_path_that_is_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(write_env(tmp_path, f"DATABASE_PATH={tmp_path}\n"))
    assert "is a folder" in caught.value.problems[0].message


def test_database_path_under_a_file_is_refused(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(ConfigError) as caught:
        load_settings(write_env(tmp_path, f"DATABASE_PATH={blocker}/db.sqlite3\n"))
    assert "cannot be created" in caught.value.problems[0].message


def test_a_clock_start_is_accepted_only_with_a_local_emulator(tmp_path: Path) -> None:
    settings = load_settings(
        write_env(
            tmp_path,
            "CLOCK_START=2026-10-28T19:00:00Z\nCLOCK_SPEED=60\n"
            "DISCORD_API_BASE_URL=http://127.0.0.1:8080/api/v10\n"
            "DISCORD_GATEWAY_URL=ws://[::1]:8081\n",
        )
    )
    assert settings.CLOCK_START is not None
    assert settings.CLOCK_START.isoformat() == "2026-10-28T19:00:00+00:00"
    assert settings.CLOCK_SPEED == 60
    assert [lead.text for lead in settings.reminder_leads] == ["7d", "1d", "2h"]
