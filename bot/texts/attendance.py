"""Words about noting who came: the group's choice, the facilitator's question afterwards, the
"we missed you" message and turnout. Never a register: nobody is told who did not come."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.texts.fit import clip, echo, paginate
from bot.texts.meetings import when, when_short

WHAT_IS_NOTED = (
    "Holdfast notes only *that* you came to a meeting (seen in its voice channel, or ticked by "
    "the facilitator for a meeting elsewhere), nothing about who didn't. It's used for one "
    "thing: if you meant to come and couldn't, or haven't been for a while, you get one short "
    "“we missed you” the next day. Facilitators only ever see how many came. You can see your "
    "own record with `/mydata export`, delete it with `/mydata delete`, and turn the message "
    "off with `/reminders missed-you`."
)


def turned_on(group: str) -> str:
    return (
        f"Noting who came is now **on** for {echo(group)}. New members are told in their "
        "welcome, and `/about` says so too:\n\n" + WHAT_IS_NOTED
    )


def turned_off(group: str) -> str:
    return (
        f"Noting who came is now **off** for {echo(group)}. Nothing more is noted and nobody "
        "gets a “we missed you”. What was noted before stays in each member's own "
        "`/mydata` until they delete it."
    )


def unchanged(group: str, on: bool) -> str:
    state = "on" if on else "off"
    return f"Noting who came was already {state} for {echo(group)}. Nothing changed."


def welcome_note(group: str) -> str:
    """The one extra paragraph of a welcome while the group notes who came."""
    return f"In {echo(group)}: " + WHAT_IS_NOTED


def about_note(groups: Sequence[str]) -> str:
    names = ", ".join(echo(name, 60) for name in groups)
    return clip(f"\n\n**Who came** (in {names}): " + WHAT_IS_NOTED, 1200)


# --- the facilitator's question after a meeting elsewhere ----------------------------------------


def form_question(title: str, group: str, starts_at: datetime, late: bool) -> str:
    opener = "Sorry this comes late. " if late else ""
    return (
        f"{opener}Thank you for holding **{echo(title)}** ({echo(group)}, "
        f"{when_short(starts_at)}). If you have a moment: who came? Pick them below (those "
        "who said Going or Maybe are filled in), or press the button if everyone who said "
        "Going came. It's only used to send a kind word to anyone who meant to come and "
        "couldn't; nobody else sees it."
    )


def form_placeholder() -> str:
    return "Who came?"


def everyone_going_button() -> str:
    return "Everyone who said Going came"


def form_recorded(came: int) -> str:
    people = "1 person" if came == 1 else f"{came} people"
    return (
        f"Thank you, noted: {people} came. Anyone who meant to come and didn't gets a kind "
        "word tomorrow (unless they've turned it off). You can answer again to correct it."
    )


def form_not_yours() -> str:
    return (
        "Only the facilitator who held this meeting (or the group's facilitators) can say who came."
    )


def form_not_over() -> str:
    return "This meeting hasn't finished yet: you can say who came once it's over."


def attendance_off(group: str) -> str:
    return (
        f"{echo(group)} doesn't note who came (a facilitator can turn it on with "
        "`/group attendance`), so there's nothing to record."
    )


# --- "we missed you" ---------------------------------------------------------------------------


def missed_you(title: str, group: str, next_start: datetime | None, next_where: str | None) -> str:
    head = (
        f"We missed you at **{echo(title)}** ({echo(group)}). There's no need to explain: "
        "life gets full, and the group is still here for you."
    )
    if next_start is not None and next_where is not None:
        after = (
            f"The next meeting is {when(next_start)}, {next_where}. If you'd like to come, "
            "say so below."
        )
    else:
        after = "The next date isn't set yet; the button below shows it once it is."
    tail = (
        "You're welcome whenever you're ready. (`/reminders missed-you` turns these messages off.)"
    )
    return clip(f"{head}\n\n{after}\n\n{tail}")


# --- turnout -------------------------------------------------------------------------------------


def turnout_line(title: str, starts_at: datetime, came: int | None, going: int) -> str:
    counted = "not noted" if came is None else f"{came} came"
    return f"{when_short(starts_at)} · {echo(title, 60)}: {counted} · {going} said Going"


def turnout_total(came: int, going: int, noted: int) -> str:
    return (
        f"Over the {noted} meeting(s) noted: {came} came in all, {going} had said Going."
        if noted
        else "No meeting was noted yet."
    )


def turnout(group: str, months: int, lines: Sequence[str], total: str) -> list[str]:
    head = (
        f"**Turnout for {echo(group)}**, the last {months} months (counts only: who came or "
        "didn't is never shown)."
    )
    return paginate(head, list(lines) or ["No meetings in that time."], tail=total)


def turnout_off(group: str) -> str:
    return (
        f"{echo(group)} doesn't note who came. `/group attendance on` turns it on (off by default)."
    )


# --- the member's own choice ---------------------------------------------------------------------


def missed_you_line(on: bool) -> str:
    return (
        "A “we missed you” message after a meeting you meant to come to: on."
        if on
        else "“We missed you” messages: off."
    )
