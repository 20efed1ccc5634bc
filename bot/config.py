"""Typed settings from the environment and `.env`, with every problem reported at once.

Each problem is phrased for the admin who has to fix it and names the key. Secret values (the
bot token, note keys) are never echoed back, not even when they are the thing that is wrong.
"""

from __future__ import annotations

import ipaddress
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.meetings.recurrence import Lead, RuleError, parse_leads
from bot.zones import UnknownTimeZoneError, load_zone

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

# The first users are UK adopters. No helpline numbers: they go stale; these do not.
DEFAULT_SIGNPOSTS: tuple[tuple[str, date], ...] = (
    (
        "Your GP, or NHS 111 (call 111 or go to 111.nhs.uk) when it's urgent but not an emergency",
        date(2026, 11, 25),
    ),
    ("999 in an emergency, or go to A&E", date(2026, 11, 25)),
)
PRIVACY_FLOOR = 5

SECRET_KEYS = frozenset({"DISCORD_TOKEN", "NOTE_ENCRYPTION_KEYS"})
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+$")
# False while `load_settings` reads settings for a command that only reads the database.
_WRITES_DATABASE: ContextVar[bool] = ContextVar("writes_database", default=True)


class Settings(BaseSettings):
    """Every setting Holdfast reads. `.env.example` documents each one for admins."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        validate_default=True,
    )

    DISCORD_TOKEN: SecretStr | None = None
    DATABASE_PATH: Path = Path("data/holdfast.sqlite3")
    GUILD_IDS: Annotated[tuple[int, ...], NoDecode] = ()
    # Discord user ids of admins who are also told (by DM) when a meeting has no facilitator.
    ADMIN_USER_IDS: Annotated[tuple[int, ...], NoDecode] = ()
    DEFAULT_TIMEZONE: str = "Europe/London"
    LOG_LEVEL: LogLevel = "INFO"
    NOTE_ENCRYPTION_KEYS: Annotated[tuple[SecretStr, ...], NoDecode] = ()
    DISCORD_API_BASE_URL: str | None = None
    DISCORD_GATEWAY_URL: str | None = None
    # Start-up waits this long for Discord to finish sending the servers before it is "ready".
    GUILD_READY_TIMEOUT: float = Field(default=2.0, gt=0, le=60)
    # Meetings are announced in the group's channel this many days before they start.
    ANNOUNCE_DAYS_BEFORE: int = Field(default=14, ge=1, le=60)
    # How many of each series' next meetings are listed in the server's Events.
    EVENTS_AHEAD: int = Field(default=1, ge=0, le=5)
    # Reminders: members' default lead times (each member may choose their own).
    REMINDER_LEADS: str = "7d,1d,2h"
    # One gentle nudge to members who have not answered, this many days before (0: none).
    NUDGE_DAYS_BEFORE: int = Field(default=3, ge=0, le=30)
    # The rota: ask the assigned facilitator to confirm this many days before the meeting...
    ROTA_ASK_DAYS_BEFORE: int = Field(default=3, ge=1, le=30)
    # ...and escalate when nobody has confirmed this many hours before it.
    ROTA_ESCALATE_HOURS_BEFORE: int = Field(default=24, ge=1, le=336)
    # Holdfast's own pace towards Discord (Discord's global limit is 50 requests a second).
    SEND_RATE_PER_SECOND: float = Field(default=50.0, gt=0, le=50)
    # For the emulator and the demo only: the clock starts at this instant (ISO 8601 with an
    # offset) and runs CLOCK_SPEED times real speed. Refused unless DISCORD_API_BASE_URL points
    # at a local emulator, so it can never run against real Discord.
    CLOCK_START: datetime | None = None
    CLOCK_SPEED: float = Field(default=1.0, ge=1, le=10000)
    # K: /trends shows a month only when at least K + 1 people checked in (K besides any one
    # person, whoever is viewing), so every viewer sees the same months.
    PRIVACY_MIN_MEMBERS: int = 5
    # A check-in at or below this (1–5, stress counted the other way) shows support signposts.
    LOW_CHECKIN_THRESHOLD: int = Field(default=1, ge=1, le=5)
    # Support signposts for a very low check-in: "text|last checked YYYY-MM-DD" joined by ";".
    SUPPORT_SIGNPOSTS: Annotated[tuple[tuple[str, date], ...], NoDecode] = DEFAULT_SIGNPOSTS

    @field_validator("DISCORD_TOKEN", mode="before")
    @classmethod
    def _token_shape(cls, value: Any) -> Any:
        if value is None:
            return None
        text = str(value.get_secret_value() if isinstance(value, SecretStr) else value).strip()
        if not text:
            return None
        if text.lower().startswith("bot "):
            raise ValueError("token_has_prefix")
        if not _TOKEN_SHAPE.fullmatch(text):
            raise ValueError("token_shape")
        return text

    @field_validator("DATABASE_PATH", mode="before")
    @classmethod
    def _database_path(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            raise ValueError("empty")
        return value

    @field_validator("DATABASE_PATH")
    @classmethod
    def _database_location(cls, value: Path) -> Path:
        if value.is_dir():
            raise ValueError("database_is_folder")
        existing = next((p for p in [value.parent, *value.parent.parents] if p.exists()), None)
        if not _WRITES_DATABASE.get():
            return value
        if existing is not None and (not existing.is_dir() or not os.access(existing, os.W_OK)):
            raise ValueError(f"database_unwritable:{existing}")
        return value

    @field_validator("GUILD_IDS", "ADMIN_USER_IDS", mode="before")
    @classmethod
    def _guild_ids(cls, value: Any, info: Any) -> Any:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            bad = [p for p in parts if not p.isdigit() or not 15 <= len(p) <= 21]
            if bad:
                prefix = "guild_ids:" if info.field_name == "GUILD_IDS" else "user_ids:"
                raise ValueError(prefix + ", ".join(bad))
            return tuple(int(p) for p in parts)
        return value

    @field_validator("DEFAULT_TIMEZONE")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            return load_zone(value).key
        except UnknownTimeZoneError:
            raise ValueError("timezone") from None

    @field_validator("LOG_LEVEL", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("NOTE_ENCRYPTION_KEYS", mode="before")
    @classmethod
    def _note_keys(cls, value: Any) -> Any:
        if isinstance(value, str):
            keys = [k.strip() for k in value.split(",") if k.strip()]
            for position, key in enumerate(keys, start=1):
                try:
                    Fernet(key.encode())
                except (ValueError, TypeError):
                    raise ValueError(f"fernet:{position}") from None
            return tuple(keys)
        return value

    @field_validator("PRIVACY_MIN_MEMBERS")
    @classmethod
    def _privacy_floor(cls, value: int) -> int:
        if value < PRIVACY_FLOOR:
            raise ValueError("privacy_floor")
        return value

    @field_validator("SUPPORT_SIGNPOSTS", mode="before")
    @classmethod
    def _signposts(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return DEFAULT_SIGNPOSTS
        entries: list[tuple[str, date]] = []
        for part in (p.strip() for p in value.split(";")):
            if not part:
                continue
            text, sep, checked = part.rpartition("|")
            try:
                day = date.fromisoformat(checked.strip())
            except ValueError:
                raise ValueError("signposts") from None
            if not sep or not text.strip():
                raise ValueError("signposts")
            entries.append((text.strip(), day))
        return tuple(entries)

    @field_validator("DISCORD_API_BASE_URL", "DISCORD_GATEWAY_URL", mode="before")
    @classmethod
    def _url(cls, value: Any, info: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip().rstrip("/")
        schemes = ("http", "https") if info.field_name == "DISCORD_API_BASE_URL" else ("ws", "wss")
        parts = urlsplit(text)
        if parts.scheme not in schemes or not parts.netloc:
            raise ValueError("url:" + "/".join(schemes))
        return text

    @field_validator("REMINDER_LEADS")
    @classmethod
    def _leads(cls, value: str) -> str:
        try:
            parse_leads(value)
        except RuleError as error:
            raise ValueError(f"leads:{error}") from None
        return value.strip()

    @field_validator("CLOCK_START", mode="before")
    @classmethod
    def _clock_start(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
            except ValueError:
                raise ValueError("clock_start") from None
        if isinstance(value, datetime) and (value.tzinfo is None or value.utcoffset() is None):
            raise ValueError("clock_start")
        return value

    @model_validator(mode="after")
    def _clock_only_on_an_emulator(self) -> Settings:
        # A made-up clock against real Discord would send real reminders at the wrong times.
        # Both addresses: an emulator for the API with the real gateway (or the other way round)
        # would still reach real Discord.
        if self.CLOCK_START is not None and not (
            is_emulator_url(self.DISCORD_API_BASE_URL) and is_emulator_url(self.DISCORD_GATEWAY_URL)
        ):
            raise ValueError("clock_needs_emulator")
        return self

    @property
    def reminder_leads(self) -> list[Lead]:
        return parse_leads(self.REMINDER_LEADS)

    @property
    def token(self) -> str | None:
        return self.DISCORD_TOKEN.get_secret_value() if self.DISCORD_TOKEN else None


def is_emulator_url(url: str | None) -> bool:
    """True for an address on this machine's loopback (the emulator), never for Discord's:
    `localhost`, 127.0.0.0/8 or ::1. Any other name could resolve anywhere."""
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ConfigProblem:
    key: str
    message: str


class ConfigError(Exception):
    """All configuration problems at once; `str()` is ready to show an admin."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(p.message for p in problems))


