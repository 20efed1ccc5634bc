"""The check-in card: three rows of five answers, "Add a few words" and Save.

What has been picked so far travels in the buttons' custom ids (never who, never a note), so the
card keeps working across a restart and nothing half-done is stored anywhere. Cards and nudges
already posted carry these ids: a format here may gain a new sibling, never change (the
templates are what `cogs/checkins` matches clicks with).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.checkins.entries import MEASURES
from bot.delivery.port import Button
from bot.groups.model import Group
from bot.texts import checkins as texts

LETTERS = {"mood": "m", "stress": "s", "supported": "p"}
BY_LETTER = {letter: measure for measure, letter in LETTERS.items()}
MAX_GROUP_BUTTONS = 25

# Regexes for each custom id (discord.py's DynamicItem templates); `state` is one digit per
# measure in MEASURES order, 0 for not picked yet.
PICK = r"checkin:pick:(?P<group>\d+):(?P<state>[0-5]{3}):(?P<letter>[msp])(?P<value>[1-5])"
WORDS = r"checkin:words:(?P<group>\d+):(?P<state>[0-5]{3})"
SAVE = r"checkin:save:(?P<group>\d+):(?P<state>[0-5]{3})"
GROUP = r"checkin:group:(?P<group>\d+)"
START = r"checkin:start(?::(?P<marker>d\d+))?"
# The "few words" form (a modal): the card's group and picks, so a submit saves whichever process
# opened the form, and a random token, so two people's open forms never share an id. The group
# has at most 18 digits, so any id that matches fits SQLite's integer.
NOTE_PREFIX = "checkin:note:"
NOTE = NOTE_PREFIX + r"(?P<group>\d{1,18}):(?P<state>[0-5]{3}):(?P<token>[0-9a-f]{16})"


def state_text(picked: Mapping[str, int]) -> str:
    return "".join(str(picked.get(m, 0)) for m in MEASURES)


def parse_state(text: str) -> dict[str, int]:
    return {m: int(ch) for m, ch in zip(MEASURES, text, strict=True) if ch != "0"}


def with_pick(state: str, letter: str, value: int) -> dict[str, int]:
    """The answers picked so far (from a card's `state`), with one more (or a changed one)."""
    picked = parse_state(state)
    picked[BY_LETTER[letter]] = value
    return picked


def card_buttons(group_id: int, picked: Mapping[str, int]) -> tuple[Button, ...]:
    state = state_text(picked)
    buttons: list[Button] = []
    for measure in MEASURES:
        for value in range(1, 6):
            buttons.append(
                Button(
                    label=texts.word(measure, value),
                    custom_id=f"checkin:pick:{group_id}:{state}:{LETTERS[measure]}{value}",
                    style="success" if picked.get(measure) == value else "secondary",
                )
            )
    complete = len(picked) == len(MEASURES)
    buttons.append(
        Button(
            label=texts.add_words_button(),
            custom_id=f"checkin:words:{group_id}:{state}",
            style="primary",
            disabled=not complete,
        )
    )
    buttons.append(
        Button(
            label=texts.save_button(),
            custom_id=f"checkin:save:{group_id}:{state}",
            style="success",
            disabled=not complete,
        )
    )
    return tuple(buttons)


def note_form_id(group_id: int, picked: Mapping[str, int], token: str) -> str:
    """The few-words form's custom id (`token`: 16 random hex digits)."""
    return f"{NOTE_PREFIX}{group_id}:{state_text(picked)}:{token}"


def card_text(group: Group, picked: Mapping[str, int]) -> str:
    shown: dict[str, int | None] = {m: picked.get(m) for m in MEASURES}
    return texts.checkin_prompt(group.name, shown)


def group_buttons(choices: Sequence[Group]) -> tuple[Button, ...]:
    """One button per group the member could check in with (Discord allows 25 on a message)."""
    return tuple(
        Button(label=g.name[:80], custom_id=f"checkin:group:{g.id}")
        for g in choices[:MAX_GROUP_BUTTONS]
    )


def start_button(marker: str) -> Button:
    """ "Check in" on a nudge: opens a fresh card for whoever clicks it."""
    return Button(label=texts.nudge_button(), custom_id=f"checkin:start:{marker}", style="primary")
