"""Tests for the emulator's request validator (tests/emulator/validation.py).

Valid payloads are built with discord.py's own payload builders wherever possible, so that
"what discord.py really sends" is what gets checked against Discord's OpenAPI spec.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import discord
import pytest
from discord import app_commands
from discord.http import handle_message_parameters
from discord.webhook.async_ import (
    AsyncWebhookAdapter,
    interaction_message_response_params,
    interaction_response_params,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.emulator.validation import SPEC_PATH, SpecValidator, get_validator

CHANNEL = "/channels/111111111111111111/messages"
CALLBACK = "/interactions/222222222222222222/aW50ZXJhY3Rpb24tdG9rZW4/callback"
GLOBAL_COMMANDS = "/applications/333333333333333333/commands"
GUILD_COMMANDS = "/applications/333333333333333333/guilds/444444444444444444/commands"
EVENTS = "/guilds/444444444444444444/scheduled-events"
WEBHOOK = "/webhooks/333333333333333333/aW50ZXJhY3Rpb24tdG9rZW4"
START = dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def v() -> SpecValidator:
    return get_validator()


def _one(problems: list[str], *needles: str) -> str:
    """Exactly one problem, containing every needle."""
    assert len(problems) == 1, problems
    for needle in needles:
        assert needle in problems[0], problems[0]
    return problems[0]


class _Row(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.add_item(discord.ui.Button(label="I'll be there", custom_id="rsvp:yes:42"))
        self.add_item(
            discord.ui.Button(
                label="Can't make it", custom_id="rsvp:no:42", style=discord.ButtonStyle.danger
            )
        )
        self.add_item(discord.ui.Button(label="Docs", url="https://example.org/holdfast"))
        self.add_item(
            discord.ui.Select(
                custom_id="tz",
                placeholder="Your time zone",
                options=[discord.SelectOption(label="UTC", value="UTC", default=True)],
            )
        )


class _CheckIn(discord.ui.Modal, title="How are you doing?"):
    mood = discord.ui.TextInput(label="Mood", custom_id="mood", max_length=100)
    notes = discord.ui.TextInput(
        label="Anything else?", style=discord.TextStyle.paragraph, required=False
    )


def _embed() -> discord.Embed:
    embed = discord.Embed(
        title="December meeting",
        description="Monthly meeting of the group.",
        colour=discord.Colour.blurple(),
        timestamp=START,
        url="https://example.org/m/42",
    )
    embed.add_field(name="When", value=discord.utils.format_dt(START), inline=False)
    embed.set_footer(text="Holdfast")
    embed.set_author(name="Holdfast bot")
    return embed


def _message_payload(**kwargs: Any) -> dict[str, Any]:
    params = handle_message_parameters(**kwargs)
    assert params.payload is not None
    return json.loads(json.dumps(params.payload))  # exactly what goes on the wire


def _tree() -> tuple[app_commands.CommandTree[discord.Client], list[dict[str, Any]]]:
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(client)
    group = app_commands.Group(name="meeting", description="Manage meetings")

    @group.command(name="schedule", description="Schedule the next meeting")
    @app_commands.describe(when="Start time", kind="Kind of meeting")
    @app_commands.choices(
        kind=[
            app_commands.Choice(name="Online", value="online"),
            app_commands.Choice(name="In person", value="irl"),
        ]
    )
    async def schedule(
        interaction: discord.Interaction,
        when: str,
        kind: app_commands.Choice[str],
        seats: app_commands.Range[int, 1, 50] = 10,
        room: discord.VoiceChannel | None = None,
    ) -> None: ...

    @app_commands.command(name="checkin", description="Private check-in", nsfw=False)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    async def checkin(interaction: discord.Interaction, member: discord.Member) -> None: ...

    @app_commands.context_menu(name="Report Message")
    async def report(interaction: discord.Interaction, message: discord.Message) -> None: ...

    for cmd in (group, checkin, report):
        tree.add_command(cmd)
    payload = [cmd.to_dict(tree) for cmd in tree.get_commands()]
    return tree, json.loads(json.dumps(payload))


# ----------------------------------------------------------------- spec file provenance


def test_spec_is_vendored_with_licence_and_source() -> None:
    spec_dir = SPEC_PATH.parent
    assert json.loads(SPEC_PATH.read_bytes())["openapi"].startswith("3.1")
    assert "MIT" in (spec_dir / "LICENSE").read_text()
    source = (spec_dir / "SOURCE.md").read_text()
    assert "discord/discord-api-spec" in source
    assert hashlib.sha256(SPEC_PATH.read_bytes()).hexdigest() in source


# ----------------------------------------------------------------- valid discord.py payloads


def test_create_message_like_discord_py(v: SpecValidator) -> None:
    body = _message_payload(
        content="Meeting tomorrow <@&555555555555555555>",
        embed=_embed(),
        view=_Row(),
        nonce=1234567890,
        allowed_mentions=discord.AllowedMentions(roles=[discord.Object(555555555555555555)]),
        message_reference={
            "message_id": 666666666666666666,
            "channel_id": 111111111111111111,
            "guild_id": 444444444444444444,
            "fail_if_not_exists": False,
        },
        mention_author=False,
        flags=discord.MessageFlags(suppress_notifications=True),
        stickers=[],
    )
    assert isinstance(body["allowed_mentions"]["roles"][0], int)  # int snowflakes on the wire
    assert v.validate("POST", CHANNEL, body) == []


def test_edit_message_like_discord_py(v: SpecValidator) -> None:
    body = _message_payload(content="Edited", embeds=[], view=None, attachments=[])
    assert v.validate("PATCH", CHANNEL + "/666666666666666666", body) == []


def test_interaction_callbacks_like_discord_py(v: SpecValidator) -> None:
    msg = interaction_message_response_params(
        type=4,
        content="Saved.",
        embed=_embed(),
        view=_Row(),
        flags=discord.MessageFlags(ephemeral=True),
        allowed_mentions=discord.AllowedMentions.none(),
    ).payload
    update = interaction_message_response_params(type=7, content="Done", view=None).payload
    bodies: list[object] = [
        msg,
        update,
        interaction_response_params(5, {"flags": 64}).payload,
        interaction_response_params(5).payload,
        interaction_response_params(6).payload,
        interaction_response_params(8, {"choices": [{"name": "UTC", "value": "UTC"}]}).payload,
        interaction_response_params(9, _CheckIn().to_dict()).payload,
    ]
    for body in bodies:
        assert v.validate("POST", CALLBACK, json.loads(json.dumps(body))) == [], body
    assert v.validate("POST", CALLBACK + "?with_response=true", {"type": 6}) == []


def test_autocomplete_choice_string_values_are_at_most_100_characters_as_discord_documents(
    v: SpecValidator,
) -> None:
    # Discord, "Application Command Option Choice Structure": value "up to 100 characters if
    # string"; the OpenAPI spec says 6000.
    def choices(value: str) -> dict[str, Any]:
        return {"type": 8, "data": {"choices": [{"name": "North", "value": value}]}}

    assert v.validate("POST", CALLBACK, choices("n" * 100)) == []
    _one(v.validate("POST", CALLBACK, choices("n" * 101)), "choices[0].value", "at most 100")


def test_followup_and_original_response(v: SpecValidator) -> None:
    body = _message_payload(
        content="Follow-up",
        embeds=[_embed()],
        view=_Row(),
        flags=discord.MessageFlags(ephemeral=True),
    )
    assert v.validate("POST", WEBHOOK + "?wait=true", body) == []
    patch = _message_payload(content="Updated", view=None)
    assert v.validate("PATCH", WEBHOOK + "/messages/@original", patch) == []
    assert v.validate("PATCH", WEBHOOK + "/messages/777777777777777777", patch) == []
    assert v.validate("DELETE", WEBHOOK + "/messages/@original", None) == []


def test_bulk_overwrite_commands_like_discord_py(v: SpecValidator) -> None:
    _, payload = _tree()
    options = next(c for c in payload if c["name"] == "meeting")["options"][0]["options"]
    assert {o["name"] for o in options} == {"when", "kind", "seats", "room"}
    checkin = next(c for c in payload if c["name"] == "checkin")
    assert checkin["contexts"] == [0]
    assert checkin["integration_types"] == [0]
    assert checkin["default_member_permissions"] == 32  # manage_guild, sent as an int
    assert {"nsfw", "dm_permission"} <= checkin.keys()
    assert v.validate("PUT", GLOBAL_COMMANDS, payload) == []
    assert v.validate("PUT", GUILD_COMMANDS, payload) == []
    assert v.validate("POST", GUILD_COMMANDS, payload[0]) == []


def test_misc_routes(v: SpecValidator) -> None:
    assert v.validate("POST", "/users/@me/channels", {"recipient_id": 888888888888888888}) == []
    role = "/guilds/444444444444444444/members/888888888888888888/roles/555555555555555555"
    assert v.validate("PUT", role, None) == []
    assert v.validate("DELETE", role, None) == []
    assert v.validate("GET", CHANNEL + "?limit=50&before=666666666666666666", None) == []
    assert v.validate("GET", "/gateway/bot", None) == []


def test_scheduled_events(v: SpecValidator) -> None:
    external = {
        "name": "December meeting",
        "scheduled_start_time": START.isoformat(),
        "scheduled_end_time": (START + dt.timedelta(hours=2)).isoformat(),
        "entity_type": discord.EntityType.external.value,
        "privacy_level": discord.PrivacyLevel.guild_only.value,
        "description": "Monthly",
        "entity_metadata": {"location": "Community hall"},
    }
    assert v.validate("POST", EVENTS, external) == []
    for kind in (discord.EntityType.voice, discord.EntityType.stage_instance):
        body = {
            "name": "Online",
            "scheduled_start_time": START.isoformat(),
            "entity_type": kind.value,
            "privacy_level": 2,
            "channel_id": 999999999999999999,
        }
        assert v.validate("POST", EVENTS, body) == [], kind
    event = EVENTS + "/121212121212121212"
    assert v.validate("PATCH", event, {"name": "Renamed", "description": None}) == []
    assert v.validate("PATCH", event, {"status": 2}) == []


class _Recorder:
    """Stands in for discord.py's transport: records (method, path?query, json body)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, object | None]] = []

    def _record(self, route: Any, body: object | None, params: dict[str, Any] | None) -> None:
        path = urlsplit(route.url).path.removeprefix("/api/v10")
        if params:
            path += "?" + urlencode(params)
        self.calls.append((route.method, path, json.loads(json.dumps(body))))

    def http(self, route: Any, **kwargs: Any) -> None:
        self._record(route, kwargs.get("json"), kwargs.get("params"))

    def webhook(self, route: Any, **kwargs: Any) -> None:
        self._record(route, kwargs.get("payload"), kwargs.get("params"))


