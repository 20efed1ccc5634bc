"""Discord-shaped API errors and the emulator's own timeout error."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

_ROUTE_PREFIX = re.compile(r"^[A-Z]+ \S+: (?P<rest>.*)$", re.DOTALL)
_CODED = re.compile(r"^\[(?P<code>[A-Z0-9_]+)\] (?P<msg>.*)$", re.DOTALL)
_BODY_FIELD = re.compile(r"^body(?P<path>(?:\.[A-Za-z_]\w*|\[\d+\])+): (?P<msg>.*)$", re.DOTALL)


BODY_KEY = web.RequestKey("emulator_body", object)
FILES_KEY = web.RequestKey("emulator_files", list)
BODY_ERROR_KEY = web.RequestKey("emulator_body_error", str)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A JSON response with Discord's exact ``Content-Type: application/json`` (discord.py only
    decodes bodies whose content type is exactly that)."""
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={**(headers or {}), "Content-Type": "application/json"},
    )


class EmulatorTimeout(AssertionError):
    """A waiting helper gave up; the message says what it was waiting for."""


class MessageGone(LookupError):
    """A person tried to use (click, pick, reply to) a message that no longer exists."""


class ApiError(Exception):
    """Raised by handlers; becomes ``{"code": ..., "message": ...}`` with the HTTP status."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors is not None:
            body["errors"] = self.errors
        return body

    def response(self) -> web.Response:
        return json_response(self.body(), status=self.status)

    @classmethod
    def invalid_form_body(cls, problems: list[str]) -> ApiError:
        """50035 with an ``errors`` object nesting each problem under the field it names."""
        return cls(400, 50035, "Invalid Form Body", errors_object(problems))


def errors_object(problems: list[str]) -> dict[str, Any]:
    """Discord's nested ``errors`` shape: ``{"content": {"_errors": [{"code", "message"}]}}``.

    Problems as the spec validator words them (``"POST /channels/{channel_id}/messages:
    body.embeds[0].title: 1 has the wrong type"``) are nested under ``embeds -> 0 -> title``;
    problems without a recognisable body field go to the top-level ``_errors``.
    """
    root: dict[str, Any] = {}
    for problem in problems:
        text = problem.strip()
        prefixed = _ROUTE_PREFIX.match(text)
        if prefixed:
            text = prefixed.group("rest")
        node = root
        field = _BODY_FIELD.match(text)
        if field:
            for part in re.findall(r"[A-Za-z_]\w*|\d+", field.group("path")):
                node = node.setdefault(part, {})
            text = field.group("msg")
        code = "SPEC_VALIDATION"
        coded = _CODED.match(text)
        if coded:  # "[COMPONENT_CUSTOM_ID_DUPLICATED] ...": Discord's own error code
            code, text = coded.group("code"), coded.group("msg")
        node.setdefault("_errors", []).append({"code": code, "message": text})
    return root


NOT_FOUND = {
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10007: "Unknown Member",
    10008: "Unknown Message",
    10011: "Unknown Role",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    10065: "Unknown Voice State",
    10070: "Unknown Guild Scheduled Event",
}


def not_found(code: int) -> ApiError:
    return ApiError(404, code, NOT_FOUND[code])


def forbidden(code: int = 50013) -> ApiError:
    messages = {
        50001: "Missing Access",
        50007: "Cannot send messages to this user",
        50013: "Missing Permissions",
    }
    return ApiError(403, code, messages[code])
