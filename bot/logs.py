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
    # At DEBUG discord.py logs every request body, and those will carry members' words (a DM
    # with their own check-in export, say); the HTTP log therefore never goes below WARNING.
    logging.getLogger("discord.http").setLevel(max(logging.getLevelName(level), logging.WARNING))
    logging.getLogger("discord.gateway").setLevel(max(logging.getLevelName(level), logging.INFO))
