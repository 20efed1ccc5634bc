r"""Validate the bot's HTTP requests against Discord's published OpenAPI spec.

The emulator calls :meth:`SpecValidator.validate` for every request the bot makes. Two layers:

1. The request body is checked against the operation's schema from Discord's official OpenAPI
   3.1 document (``spec/openapi.json``, see ``spec/SOURCE.md``) with jsonschema Draft 2020-12.
2. Discord's documented hard limits that the spec does not carry (or carries more loosely, e.g.
   message content is ``maxLength: 4000`` in the spec but 2000 for bots) are checked in code.

Limits enforced in code (``_LIMIT_CHECKS``), where the spec is silent or looser: message content
<= 2000 characters (spec: 4000 on create), <= 5 action rows per message (spec: 40 components,
v2 layouts exempt), embeds <= 6000 characters in total, a modal needs 1-5 components, chat-input
command and option names ``^[-_\p{L}\p{N}]{1,32}$`` and lowercase, descriptions 1-100 (the spec
allows an empty command description), required options before optional ones, external scheduled
events need ``scheduled_end_time`` and ``entity_metadata.location`` (and ``channel_id`` null),
link buttons need ``url`` and no ``custom_id``, other buttons need ``custom_id``, a select menu
is alone in its row, no two components of one message or modal share a ``custom_id``
(COMPONENT_CUSTOM_ID_DUPLICATED), an autocomplete choice's string value <= 100 characters
(Discord's choice structure; spec: 6000). The checks also restate limits the spec already has
(custom_id 100, button label 80, 5 per row, 25 select options, option label/value 100, modal
title and text-input label 45, embed part limits, 10 embeds, 25 fields, 25 options/choices,
autocomplete choice names 1-100) so
they hold even where the spec's schema is not reached; a field the schema already flagged is
never reported twice.

Route matching: literal path segments beat parameters; percent-encoded segments are decoded
(discord.py sends ``%40original``); a leading ``/api/v10`` is tolerated. Path snowflake
parameters and query parameters (unknown name, integer range, boolean, snowflake) are checked.

Deviations from the raw spec are deliberate, narrow and listed here:

* Snowflakes (``components.schemas.SnowflakeType``, a numeric string) also accept a
  non-negative integer. discord.py sends some IDs as ints (``message_reference.message_id``,
  ``allowed_mentions.roles``/``users``, role ids...) and Discord accepts them. Because the
  allowance lives on the SnowflakeType schema itself, it applies only at snowflake positions;
  real integer fields (``type``, ``style``, ``flags``...) are untouched.
* Permission bitfields (properties ``permissions``, ``allow``, ``deny`` and
  ``default_member_permissions`` whose spec type is integer) also accept a decimal string.
  Discord documents permissions as strings and accepts both ("Our API accepts strings for int
  fields if they are parseable as ints", discord-api-spec README); discord.py sends strings for
  role ``permissions`` (``Guild.create_role``) and overwrite ``allow``/``deny``
  (``Overwrite.to_dict``). Other integer fields still reject strings.
* ``format`` is only checked for ``date-time`` (ISO 8601 / RFC 3339) and ``uri`` (must have a
  scheme); Discord's custom formats (``snowflake``, ``nonce``, ``int32``...) are covered by the
  schema's own type/pattern/range keywords.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

__all__ = ["SPEC_PATH", "SpecValidator", "get_validator", "message_limit_problems"]

SPEC_PATH: Final = Path(__file__).parent / "spec" / "openapi.json"
_SPEC_URI: Final = "urn:holdfast:discord-openapi"
_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options")
_SNOWFLAKE_MARK: Final = "x-holdfast-snowflake"
_PERMISSION_KEYS: Final = frozenset({"permissions", "allow", "deny", "default_member_permissions"})
_SNOWFLAKE_RE: Final = re.compile(r"^(0|[1-9][0-9]*)$")
_MAX_SHOWN: Final = 40
_API_PREFIX: Final = re.compile(r"^/api(?:/v\d+)?(?=/)")

JSONPath = tuple[str | int, ...]


# --------------------------------------------------------------------------- helpers


def _short(value: object) -> str:
    """A repr of *value* for messages, truncated so huge strings don't flood the output."""
    if isinstance(value, str):
        if len(value) > _MAX_SHOWN:
            return repr(value[:_MAX_SHOWN] + "…") + f" ({len(value)} characters)"
        return repr(value)
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > _MAX_SHOWN:
        return text[:_MAX_SHOWN] + "…"
    return text


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _fmt_path(path: Iterable[str | int]) -> str:
    out = "body"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _or_list(items: Iterable[object]) -> str:
    words = [str(i) for i in items]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


