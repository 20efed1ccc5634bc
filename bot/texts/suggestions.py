"""Words about topic suggestions: a member's own, and the group's list for its facilitators
(which never says who suggested what)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.texts.fit import clip, echo, page_marker

OPTION_LABEL_LIMIT = 100
"""A select menu option's label (Discord: 1-100 characters)."""


def suggestion_empty() -> str:
    return "What would you like the group to talk about? Please write a few words."


def suggestion_too_long(limit: int) -> str:
    return f"That's a little long for a topic. Please keep it to {limit} characters or fewer."


def not_a_member(group: str) -> str:
    return (
        f"Suggestions for {group} come from its members. Join with `/group join` first, "
        "then suggest away."
    )


def too_many(limit: int) -> str:
    return (
        f"You already have {limit} suggestions waiting for this group, which is plenty for now. "
        "`/suggest` shows them, and you can withdraw one to make room."
    )


def suggested(group: str, text: str, changed: bool) -> str:
    if not changed:
        return f"You've already suggested “{echo(text, 200)}” for {group}. Nothing changed."
    return (
        f"Thank you. Your suggestion for {group} is saved: “{echo(text, 200)}”\n"
        "The facilitators see the suggestions without names. `/suggest` on its own shows yours, "
        "and you can withdraw any of them."
    )


def own_list(entries: Sequence[tuple[str, str]], more: int) -> str:
    """A member's own suggestions as (group, text), numbered like their Withdraw buttons; `more`
    were left off (at most five are shown, each with its button)."""
    if not entries:
        return (
            "You have no topic suggestions waiting. `/suggest` with a topic sends one to your "
            "group's facilitators, without your name."
        )
    lines = [f"**{n}.** {echo(text, 200)} ({group})" for n, (group, text) in enumerate(entries, 1)]
    if more:
        lines.append(f"…and {more} more: choose a group in the `group` option to see them.")
    return clip(
        "\n".join(
            [
                "Your topic suggestions (only you can see this; the facilitators see them "
                "without your name):",
                *lines,
                "When the facilitators use one, it leaves this list.",
            ]
        )
    )


def withdraw_button(number: int) -> str:
    return f"Withdraw {number}"


def withdrawn(text: str) -> str:
    return f"Withdrawn: “{echo(text, 200)}”."


def already_withdrawn() -> str:
    return "That suggestion had already gone. Here is what's still waiting."


def group_pages(group: str, texts: Sequence[str], per_page: int) -> list[str]:
    """The facilitators' list: numbered, oldest first, `per_page` to a page, no names."""
    head = f"Topic suggestions for {group}, oldest first (nobody's name is shown):"
    if not texts:
        return [
            f"There are no topic suggestions for {group} just now. Members can suggest one "
            "privately with `/suggest`."
        ]
    lines = [f"**{n}.** {echo(text, 200)}" for n, text in enumerate(texts, 1)]
    chunks = [lines[i : i + per_page] for i in range(0, len(lines), per_page)]
    tail = "Choose one below when you've used it; it then leaves the list."
    if len(chunks) == 1:
        return ["\n".join([head, *chunks[0], tail])]
    return [
        clip("\n".join([head, *chunk, tail, page_marker(index, len(chunks))]))
        for index, chunk in enumerate(chunks)
    ]


def use_placeholder() -> str:
    return "Used one? Choose it to take it off the list"


def use_option(number: int, text: str) -> str:
    return echo(f"{number}. {text}", OPTION_LABEL_LIMIT)


def marked_used(text: str) -> str:
    return f"Marked as used, and off the list: “{echo(text, 200)}”."


def already_used() -> str:
    return "That suggestion had already left the list (used, or withdrawn by whoever made it)."
