"""Who may do what in a group. Every command and button asks here, so the rule lives once."""

from __future__ import annotations

from bot.errors import NotAllowed
from bot.groups.model import Actor, Group
from bot.texts import groups as texts


def may_facilitate(group: Group, actor: Actor) -> bool:
    # Admins can always step in: a group whose facilitator role has nobody must still be held.
    return actor.is_admin or group.facilitator_role_id in actor.role_ids


def may_see_member_count(group: Group, actor: Actor) -> bool:
    # How many people are in a group is for those who hold it (its facilitators and admins):
    # in a small group, a member watching the count move could tell who joined or left.
    return may_facilitate(group, actor)


def require_may_hold_meetings(group: Group, holder: Actor) -> None:
    """Only someone who may facilitate can be put on the rota: a plain member put down (and
    confirming) would silence the escalation that asks the real facilitators to step in."""
    if not may_facilitate(group, holder):
        raise NotAllowed(texts.rota_holder_not_facilitator(group.name, group.facilitator_role_id))


def ping_channel_id(group: Group) -> int:
    """Where the facilitator role is mentioned (the rota's call to step in, /reachout): the
    facilitators' channel, or the group's channel if it has none."""
    return group.facilitator_channel_id or group.announce_channel_id


def role_notifies(role_mentionable: bool, may_mention_everyone: bool) -> bool:
    """Discord notifies a role's members only if the role allows anyone to mention it, or the
    author has Mention @everyone, @here and All Roles in the channel; otherwise the mention is
    just text and nobody hears it."""
    return role_mentionable or may_mention_everyone


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise NotAllowed(texts.admins_only())


def require_facilitator(group: Group, actor: Actor) -> None:
    if not may_facilitate(group, actor):
        raise NotAllowed(texts.facilitators_only(group.name))