def _pointer(*parts: str) -> str:
    return "/".join(quote(p.replace("~", "~0").replace("/", "~1"), safe="@{}") for p in parts)


def _check_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in value.upper() or " " in value


def _check_uri(value: object) -> bool:
    return not isinstance(value, str) or bool(urlsplit(value).scheme)


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    checker.checks("date-time")(_check_date_time)
    checker.checks("uri")(_check_uri)
    return checker


# --------------------------------------------------------------------------- schema errors


def _is_discriminator_miss(err: ValidationError) -> bool:
    """True if *err* shows a oneOf/anyOf branch is simply the wrong shape for the instance.

    Either the instance has the wrong JSON type for the branch (e.g. the ``{"type": "null"}``
    branch of a nullable field), or its ``type`` discriminator is not the branch's value
    (e.g. a button checked against the select-menu schema).
    """
    rel = list(err.relative_path)
    if not rel and err.validator == "type":
        return True
    return rel == ["type"] and err.validator in ("enum", "const")


def _leaf_message(err: ValidationError) -> str:
    inst = err.instance
    val = err.validator_value
    kw = err.validator
    if kw == "type":
        expected = val if isinstance(val, list) else [val]
        return (
            f"{_short(inst)} has the wrong type (expected {_or_list(expected)}, "
            f"got {_json_type(inst)})"
        )
    if kw == "maxLength":
        return f"{_short(inst)} is too long (at most {val} characters)"
    if kw == "minLength":
        if val == 1:
            return f"{_short(inst)} must not be empty"
        return f"{_short(inst)} is too short (at least {val} characters)"
    if kw == "maxItems":
        return f"has too many items ({len(inst)}, at most {val})"
    if kw == "minItems":
        return f"has too few items ({len(inst)}, at least {val})"
    if kw == "maxProperties":
        return f"has too many keys ({len(inst)}, at most {val})"
    if kw == "enum":
        return f"{_short(inst)} is not an allowed value (expected one of {_short(val)})"
    if kw == "const":
        return f"{_short(inst)} is not allowed here (must be {_short(val)})"
    if kw == "required":
        return "is missing"  # the path is rewritten to name the missing key
    if kw == "pattern":
        return f"{_short(inst)} does not match the pattern {val!r}"
    if kw == "minimum":
        return f"{_short(inst)} is too small (minimum {val})"
    if kw == "maximum":
        return f"{_short(inst)} is too large (maximum {val})"
    if kw == "exclusiveMinimum":
        return f"{_short(inst)} is too small (must be more than {val})"
    if kw == "exclusiveMaximum":
        return f"{_short(inst)} is too large (must be less than {val})"
    if kw == "uniqueItems":
        return "contains duplicate items"
    if kw == "format":
        return f"{_short(inst)} is not a valid {val}"
    if kw == "additionalProperties":
        return f"has unexpected keys: {err.message}"
    if kw == "oneOf":
        return f"{_short(inst)} matches more than one allowed shape"
    message = str(err.message)
    return message if len(message) < 200 else message[:200] + "…"