def test_requests_from_discord_py_transport_layer(v: SpecValidator) -> None:
    """Drive discord.py's own HTTP/webhook clients and validate exactly what they emit."""
    rec = _Recorder()
    http = discord.http.HTTPClient(loop=None)  # type: ignore[arg-type]
    http.request = rec.http  # type: ignore[assignment,method-assign]
    hook = AsyncWebhookAdapter()
    hook.request = rec.webhook  # type: ignore[assignment,method-assign]
    session: Any = None
    chan, msg, guild, user, role, app = 11, 22, 33, 44, 55, 66
    params = handle_message_parameters(
        content="Reminder", embed=_embed(), view=_Row(), nonce=None, mention_author=None
    )
    _, commands = _tree()

    http.send_message(chan, params=params)
    http.edit_message(chan, msg, params=handle_message_parameters(content="x", view=None))
    http.start_private_message(user)
    http.add_role(guild, user, role)
    http.remove_role(guild, user, role)
    http.logs_from(chan, 100, before=msg)
    http.bulk_upsert_global_commands(app, commands)
    http.bulk_upsert_guild_commands(app, guild, commands)
    http.edit_channel_permissions(chan, role, "1024", "2048", 0)
    http.create_role(guild, name="Host", permissions="8", mentionable=True)
    http.create_guild_scheduled_event(
        guild,
        name="Meeting",
        privacy_level=2,
        scheduled_start_time=START.isoformat(),
        scheduled_end_time=(START + dt.timedelta(hours=1)).isoformat(),
        entity_type=3,
        entity_metadata={"location": "Hall"},
        description="Monthly",
    )
    http.edit_scheduled_event(guild, 77, name="Renamed", status=2)
    for payload in (
        interaction_message_response_params(type=4, content="ok", view=_Row()),
        interaction_response_params(5, {"flags": 64}),
        interaction_response_params(9, _CheckIn().to_dict()),
    ):
        hook.create_interaction_response(1, "tok", session=session, params=payload)
    hook.execute_webhook(app, "tok", session=session, payload=params.payload, wait=True)
    hook.edit_webhook_message(app, "tok", "@original", session=session, payload=params.payload)
    hook.delete_webhook_message(app, "tok", "@original", session=session)

    assert len(rec.calls) == 18
    for method, path, body in rec.calls:
        assert v.validate(method, path, body) == [], (method, path, body)


