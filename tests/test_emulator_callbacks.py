"""Interaction callback types must fit the interaction type.

Source: Discord's "Receiving and Responding" → Interaction Callback Type (DEFERRED_UPDATE_MESSAGE
and UPDATE_MESSAGE "only valid for component-based interactions"; APPLICATION_COMMAND_
AUTOCOMPLETE_RESULT answers autocomplete; MODAL "not available for MODAL_SUBMIT and PING
interactions"); the 50035 "In type: Value must be one of {...}" answer as reported in
Rapptz/discord.py#9187; UPDATE_MESSAGE to a command's modal submit is 404 Unknown Message
(discord/discord-api-docs#7774).
"""

from __future__ import annotations

from typing import Any

import aiohttp
import discord
import pytest

from tests.emulator import (
    Emulator,
    InteractionType,
    Server,
    make_test_bot,
    running_bot,
)
from tests.emulator.interactions import InteractionRecord

MODAL: dict[str, Any] = {
    "custom_id": "again",
    "title": "Again",
    "components": [
        {
            "type": 1,
            "components": [{"type": 4, "custom_id": "note", "label": "Note", "style": 1}],
        }
    ],
}
MESSAGE: dict[str, Any] = {"content": "Thanks"}


async def callback(emu: Emulator, record: InteractionRecord, cb_type: int, data: Any) -> Any:
    """POST one interaction callback the way discord.py does; returns (status, JSON body)."""
    url = f"{emu.api_base_url}/interactions/{record.id}/{record.token}/callback"
    body: dict[str, Any] = {"type": cb_type}
    if data is not None:
        body["data"] = data
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as resp:
        payload = await resp.json() if resp.content_type == "application/json" else None
        return resp.status, payload


def _record(emu: Emulator, server: Server, kind: int, *, from_message: bool) -> InteractionRecord:
    source = (
        emu.create_message(server.general, emu.bot_user, content="Pick") if from_message else None
    )
    return emu.interactions.create(
        type=kind,
        user=server.member,
        channel=server.general,
        data={"name": "meeting", "type": 1, "custom_id": "x", "component_type": 2},
        source_message=source,
    )


def _assert_wrong_type(answer: Any, *allowed: int) -> None:
    status, body = answer
    assert status == 400
    assert body["code"] == 50035
    (error,) = body["errors"]["type"]["_errors"]
    assert error["code"] == "BASE_TYPE_CHOICES"
    for value in allowed:
        assert f": {value}>" in error["message"]


@pytest.mark.parametrize(
    ("kind", "from_message", "wrong", "allowed", "right"),
    [
        # A slash command cannot update or defer-update a message, nor answer with choices.
        (InteractionType.APPLICATION_COMMAND, False, (6, 7, 8), (4, 5, 9), (4, MESSAGE)),
        # Autocomplete only takes APPLICATION_COMMAND_AUTOCOMPLETE_RESULT.
        (InteractionType.AUTOCOMPLETE, False, (4, 5, 9), (8,), (8, {"choices": []})),
        # A modal submit cannot open another modal, nor answer with choices.
        (InteractionType.MODAL_SUBMIT, True, (9, 8), (4, 5, 6, 7), (7, MESSAGE)),
        # A button click can do anything but answer with choices.
        (InteractionType.MESSAGE_COMPONENT, True, (8,), (4, 5, 6, 7, 9), (9, MODAL)),
    ],
    ids=["slash-command", "autocomplete", "modal-submit", "button"],
)
async def test_callback_type_must_fit_the_interaction_type(
    emulator: Emulator,
    discord_server: Server,
    kind: int,
    from_message: bool,
    wrong: tuple[int, ...],
    allowed: tuple[int, ...],
    right: tuple[int, Any],
) -> None:
    record = _record(emulator, discord_server, kind, from_message=from_message)
    payloads = {4: MESSAGE, 5: None, 6: None, 7: MESSAGE, 8: {"choices": []}, 9: MODAL}
    for cb_type in wrong:
        _assert_wrong_type(await callback(emulator, record, cb_type, payloads[cb_type]), *allowed)
    assert not record.acknowledged  # a rejected callback does not use up the interaction
    status, _ = await callback(emulator, record, *right)
    assert status == 204
    assert record.callback_type == right[0]


async def test_update_message_to_a_commands_modal_submit_is_unknown_message(
    emulator: Emulator, discord_server: Server
) -> None:
    record = _record(emulator, discord_server, InteractionType.MODAL_SUBMIT, from_message=False)
    status, body = await callback(emulator, record, 7, MESSAGE)
    assert (status, body["code"]) == (404, 10008)


async def test_discord_py_answering_a_modal_with_a_modal_gets_discords_50035(
    emulator: Emulator, discord_server: Server
) -> None:
    """The case of Rapptz/discord.py#9187 through the real client: send_modal in on_submit."""
    errors: list[discord.HTTPException] = []

    class Second(discord.ui.Modal, title="Second"):
        note: discord.ui.TextInput[Second] = discord.ui.TextInput(label="Note")

    class First(discord.ui.Modal, title="First"):
        day: discord.ui.TextInput[First] = discord.ui.TextInput(label="Day", custom_id="day")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            try:
                await interaction.response.send_modal(Second())
            except discord.HTTPException as exc:
                errors.append(exc)
                await interaction.response.send_message("Could not open it", ephemeral=True)

    bot = make_test_bot()

    @bot.tree.command(name="form", description="Open a form")
    async def form(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(First())

    async with running_bot(emulator, bot):
        await bot.tree.sync()
        await emulator.wait_for_commands("form")
        member = emulator.as_user(discord_server.member, channel=discord_server.general)
        run = await member.run("/form")
        await run.wait_for_modal()
        submitted = await member.submit_modal(run, {"day": "3"})
        response = await submitted.wait_for_response()
        assert response.content == "Could not open it"
    (error,) = errors
    assert (error.status, error.code) == (400, 50035)
    assert "Value must be one of" in str(error)