def _schema_problems(err: ValidationError) -> list[tuple[JSONPath, str]]:
    """Turn one jsonschema error into (field path, plain message) pairs.

    For ``oneOf``/``anyOf`` the branch that matches the instance's shape/discriminator is
    chosen and its errors reported, instead of jsonschema's opaque "not valid under any".
    """
    path: JSONPath = tuple(err.absolute_path)
    schema = err.schema if isinstance(err.schema, dict) else {}
    if schema.get(_SNOWFLAKE_MARK) and err.validator == "anyOf":
        return [(path, f"{_short(err.instance)} is not a valid snowflake ID (a numeric string)")]
    if err.validator == "required":
        missing = [k for k in err.validator_value if k not in err.instance]
        return [((*path, k), "is required but missing") for k in missing]
    if err.validator in ("oneOf", "anyOf", "allOf") and err.context:
        by_branch: dict[int, list[ValidationError]] = defaultdict(list)
        for sub in err.context:
            branch = sub.relative_schema_path[0]
            by_branch[int(branch) if isinstance(branch, int) else 0].append(sub)
        if err.validator == "allOf":
            return [p for subs in by_branch.values() for s in subs for p in _schema_problems(s)]
        fitting = {
            i: subs
            for i, subs in by_branch.items()
            if not any(_is_discriminator_miss(s) for s in subs)
        }
        if fitting:
            best = min(fitting.values(), key=len)
            return [p for s in best for p in _schema_problems(s)]
        # Every branch is the wrong shape: say what would have been accepted.
        subs_all = [s for subs in by_branch.values() for s in subs]
        allowed_types = sorted(
            {
                t
                for s in subs_all
                if s.validator == "type" and not list(s.relative_path)
                for t in (
                    s.validator_value
                    if isinstance(s.validator_value, list)
                    else [s.validator_value]
                )
            }
        )
        allowed_discriminators = sorted(
            {
                v
                for s in subs_all
                if list(s.relative_path) == ["type"] and s.validator in ("enum", "const")
                for v in (
                    s.validator_value
                    if isinstance(s.validator_value, list)
                    else [s.validator_value]
                )
            },
            key=lambda x: (0, x, "") if isinstance(x, int) else (1, 0, str(x)),
        )
        if allowed_discriminators and isinstance(err.instance, dict):
            return [
                (
                    (*path, "type"),
                    f"{_short(err.instance.get('type'))} is not an allowed type here "
                    f"(expected {_or_list(allowed_discriminators)})",
                )
            ]
        return [
            (
                path,
                f"{_short(err.instance)} has the wrong type "
                f"(expected {_or_list(allowed_types)}, got {_json_type(err.instance)})",
            )
        ]
    return [(path, _leaf_message(err))]


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class _Route:
    template: str
    regex: re.Pattern[str]
    sort_key: tuple[int, ...]
    params: tuple[str, ...]
    methods: Mapping[str, Mapping[str, Any]]
    shared_parameters: Sequence[Mapping[str, Any]]


def _compile_route(template: str, item: Mapping[str, Any]) -> _Route:
    segments = template.strip("/").split("/")
    parts: list[str] = []
    params: list[str] = []
    key: list[int] = []
    for seg in segments:
        m = re.fullmatch(r"\{([^}]+)\}", seg)
        if m:
            params.append(m.group(1))
            parts.append(f"(?P<p{len(params) - 1}>[^/]+)")
            key.append(1)
        else:
            parts.append(re.escape(seg))
            key.append(0)
    return _Route(
        template=template,
        regex=re.compile("^/" + "/".join(parts) + "$"),
        sort_key=tuple(key),
        params=tuple(params),
        methods={k: v for k, v in item.items() if k in _METHODS},
        shared_parameters=item.get("parameters", []),
    )


# --------------------------------------------------------------------------- Discord limits

_CHAT_INPUT_NAME_PUNCT: Final = frozenset("-_")
# Devanagari and Thai combining marks are also allowed by Discord's regex.
_NAME_SCRIPTS: Final = ("DEVANAGARI", "THAI")
_COMPONENTS_V2_FLAG: Final = 1 << 15

Problems = list[tuple[JSONPath, str]]


def _s(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _max_len(out: Problems, obj: Mapping[str, Any], key: str, limit: int, at: JSONPath) -> None:
    value = _s(obj, key)
    if value is not None and len(value) > limit:
        out.append(((*at, key), f"{_short(value)} is too long (at most {limit} characters)"))


def _len_range(
    out: Problems, obj: Mapping[str, Any], key: str, lo: int, hi: int, at: JSONPath
) -> None:
    value = obj.get(key)
    if value is None or value == "":
        if lo > 0:
            out.append(((*at, key), f"is required and must be {lo}-{hi} characters"))
        return
    if isinstance(value, str) and not lo <= len(value) <= hi:
        out.append(((*at, key), f"{_short(value)} must be {lo}-{hi} characters long"))


def _max_items(out: Problems, obj: Mapping[str, Any], key: str, limit: int, at: JSONPath) -> None:
    value = obj.get(key)
    if isinstance(value, list) and len(value) > limit:
        out.append(((*at, key), f"has too many items ({len(value)}, at most {limit})"))


def _dicts(value: object) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]