# ----------------------------------------------------------------- hard limits

_LIMIT_CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("content", {"content": "x" * 2001}, "body.content", "at most 2000"),
    (
        "custom_id",
        {
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 1, "label": "a", "custom_id": "c" * 101}],
                }
            ]
        },
        "body.components[0].components[0].custom_id",
        "at most 100",
    ),
    (
        "button label",
        {
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 1, "label": "L" * 81, "custom_id": "c"}],
                }
            ]
        },
        "body.components[0].components[0].label",
        "at most 80",
    ),
    (
        "action rows",
        {
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 1, "label": "a", "custom_id": f"c{i}"}],
                }
                for i in range(6)
            ]
        },
        "body.components",
        "at most 5",
    ),
    (
        "buttons per row",
        {
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 1, "label": "a", "custom_id": f"c{i}"}
                        for i in range(6)
                    ],
                }
            ]
        },
        "body.components[0].components",
        "at most 5",
    ),
    (
        "select options",
        {
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 3,
                            "custom_id": "s",
                            "options": [{"label": str(i), "value": str(i)} for i in range(26)],
                        }
                    ],
                }
            ]
        },
        "body.components[0].components[0].options",
        "at most 25",
    ),
    (
        "select option label",
        {
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 3,
                            "custom_id": "s",
                            "options": [{"label": "o" * 101, "value": "v"}],
                        }
                    ],
                }
            ]
        },
        "body.components[0].components[0].options[0].label",
        "at most 100",
    ),
    (
        "select option value",
        {
            "components": [
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 3,
                            "custom_id": "s",
                            "options": [{"label": "l", "value": "v" * 101}],
                        }
                    ],
                }
            ]
        },
        "body.components[0].components[0].options[0].value",
        "at most 100",
    ),
    ("embed count", {"embeds": [{"title": "t"}] * 11}, "body.embeds", "at most 10"),
    ("embed title", {"embeds": [{"title": "t" * 257}]}, "body.embeds[0].title", "at most 256"),
    (
        "embed description",
        {"embeds": [{"description": "d" * 4097}]},
        "body.embeds[0].description",
        "at most 4096",
    ),
    (
        "embed fields",
        {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]},
        "body.embeds[0].fields",
        "at most 25",
    ),
    (
        "field name",
        {"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]},
        "body.embeds[0].fields[0].name",
        "at most 256",
    ),
    (
        "field value",
        {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
        "body.embeds[0].fields[0].value",
        "at most 1024",
    ),
    (
        "footer",
        {"embeds": [{"footer": {"text": "f" * 2049}}]},
        "body.embeds[0].footer.text",
        "at most 2048",
    ),
    (
        "author",
        {"embeds": [{"author": {"name": "a" * 257}}]},
        "body.embeds[0].author.name",
        "at most 256",
    ),
    (
        "embed total",
        {"embeds": [{"description": "d" * 4000}, {"description": "d" * 2001}]},
        "body.embeds",
        "6000",
    ),
]


@pytest.mark.parametrize(
    ("body", "field", "words"), [c[1:] for c in _LIMIT_CASES], ids=[c[0] for c in _LIMIT_CASES]
)
def test_message_limits(v: SpecValidator, body: dict[str, Any], field: str, words: str) -> None:
    problem = _one(v.validate("POST", CHANNEL, body), f": {field}: ", words)
    assert problem.startswith("POST /channels/{channel_id}/messages: ")
    # the same limits hold when the message is an interaction response
    _one(
        v.validate("POST", CALLBACK, {"type": 4, "data": body}),
        field.replace("body.", "body.data."),
        words,
    )


@settings(max_examples=25, deadline=None)
@given(length=st.integers(min_value=0, max_value=4100))
def test_content_limit_boundary(length: int) -> None:
    problems = get_validator().validate("POST", CHANNEL, {"content": "é" * length})
    assert bool(problems) == (length > 2000), problems


def test_long_values_are_truncated(v: SpecValidator) -> None:
    problem = _one(v.validate("POST", CHANNEL, {"content": "x" * 5000}))
    assert "…" in problem
    assert len(problem) < 200


def _modal(**changes: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(_CheckIn().to_dict()))
    data.update(changes)
    return {"type": 9, "data": data}


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        (_modal(title="T" * 46), "body.data.title", "45"),
        (_modal(components=[]), "body.data.components", "1"),
        (
            _modal(
                components=[
                    {
                        "type": 1,
                        "components": [{"type": 4, "custom_id": f"t{i}", "style": 1, "label": "x"}],
                    }
                    for i in range(6)
                ]
            ),
            "body.data.components",
            "5",
        ),
        (
            _modal(
                components=[
                    {
                        "type": 1,
                        "components": [
                            {"type": 4, "custom_id": "t", "style": 1, "label": "x" * 46}
                        ],
                    }
                ]
            ),
            "body.data.components[0].components[0].label",
            "45",
        ),
    ],
    ids=["title", "no components", "six components", "text input label"],
)
def test_modal_limits(v: SpecValidator, body: dict[str, Any], field: str, words: str) -> None:
    problems = v.validate("POST", CALLBACK, body)
    assert problems, body
    assert any(f": {field}: " in p and words in p for p in problems), problems