def load_settings(
    env_file: Path | None = Path(".env"), *, writes_database: bool = True, **overrides: Any
) -> Settings:
    """Read settings; raise ConfigError listing every problem in plain words.

    `writes_database=False` (a command that only reads the database, such as `backup`) accepts
    a DATABASE_PATH whose folder is read-only.
    """
    token = _WRITES_DATABASE.set(writes_database)
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        raise ConfigError([_describe(err) for err in exc.errors()]) from None
    finally:
        _WRITES_DATABASE.reset(token)


def _describe(err: Any) -> ConfigProblem:
    from bot import texts

    key = str(err["loc"][0]) if err.get("loc") else "settings"
    raw = err.get("input")
    shown = "(hidden)" if key in SECRET_KEYS else f'"{raw}"'
    ctx_error = err.get("ctx", {}).get("error")
    code = str(ctx_error) if ctx_error is not None else err.get("type", "")
    if code == "clock_needs_emulator":
        # A whole-settings rule: name the key the admin has to change.
        key, shown = "CLOCK_START", "(set)"
    return ConfigProblem(key, texts.config_problem(key, shown, code, err.get("msg", "")))


def masked(settings: Settings) -> dict[str, str]:
    """The effective configuration as text, secrets masked, for `check-config`."""
    shown: dict[str, str] = {}
    for key in Settings.model_fields:
        value = getattr(settings, key)
        if key == "DISCORD_TOKEN":
            shown[key] = _mask(settings.token) if settings.token else "(not set)"
        elif key == "NOTE_ENCRYPTION_KEYS":
            shown[key] = f"{len(value)} key(s) set" if value else "(not set)"
        elif key == "GUILD_IDS":
            shown[key] = ", ".join(str(v) for v in value) or "(none: commands are synced globally)"
        elif key == "SUPPORT_SIGNPOSTS":
            shown[key] = "; ".join(f"{text}|{day.isoformat()}" for text, day in value)
        elif value is None:
            shown[key] = "(not set)"
        else:
            shown[key] = str(value)
    return shown


def _mask(secret: str) -> str:
    # Enough to tell two tokens apart, never enough to use one.
    return f"{secret[:4]}…{'*' * 6} ({len(secret)} characters)"