def _check_embeds(out: Problems, msg: Mapping[str, Any], at: JSONPath) -> None:
    _max_items(out, msg, "embeds", 10, at)
    total = 0
    for i, embed in _dicts(msg.get("embeds")):
        here = (*at, "embeds", i)
        _max_len(out, embed, "title", 256, here)
        _max_len(out, embed, "description", 4096, here)
        _max_items(out, embed, "fields", 25, here)
        total += len(_s(embed, "title") or "") + len(_s(embed, "description") or "")
        for j, fld in _dicts(embed.get("fields")):
            _max_len(out, fld, "name", 256, (*here, "fields", j))
            _max_len(out, fld, "value", 1024, (*here, "fields", j))
            total += len(_s(fld, "name") or "") + len(_s(fld, "value") or "")
        for key, sub, limit in (("footer", "text", 2048), ("author", "name", 256)):
            part = embed.get(key)
            if isinstance(part, dict):
                _max_len(out, part, sub, limit, (*here, key))
                total += len(_s(part, sub) or "")
    if total > 6000:
        out.append(
            (
                (*at, "embeds"),
                f"embeds hold {total} characters in total (at most 6000 across title, "
                "description, field names/values, footer text and author name)",
            )
        )


def _check_component_tree(out: Problems, value: object, at: JSONPath) -> None:
    """Per-component limits, applied to every component at any depth (v1 and v2 layouts)."""
    for i, comp in _dicts(value):
        _check_component(out, comp, (*at, i))


def _check_component(out: Problems, comp: Mapping[str, Any], here: JSONPath) -> None:
    ctype = comp.get("type")
    _max_len(out, comp, "custom_id", 100, here)
    if ctype == 2:  # button
        _max_len(out, comp, "label", 80, here)
        if comp.get("style") == 5:
            if not comp.get("url"):
                out.append(((*here, "url"), "is required for a link button (style 5)"))
            if comp.get("custom_id") is not None:
                out.append(((*here, "custom_id"), "is not allowed on a link button"))
        elif comp.get("style") != 6 and not comp.get("custom_id"):
            out.append(((*here, "custom_id"), "is required for a non-link button"))
    elif ctype in (3, 5, 6, 7, 8):  # select menus
        _max_len(out, comp, "placeholder", 150, here)
        _max_items(out, comp, "options", 25, here)
        for j, opt in _dicts(comp.get("options")):
            for key in ("label", "value", "description"):
                _max_len(out, opt, key, 100, (*here, "options", j))
    elif ctype in (4, 18):  # text input / label (modals)
        _max_len(out, comp, "label", 45, here)
    children = comp.get("components")
    if ctype == 1 and isinstance(children, list):  # action row
        buttons = sum(1 for c in children if isinstance(c, dict) and c.get("type") == 2)
        if buttons > 5:
            out.append(((*here, "components"), f"has {buttons} buttons (at most 5 per action row)"))
        if len(children) > 1 and any(
            isinstance(c, dict) and c.get("type") in (3, 5, 6, 7, 8) for c in children
        ):
            out.append(((*here, "components"), "a select menu must be alone in its action row"))
    _check_component_tree(out, children, (*here, "components"))
    for key in ("component", "accessory"):
        child = comp.get(key)
        if isinstance(child, dict):
            _check_component(out, child, (*here, key))


DUPLICATE_CUSTOM_ID: Final = (
    "[COMPONENT_CUSTOM_ID_DUPLICATED] Component custom id cannot be duplicated"
)


def _check_unique_custom_ids(out: Problems, comps: object, at: JSONPath) -> None:
    """Discord rejects a message or modal in which two components share a ``custom_id`` (50035
    COMPONENT_CUSTOM_ID_DUPLICATED, disabled components included: discord-api-docs issue 3673);
    the second occurrence is the field it names."""
    seen: set[str] = set()

    def visit(comp: Mapping[str, Any], here: JSONPath) -> None:
        custom_id = comp.get("custom_id")
        if isinstance(custom_id, str):
            if custom_id in seen:
                out.append(((*here, "custom_id"), DUPLICATE_CUSTOM_ID))
            seen.add(custom_id)
        for i, child in _dicts(comp.get("components")):
            visit(child, (*here, "components", i))
        for key in ("component", "accessory"):
            child = comp.get(key)
            if isinstance(child, dict):
                visit(child, (*here, key))

    for i, comp in _dicts(comps):
        visit(comp, (*at, i))