def test_external_event_needs_end_time_and_location(v: SpecValidator) -> None:
    body = {
        "name": "Meeting",
        "scheduled_start_time": START.isoformat(),
        "entity_type": 3,
        "privacy_level": 2,
        "entity_metadata": {},
    }
    problems = v.validate("POST", EVENTS, body)
    assert any("body.scheduled_end_time: " in p for p in problems), problems
    assert any("body.entity_metadata.location: " in p for p in problems), problems


def _command(**changes: Any) -> dict[str, Any]:
    cmd: dict[str, Any] = {"name": "rsvp", "description": "Answer", "type": 1, "options": []}
    cmd.update(changes)
    return cmd


def _opt(name: str = "when", **changes: Any) -> dict[str, Any]:
    opt: dict[str, Any] = {"type": 3, "name": name, "description": "d", "required": False}
    opt.update(changes)
    return opt


@pytest.mark.parametrize(
    ("cmd", "field", "words"),
    [
        (_command(name="RSVP"), "body[0].name", "lowercase"),
        (_command(name="rsvp now"), "body[0].name", "not a valid command name"),
        (_command(name="r" * 33), "body[0].name", "32"),
        (_command(description=""), "body[0].description", "1-100"),
        (_command(description="d" * 101), "body[0].description", "100"),
        (_command(options=[_opt(f"o{i}") for i in range(26)]), "body[0].options", "at most 25"),
        (
            _command(options=[_opt("Bad Name")]),
            "body[0].options[0].name",
            "not a valid command name",
        ),
        (
            _command(
                options=[_opt(choices=[{"name": str(i), "value": str(i)} for i in range(26)])]
            ),
            "body[0].options[0].choices",
            "at most 25",
        ),
        (
            _command(options=[{"type": 1, "name": "sub", "description": "", "options": []}]),
            "body[0].options[0].description",
            "",
        ),
    ],
    ids=[
        "uppercase",
        "space",
        "long name",
        "empty description",
        "long description",
        "26 options",
        "option name",
        "26 choices",
        "subcommand description",
    ],
)
def test_command_limits(v: SpecValidator, cmd: dict[str, Any], field: str, words: str) -> None:
    problems = v.validate("PUT", GLOBAL_COMMANDS, [cmd])
    assert any(f": {field}: " in p and words in p for p in problems), problems


