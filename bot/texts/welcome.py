"""Words for a newcomer: a group's ground rules, and the welcome a member gets on joining."""

from __future__ import annotations

from bot.texts.fit import clip
from bot.texts.meetings import topic_line

DEFAULT_RULES = (
    "• What is said here stays here.\n"
    "• You never have to speak: listening is joining in.\n"
    "• Camera off is fine.\n"
    "• You can leave at any time, with no need to explain.\n"
    "• Be kind. Share your own experience, and only give advice if someone asks for it."
)


def default_rules() -> str:
    return DEFAULT_RULES


def rules_too_long(limit: int) -> str:
    return f"The ground rules are a little long. Please keep them to {limit:,} characters or fewer."


def rules_shown(group: str, rules: str, is_default: bool) -> str:
    """`/group rules`: at most 60 + 1,500 characters of names and rules, well inside 2,000."""
    head = f"**The ground rules of {group}**"
    tail = (
        "These are Holdfast's suggested rules; the facilitators can change them."
        if is_default
        else ""
    )
    return clip("\n".join(p for p in (head, rules, tail) if p))


def edit_rules_button() -> str:
    return "Edit"


def rules_modal_title() -> str:
    return "The group's ground rules"


def rules_field_label() -> str:
    return "Ground rules (empty: the suggested ones)"


def rules_field_placeholder() -> str:
    return "What everyone agrees to, so meetings feel safe. One rule per line works well."


def rules_saved(group: str, is_default: bool) -> str:
    if is_default:
        return (
            f"{group} is back to the suggested ground rules. New members will see them in their "
            "welcome, and anyone can read them with `/group rules`."
        )
    return (
        f"The ground rules of {group} are saved. New members will see them in their welcome, "
        "and anyone can read them with `/group rules`."
    )


def welcome_title(group: str) -> str:
    return f"Welcome to {group}"


def welcome_body(rules: str, next_meeting: str | None, noting: str | None = None) -> str:
    """The joining member's welcome (an embed: up to 4,096 characters). At its longest (1,500 of
    rules, the longest title, place and topic, and what a group noting who came says) it stays
    under 3,200. `noting`: that paragraph, while the group notes who came."""
    meeting = (
        f"**The next meeting**\n{next_meeting}\n"
        "Can you come? The buttons below let the facilitators know, and you can change your "
        "answer whenever you like."
        if next_meeting
        else "There's no meeting planned just yet; you'll hear as soon as there is."
    )
    return "\n\n".join(
        [
            "It's good to have you. Each meeting is announced in the group's channel, with "
            "buttons to say whether you can come.",
            f"**Our ground rules**\n{rules}",
            meeting,
            *([noting] if noting else []),
            "What I keep about you: that you joined this group, your answers to meetings"
            + (", which meetings you came to" if noting else "")
            + " and any topics you suggest. Nothing else, and `/group leave` removes you.",
        ]
    )


def next_meeting(title: str, when: str, where: str, topic: str | None) -> str:
    lines = [f"**{title}**, {when}", where]
    if topic:
        lines.append(topic_line(topic))
    return "\n".join(lines)