def _check_message(out: Problems, msg: object, at: JSONPath) -> None:
    if not isinstance(msg, dict):
        return
    _max_len(out, msg, "content", 2000, at)
    _check_embeds(out, msg, at)
    comps = msg.get("components")
    flags = msg.get("flags")
    v2 = isinstance(flags, int) and bool(flags & _COMPONENTS_V2_FLAG)
    if isinstance(comps, list) and not v2:
        rows = sum(1 for c in comps if isinstance(c, dict) and c.get("type") == 1)
        if rows > 5:
            out.append(((*at, "components"), f"has {rows} action rows (at most 5 per message)"))
    _check_component_tree(out, comps, (*at, "components"))
    _check_unique_custom_ids(out, comps, (*at, "components"))


def _check_modal(out: Problems, data: object, at: JSONPath) -> None:
    if not isinstance(data, dict):
        out.append((at, "a modal response needs a data object"))
        return
    _len_range(out, data, "title", 1, 45, at)
    _len_range(out, data, "custom_id", 1, 100, at)
    comps = data.get("components")
    if not isinstance(comps, list) or not 1 <= len(comps) <= 5:
        count = len(comps) if isinstance(comps, list) else 0
        out.append(((*at, "components"), f"a modal needs 1-5 components (got {count})"))
    for i, row in _dicts(comps):
        if row.get("type") == 1:
            for j, child in _dicts(row.get("components")):
                if child.get("type") == 4:
                    _len_range(out, child, "label", 1, 45, (*at, "components", i, "components", j))
    _check_component_tree(out, comps, (*at, "components"))
    _check_unique_custom_ids(out, comps, (*at, "components"))


def _valid_command_name(name: str) -> bool:
    if not 1 <= len(name) <= 32 or name != name.lower():
        return False
    for ch in name:
        if ch in _CHAT_INPUT_NAME_PUNCT or unicodedata.category(ch)[0] in "LN":
            continue
        if unicodedata.category(ch)[0] == "M" and unicodedata.name(ch, "").startswith(
            _NAME_SCRIPTS
        ):
            continue
        return False
    return True


def _check_name(out: Problems, obj: Mapping[str, Any], at: JSONPath) -> None:
    name = obj.get("name")
    if isinstance(name, str) and not _valid_command_name(name):
        out.append(
            (
                (*at, "name"),
                f"{_short(name)} is not a valid command name (1-32 lowercase letters, "
                "digits, '-' or '_')",
            )
        )


def _check_options(out: Problems, options: object, at: JSONPath) -> None:
    if not isinstance(options, list):
        return
    if len(options) > 25:
        out.append((at, f"has too many options ({len(options)}, at most 25)"))
    seen_optional = False
    for i, opt in _dicts(options):
        here = (*at, i)
        _check_name(out, opt, here)
        _len_range(out, opt, "description", 1, 100, here)
        if opt.get("type") in (1, 2):
            _check_options(out, opt.get("options"), (*here, "options"))
            continue
        if opt.get("required"):
            if seen_optional:
                out.append(((*here, "required"), "required options must come before optional ones"))
        else:
            seen_optional = True
        choices = opt.get("choices")
        if isinstance(choices, list) and len(choices) > 25:
            out.append(((*here, "choices"), f"has too many choices ({len(choices)}, at most 25)"))
        for j, choice in _dicts(choices):
            _len_range(out, choice, "name", 1, 100, (*here, "choices", j))


def _check_command(out: Problems, cmd: object, at: JSONPath, *, partial: bool) -> None:
    if not isinstance(cmd, dict):
        return
    if cmd.get("type", 1) in (1, None):  # CHAT_INPUT
        _check_name(out, cmd, at)
        if not partial or "description" in cmd:
            _len_range(out, cmd, "description", 1, 100, at)
    else:  # USER / MESSAGE context menu commands: any case and spaces allowed
        _len_range(out, cmd, "name", 1, 32, at)
    _check_options(out, cmd.get("options"), (*at, "options"))


def _check_commands(out: Problems, body: object) -> None:
    if isinstance(body, list):
        for i, cmd in enumerate(body):
            _check_command(out, cmd, (i,), partial=False)