def test_context_menu_names_may_have_capitals_and_spaces(v: SpecValidator) -> None:
    assert v.validate("PUT", GLOBAL_COMMANDS, [{"name": "Report Message", "type": 3}]) == []


# ----------------------------------------------------------------- schema violations


def test_wrong_type_names_the_field(v: SpecValidator) -> None:
    _one(v.validate("POST", CHANNEL, {"content": 5}), "body.content: ", "wrong type", "string")
    _one(v.validate("POST", CHANNEL, {"tts": "yes"}), "body.tts: ", "wrong type", "boolean")


def test_unknown_enum_names_the_field(v: SpecValidator) -> None:
    body = {
        "components": [
            {"type": 1, "components": [{"type": 2, "style": 9, "label": "a", "custom_id": "c"}]}
        ]
    }
    _one(v.validate("POST", CHANNEL, body), "body.components[0].components[0].style: ", "9")
    _one(v.validate("POST", CALLBACK, {"type": 42}), "body.type: ", "42")


def test_missing_required_field(v: SpecValidator) -> None:
    _one(
        v.validate("POST", CHANNEL, {"message_reference": {"channel_id": "1"}}),
        "body.message_reference.message_id: ",
        "missing",
    )


def test_int_snowflakes_accepted_but_bad_snowflakes_rejected(v: SpecValidator) -> None:
    assert (
        v.validate("POST", CHANNEL, {"content": "x", "message_reference": {"message_id": 42}}) == []
    )
    assert (
        v.validate("POST", CHANNEL, {"content": "x", "message_reference": {"message_id": "42"}})
        == []
    )
    _one(
        v.validate("POST", CHANNEL, {"message_reference": {"message_id": "abc"}}),
        "message_id",
        "snowflake",
    )
    _one(
        v.validate("POST", CHANNEL, {"message_reference": {"message_id": -1}}),
        "message_id",
        "snowflake",
    )


