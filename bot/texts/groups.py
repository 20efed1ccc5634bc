"""Words about groups: creating them, joining, leaving, and who may do what."""

from __future__ import annotations

from collections.abc import Sequence

from bot.texts.fit import clip, echo, paginate


def admins_only() -> str:
    return "Only server admins (Manage Server) can change groups. An admin can help with this."


def facilitators_only(group: str) -> str:
    return (
        f"Only the facilitators of {group} can do that. If you think you should be one, "
        "a server admin can give you the group's facilitator role."
    )


def rota_holder_not_facilitator(group: str, role_id: int) -> str:
    return (
        f"Only the facilitators of {group} (people with <@&{role_id}>) or a server admin can "
        "be put down to hold a meeting. If they should be one, a server admin can give them "
        "that role first."
    )


def name_empty() -> str:
    return "The group needs a name, for example “North adopters”."


def name_too_long(limit: int) -> str:
    return f"That name is a little long. Please keep it to {limit} characters or fewer."


def unknown_timezone(name: str) -> str:
    return (
        f"I don't know the time zone “{echo(name)}”. Please use a name like Europe/London "
        "or America/New_York; the list offers them as you type."
    )


def name_taken(name: str) -> str:
    return f"There is already a group called “{echo(name)}” here. Please choose another name."


def group_gone() -> str:
    return "That group no longer exists. `/group list` shows the groups here."


def no_such_group(name: str) -> str:
    return f"I can't find a group called “{echo(name)}” here. `/group list` shows the groups."


def no_groups_yet() -> str:
    return "There are no groups here yet. A server admin can make one with `/group create`."


def which_group(names: Sequence[str]) -> str:
    listed = ", ".join(f"“{n}”" for n in names)
    return clip(f"Which group do you mean? Please choose one in the group option: {listed}.")


def group_archived(name: str) -> str:
    return f"“{name}” has been closed, so it can't be joined any more."


def not_a_member(name: str) -> str:
    return (
        f"You're not in {name} yet. Join with the button below (or `/group join`), "
        "then answer again. Joining means you'll hear about its meetings; you can leave any time."
    )


def group_created(name: str, channel_id: int, role_id: int, zone: str) -> str:
    return (
        f"“{name}” is ready. Meetings will be announced in <#{channel_id}>, "
        f"<@&{role_id}> can run them, and times are planned in {zone}. "
        "I've posted a welcome message with a Join button there."
    )


def group_edited(name: str) -> str:
    return f"“{name}” is updated."


def group_archived_done(name: str) -> str:
    return (
        f"“{name}” is closed. No more meetings will be announced for it; "
        "what members saved stays theirs to see, export or delete."
    )


def welcome_card_title(name: str) -> str:
    return f"Welcome to {name}"


def welcome_card_text() -> str:
    return (
        "This group meets regularly to share how things are going, with people who get it. "
        "Join to hear about meetings, say whether you can come, and get a reminder "
        "before each one. You can leave at any time."
    )


def join_button() -> str:
    return "Join this group"


def joined_short(name: str) -> str:
    return f"You're in {name}. I've sent you a message with the details."


def already_joined(name: str) -> str:
    return f"You're already in {name}. Nothing to do."


def left(name: str) -> str:
    return (
        f"You've left {name}. You won't hear from me about its meetings any more, "
        "and your answers to meetings still to come are gone. You're welcome back any time."
    )


def not_in_group(name: str) -> str:
    return f"You weren't in {name}, so there was nothing to leave."


def group_list(lines: Sequence[str]) -> list[str]:
    """Pages of the server's groups (one page when they fit)."""
    if not lines:
        return [no_groups_yet()]
    return paginate("Groups here:", lines)


def group_line(
    name: str, channel_id: int, role_id: int, zone: str, members: int | None, problem: str | None
) -> str:
    """`members` only for the group's facilitators and admins (None: not shown)."""
    line = f"• **{name}**: <#{channel_id}>, run by <@&{role_id}>, {zone}"
    if members is not None:
        line += f", {members} member" + ("" if members == 1 else "s")
    return line + (f"\n  ⚠️ {problem}" if problem else "")


def channel_missing(channel_id: int) -> str:
    return (
        f"The announcements channel (<#{channel_id}>) can't be reached: it may have been "
        "deleted, or I may not be allowed to post there. Pick another with `/group edit`."
    )


def role_missing(role_id: int) -> str:
    return f"The facilitator role ({role_id}) no longer exists. Choose another with `/group edit`."


def role_not_notified(role_id: int) -> str:
    return (
        f"<@&{role_id}> won't be notified when a meeting needs someone to step in or a member "
        "asks for a facilitator to reach out: Discord won't let me ping that role. To fix it, "
        "open Server Settings → Roles → that role and turn on “Allow anyone to @mention "
        "this role”."
    )


def help_member(groups: Sequence[str]) -> str:
    # Room for the facilitators' and admins' parts below, whatever the groups are called.
    where = clip(", ".join(groups), 400) if groups else "no groups yet"
    return (
        f"**What you can do** (you're in: {where})\n"
        "• `/group join` / `/group leave`: join or leave a group\n"
        "• `/group rules`: the group's ground rules\n"
        "• `/meeting next`, `/meeting list`, `/meeting info`: when and where meetings are\n"
        "• `/meeting calendar`: a calendar file for your phone or computer\n"
        "• Going / Maybe / Can't make it buttons on each announcement: say if you can come\n"
        "• `/suggest`: suggest a topic privately (facilitators don't see your name)\n"
        "• `/about`: what Holdfast keeps and who can see it"
    )


def help_facilitator() -> str:
    return (
        "\n**For facilitators**\n"
        "• `/series create`, `/series edit`, `/series end`, `/series list`: regular meetings\n"
        "• `/meeting cancel`, `/meeting move`, `/meeting note`: change one meeting\n"
        "• `/meeting topic`: what a meeting will talk about; `/group rules`: edit the rules\n"
        "• `/meeting suggestions`: topics members suggested, without names\n"
        "• `/meeting attendees`: who has answered (only you see it)"
    )


def help_admin() -> str:
    return (
        "\n**For admins**\n"
        "• `/group create`, `/group edit`, `/group list`, `/group archive`\n"
        "• `/status`: check Holdfast is healthy"
    )