def _check_event(out: Problems, body: object, *, partial: bool) -> None:
    if not isinstance(body, dict):
        return
    entity_type = body.get("entity_type")
    if entity_type == 3:  # EXTERNAL
        if not body.get("scheduled_end_time"):
            out.append((("scheduled_end_time",), "is required for an external event"))
        meta = body.get("entity_metadata")
        location = meta.get("location") if isinstance(meta, dict) else None
        if not location:
            out.append((("entity_metadata", "location"), "is required for an external event"))
        if body.get("channel_id") is not None:
            out.append((("channel_id",), "must be null for an external event"))
    elif entity_type in (1, 2) and not partial and body.get("channel_id") is None:
        out.append((("channel_id",), "is required for a stage or voice event"))


_Check = Callable[[Problems, object], None]


def _callback(out: Problems, body: object) -> None:
    if not isinstance(body, dict):
        return
    kind = body.get("type")
    if kind in (4, 7):
        _check_message(out, body.get("data"), ("data",))
    elif kind == 8:
        data = body.get("data")
        if isinstance(data, dict):
            _max_items(out, data, "choices", 25, ("data",))
            # Discord, "Application Command Option Choice Structure": name 1-100 characters,
            # value "up to 100 characters if string" (the spec allows a 6,000-character value).
            for j, choice in _dicts(data.get("choices")):
                here = ("data", "choices", j)
                _len_range(out, choice, "name", 1, 100, here)
                _max_len(out, choice, "value", 100, here)
    elif kind == 9:
        _check_modal(out, body.get("data"), ("data",))


_LIMIT_CHECKS: Final[dict[tuple[str, str], _Check]] = {
    ("POST", "/channels/{channel_id}/messages"): lambda o, b: _check_message(o, b, ()),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}"): lambda o, b: _check_message(
        o, b, ()
    ),
    ("POST", "/channels/{channel_id}/threads"): lambda o, b: _check_message(
        o, b.get("message") if isinstance(b, dict) else None, ("message",)
    ),
    ("POST", "/webhooks/{webhook_id}/{webhook_token}"): lambda o, b: _check_message(o, b, ()),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/@original"): lambda o, b: (
        _check_message(o, b, ())
    ),
    ("PATCH", "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"): lambda o, b: (
        _check_message(o, b, ())
    ),
    ("POST", "/interactions/{interaction_id}/{interaction_token}/callback"): _callback,
    ("PUT", "/applications/{application_id}/commands"): _check_commands,
    ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands"): _check_commands,
    ("POST", "/applications/{application_id}/commands"): lambda o, b: _check_command(
        o, b, (), partial=False
    ),
    ("POST", "/applications/{application_id}/guilds/{guild_id}/commands"): lambda o, b: (
        _check_command(o, b, (), partial=False)
    ),
    ("PATCH", "/applications/{application_id}/commands/{command_id}"): lambda o, b: _check_command(
        o, b, (), partial=True
    ),
    ("PATCH", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}"): (
        lambda o, b: _check_command(o, b, (), partial=True)
    ),
    ("POST", "/guilds/{guild_id}/scheduled-events"): lambda o, b: _check_event(o, b, partial=False),
    ("PATCH", "/guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}"): lambda o, b: (
        _check_event(o, b, partial=True)
    ),
}


# --------------------------------------------------------------------------- validator


@dataclass
class _Operation:
    method: str
    route: _Route
    op: Mapping[str, Any]
    query: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    path_params: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    body_pointer: str | None = None
    body_required: bool = False
    _validator: Draft202012Validator | None = None