def test_permission_bitfields_may_be_strings(v: SpecValidator) -> None:
    # discord.py's Guild.create_role and Overwrite.to_dict send permissions as strings.
    assert v.validate("POST", "/guilds/1/roles", {"name": "Host", "permissions": "8"}) == []
    assert v.validate("POST", "/guilds/1/roles", {"name": "Host", "permissions": 8}) == []
    overwrite = discord.PermissionOverwrite(view_channel=True, send_messages=False)
    allow, deny = overwrite.pair()
    body = {"allow": str(allow.value), "deny": str(deny.value), "type": 0}
    assert v.validate("PUT", "/channels/1/permissions/2", body) == []
    _one(v.validate("POST", "/guilds/1/roles", {"permissions": "all"}), "body.permissions: ")


def test_non_snowflake_ints_are_not_coerced(v: SpecValidator) -> None:
    # A stringified integer is still the wrong type where the spec wants an integer.
    _one(
        v.validate("POST", CHANNEL, {"content": "x", "flags": "4096"}), "body.flags: ", "wrong type"
    )
    row = {"type": "1", "components": [{"type": 2, "style": "1", "label": "a", "custom_id": "c"}]}
    assert v.validate("POST", CHANNEL, {"components": [row]}), "string 'type' must not pass"
    _one(v.validate("POST", CALLBACK, {"type": "4"}), "body.type: ")


# ----------------------------------------------------------------- routes


def test_unknown_route_and_method(v: SpecValidator) -> None:
    _one(v.validate("POST", "/channels/1/not-a-thing", {}), "no such route")
    _one(v.validate("PUT", "/users/@me", {}), "no such route", "GET")
    _one(v.validate("GET", "/channels/abc/messages", None), "channel_id", "snowflake")
    _one(v.validate("GET", CHANNEL + "?limit=500", None), "limit")
    _one(v.validate("GET", CHANNEL + "?colour=red", None), "colour")


def test_literal_segments_beat_parameters(v: SpecValidator) -> None:
    assert v.match("GET", "/users/@me") == ("/users/@me", {})
    assert v.match("GET", "/api/v10/users/@me/") == ("/users/@me", {})
    assert v.match("GET", "/users/123") == ("/users/{user_id}", {"user_id": "123"})
    template, params = v.match("PATCH", WEBHOOK + "/messages/@original") or ("", {})
    assert template == "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
    template, params = v.match("PATCH", WEBHOOK + "/messages/5?x=1") or ("", {})
    assert template == "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
    assert params["message_id"] == "5"


def test_validator_is_cached() -> None:
    assert get_validator() is get_validator()


def test_spec_path_is_inside_the_repo() -> None:
    assert Path(__file__).parent in SPEC_PATH.parents
