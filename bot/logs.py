"""Logging through the standard library, with secrets scrubbed from every record.

discord.py does not log the token, but a traceback or a third-party library might; the filter
makes "the token never appears in logs" a property of the handler rather than a hope.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

REDACTED = "[redacted]"


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s and len(s) >= 8]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = message
        for secret in self._secrets:
            cleaned = cleaned.replace(secret, REDACTED)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        exc_text = record.exc_text
        if exc_text:
            for secret in self._secrets:
                exc_text = exc_text.replace(secret, REDACTED)
            record.exc_text = exc_text
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class DropVoiceNotices(logging.Filter):
    """discord.py warns at start-up that voice libraries are missing; Holdfast has no voice."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (
            record.name == "discord.client"
            and str(record.msg).endswith("voice will NOT be supported")
        )


# Third-party loggers that print data at their lower levels, and the lowest level each may log
# at whatever LOG_LEVEL says (each checked against the installed source):
QUIETER: dict[str, int] = {
    # DEBUG: every statement with its parameters ("executing functools.partial(<execute>, sql,
    # {...})"): a check-in's member id and keyed hash, answers and note ciphertext.
    "aiosqlite": logging.INFO,
    # DEBUG: every request with its body and every response's JSON (members' words, exports).
    "discord.http": logging.WARNING,
    # DEBUG: each webhook request's URL, which for an interaction's reply holds its token.
    "discord.webhook": logging.INFO,
    # DEBUG: every gateway event in full (interactions: their tokens, what was typed in a form).
    "discord.gateway": logging.INFO,
    # DEBUG: the custom id of each click or form submit it has no handler for (every form's
    # submit: cogs/_forms.py handles them itself), and a check-in's custom ids carry its answers.
    "discord.ui.view": logging.INFO,
    # Requests Holdfast never serves (aiohttp.access / .server / .web) and client internals.
    "aiohttp": logging.WARNING,
    # DEBUG (in asyncio's debug mode): callbacks shown with their arguments.
    "asyncio": logging.INFO,
    # DEBUG: font and PNG internals while drawing charts; nothing private, only noise.
    "matplotlib": logging.WARNING,
    "PIL": logging.WARNING,
    # INFO: "Running job" and "executed successfully" for every run (the delivery sweep alone
    # makes two lines a minute) and "Added job" each time the alarm is re-armed: a normal state
    # told as if it were news. A job that fails still logs its ERROR and traceback here.
    "apscheduler.executors": logging.WARNING,
    "apscheduler.scheduler": logging.WARNING,
}
"""Left at LOG_LEVEL: the rest of apscheduler, discord.client and discord.state (event
names and Discord ids of unknown objects), discord.app_commands and the rest of discord.ui
(errors)."""


def configure_logging(level: str, secrets: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")
    )
    handler.addFilter(RedactSecrets(secrets))
    handler.addFilter(DropVoiceNotices())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    chosen = logging.getLevelName(level)
    for name, lowest in QUIETER.items():
        logging.getLogger(name).setLevel(max(chosen, lowest))