class SpecValidator:
    """Checks requests against Discord's OpenAPI spec plus Discord's documented hard limits."""

    def __init__(self, spec_path: Path = SPEC_PATH) -> None:
        with spec_path.open("rb") as fh:
            doc: dict[str, Any] = json.load(fh)
        self._doc = self._patch_spec(doc)
        resource: Resource[Any] = Resource.from_contents(
            self._doc, default_specification=DRAFT202012
        )
        self._registry: Registry[Any] = Registry().with_resource(_SPEC_URI, resource)
        self._format_checker = _format_checker()
        self._routes = sorted(
            (_compile_route(t, item) for t, item in self._doc["paths"].items()),
            key=lambda r: (len(r.sort_key), r.sort_key),
        )
        self._ops: dict[tuple[str, str], _Operation] = {}
        self._lock = threading.Lock()

    # -- spec loading -----------------------------------------------------------------

    @staticmethod
    def _patch_spec(doc: dict[str, Any]) -> dict[str, Any]:
        schemas = doc["components"]["schemas"]
        original = schemas["SnowflakeType"]
        # Allowance (see module docstring): discord.py sends some snowflakes as ints.
        schemas["SnowflakeType"] = {
            _SNOWFLAKE_MARK: True,
            "anyOf": [copy.deepcopy(original), {"type": "integer", "minimum": 0}],
        }
        _allow_string_permissions(doc)
        return doc

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while "$ref" in node and seen < 20:
            ref: str = node["$ref"]
            target: Any = self._doc
            for part in ref.removeprefix("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
        return node

    def _operation(self, method: str, route: _Route) -> _Operation:
        key = (method, route.template)
        cached = self._ops.get(key)
        if cached is not None:
            return cached
        op = route.methods[method.lower()]
        entry = _Operation(method=method, route=route, op=op)
        for param in (*route.shared_parameters, *op.get("parameters", [])):
            param = self._resolve(param)
            where = entry.query if param.get("in") == "query" else entry.path_params
            where[param["name"]] = self._resolve(param.get("schema", {}))
        body = op.get("requestBody")
        if body is not None:
            body = self._resolve(body)
            content = body.get("content", {})
            entry.body_required = bool(body.get("required"))
            base = ("paths", route.template, method.lower(), "requestBody", "content")
            if "application/json" in content:
                entry.body_pointer = _pointer(*base, "application/json", "schema")
            elif "multipart/form-data" in content:
                props = content["multipart/form-data"].get("schema", {}).get("properties", {})
                if "payload_json" in props:
                    entry.body_pointer = _pointer(
                        *base, "multipart/form-data", "schema", "properties", "payload_json"
                    )
        with self._lock:
            return self._ops.setdefault(key, entry)

    def _body_validator(self, entry: _Operation) -> Draft202012Validator:
        if entry._validator is None:
            schema = {"$ref": f"{_SPEC_URI}#/{entry.body_pointer}"}
            entry._validator = Draft202012Validator(
                schema, registry=self._registry, format_checker=self._format_checker
            )
        return entry._validator

    # -- public API -------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[str, dict[str, str]] | None:
        """Return (route template, path params) for *path*, or None if Discord has no route."""
        found = self._match(path.split("?", 1)[0])
        if found is None:
            return None
        route, params = found
        return route.template, params

    def _match(self, path: str) -> tuple[_Route, dict[str, str]] | None:
        path = _API_PREFIX.sub("", path, count=1)  # tolerate an unstripped /api/v10
        if "%" in path:  # discord.py percent-encodes segments, e.g. @original -> %40original
            path = "/".join(seg if "/" in (dec := unquote(seg)) else dec for seg in path.split("/"))
        if len(path) > 1:
            path = path.rstrip("/")
        if not path.startswith("/"):
            path = "/" + path
        for route in self._routes:
            m = route.regex.match(path)
            if m:
                return route, {name: m.group(f"p{i}") for i, name in enumerate(route.params)}
        return None

    def validate(self, method: str, path: str, body: object | None) -> list[str]:
        method = method.upper()
        raw_path, _, query = path.partition("?")
        found = self._match(raw_path)
        if found is None:
            return [f"{method} {raw_path}: Discord has no such route"]
        route, path_values = found
        if method.lower() not in route.methods:
            allowed = ", ".join(m.upper() for m in route.methods)
            return [
                f"{method} {route.template}: Discord has no such route "
                f"(this path only supports {allowed})"
            ]
        entry = self._operation(method, route)
        prefix = f"{method} {route.template}"
        problems = [f"{prefix}: {p}" for p in self._check_params(entry, path_values, query)]
        problems += [f"{prefix}: {p}" for p in self._check_body(entry, body)]
        return problems

    # -- checks -----------------------------------------------------------------------

    def _check_params(self, entry: _Operation, values: dict[str, str], query: str) -> list[str]:
        out: list[str] = []
        for name, value in values.items():
            path_schema = entry.path_params.get(name, {})
            if path_schema.get(_SNOWFLAKE_MARK) and not _SNOWFLAKE_RE.match(value):
                out.append(f"path parameter {name}: {_short(value)} is not a valid snowflake ID")
        for name, value in parse_qsl(query, keep_blank_values=True):
            schema = entry.query.get(name)
            if schema is None:
                known = ", ".join(entry.query) or "none"
                out.append(f"query parameter {name!r} is not accepted here (known: {known})")
                continue
            kinds = schema.get("type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if schema.get(_SNOWFLAKE_MARK) and not _SNOWFLAKE_RE.match(value):
                out.append(f"query parameter {name}: {_short(value)} is not a valid snowflake ID")
            elif "integer" in kinds:
                try:
                    number = int(value)
                except ValueError:
                    out.append(f"query parameter {name}: {_short(value)} is not an integer")
                    continue
                low, high = schema.get("minimum"), schema.get("maximum")
                if (low is not None and number < low) or (high is not None and number > high):
                    out.append(f"query parameter {name}: {number} is out of range ({low}..{high})")
            elif "boolean" in kinds and value.lower() not in ("true", "false", "1", "0"):
                out.append(f"query parameter {name}: {_short(value)} is not a boolean")
        return out

    def _check_body(self, entry: _Operation, body: object | None) -> list[str]:
        if entry.body_pointer is None:
            if body not in (None, {}, []) and entry.op.get("requestBody") is None:
                return [f"body: this route takes no request body (got {_short(body)})"]
            return []
        if body is None:
            if entry.body_required and self._requires_fields(entry):
                return ["body: a JSON request body is required"]
            return []
        found: Problems = []
        validator = self._body_validator(entry)
        for err in validator.iter_errors(body):
            found.extend(_schema_problems(err))
        seen_paths = {p for p, _ in found}
        extra: Problems = []
        check = _LIMIT_CHECKS.get((entry.method, entry.route.template))
        if check is not None:
            check(extra, body)
        # A field already reported by the schema is not reported twice by the limit checks.
        found += [(p, m) for p, m in extra if p not in seen_paths]
        out: list[str] = []
        for path, message in found:
            line = f"{_fmt_path(path)}: {message}"
            if line not in out:
                out.append(line)
        return out

    def check_schema(self, schema_name: str, instance: object) -> list[str]:
        """Problems of ``instance`` against ``components.schemas[schema_name]`` (e.g.
        ``VoiceStateResponse``): emulator self-tests use it to check that what the emulator
        *sends* has the shape Discord's spec gives its responses."""
        schemas = self._doc["components"]["schemas"]
        if schema_name not in schemas:
            raise KeyError(f"the spec has no schema {schema_name!r}")
        validator = Draft202012Validator(
            {"$ref": f"{_SPEC_URI}#/components/schemas/{schema_name}"},
            registry=self._registry,
            format_checker=self._format_checker,
        )
        found: Problems = []
        for err in validator.iter_errors(instance):
            found.extend(_schema_problems(err))
        return list(dict.fromkeys(f"{_fmt_path(path)}: {message}" for path, message in found))

    def _requires_fields(self, entry: _Operation) -> bool:
        assert entry.body_pointer is not None
        node: Any = self._doc
        for part in entry.body_pointer.split("/"):
            node = node[_unpointer(part)]
        node = self._resolve(node)
        return bool(node.get("required")) or "oneOf" in node


def _allow_string_permissions(node: object) -> None:
    """Let integer permission bitfields also be decimal strings (see module docstring)."""
    if isinstance(node, list):
        for item in node:
            _allow_string_permissions(item)
        return
    if not isinstance(node, dict):
        return
    props = node.get("properties")
    if isinstance(props, dict):
        for key in _PERMISSION_KEYS & props.keys():
            schema = props[key]
            kinds = schema.get("type") if isinstance(schema, dict) else None
            if kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds):
                props[key] = {"anyOf": [schema, {"type": "string", "pattern": "^[0-9]{1,20}$"}]}
    for value in node.values():
        _allow_string_permissions(value)


def _unpointer(part: str) -> str:
    return unquote(part).replace("~1", "/").replace("~0", "~")


def message_limit_problems(body: object) -> list[str]:
    """Discord's hard limits on a message body (the code checks of ``_LIMIT_CHECKS`` for Create
    Message, without the OpenAPI schema pass): cheap enough to run on every message the seeded
    simulation (tests/sim) sends, which validates full bodies against the spec only by sample."""
    found: Problems = []
    _check_message(found, body, ())
    return [f"{_fmt_path(path)}: {message}" for path, message in found]


@lru_cache(maxsize=1)
def get_validator() -> SpecValidator:
    """The process-wide validator; the spec is loaded and indexed once."""
    return SpecValidator()
