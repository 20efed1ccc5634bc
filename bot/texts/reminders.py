"""Words about reminders, nudges, preferences and the rota. Times are Discord timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from bot.texts.fit import clip, fit_lines
from bot.texts.meetings import topic_line, when


def reminder(
    title: str,
    group: str,
    starts_at: datetime,
    place: str,
    late: bool,
    mention: int | None,
    topic: str | None = None,
) -> str:
    lines = []
    if mention is not None:
        lines.append(f"<@{mention}>")
    if late:
        lines.append("Sorry, this reminder comes late: Holdfast was offline for a while.")
    lines.append(f"A reminder: **{title}** ({group}) is {when(starts_at)}.")
    lines.append(f"Where: {place}")
    if topic:
        lines.append(topic_line(topic))
    lines.append("Plans changed? Let the group know below.")
    return "\n".join(lines)


def nudge(
    title: str, group: str, starts_at: datetime, place: str, late: bool, topic: str | None = None
) -> str:
    sorry = "Sorry this comes late. " if late else ""
    about = f"\n{topic_line(topic)}\n" if topic else " "
    return (
        f"{sorry}Hello! **{title}** ({group}) is {when(starts_at)}, {place}.{about}"
        "Will you come? No pressure: a tap below lets the facilitators know. "
        "(`/reminders` turns these nudges off.)"
    )


def prefs_summary(
    leads: Sequence[str],
    default_leads: bool,
    via: str,
    paused: bool,
    quiet: tuple[str, str] | None,
    zone: str,
    nudge: bool,
    every_meeting: Sequence[str],
) -> str:
    if paused:
        head = "**Your reminders are paused.** `/reminders resume` turns them back on."
    else:
        how = "by direct message" if via == "dm" else "as a mention in the group's channel"
        chosen = " (the server's default)" if default_leads else ""
        head = f"You get reminders **{', '.join(leads)}** before each meeting{chosen}, {how}."
    quiet_line = (
        f"Quiet hours: {quiet[0]}–{quiet[1]} ({zone}); reminders that would land then come "
        "just before they begin."
        if quiet
        else "Quiet hours: none."
    )
    nudge_line = "A gentle nudge if you haven't answered: on." if nudge else "Nudges: off."
    every = (
        "Reminded of every meeting of: " + clip(", ".join(every_meeting), 1000)
        if every_meeting
        else "Reminders come for meetings you've said Going or Maybe to."
    )
    return "\n".join([head, quiet_line, nudge_line, every])


def every_meeting_in_a_server() -> str:
    return "Please use this in the server where the group meets, so I know which group you mean."


def prefs_saved() -> str:
    return "Saved. Reminders already planned have been updated."


def leads_problem(problem: str) -> str:
    return f"{problem} For example: 1d,2h."


def quiet_problem() -> str:
    return "Please give quiet hours as two different times, like 22:00 and 07:00."


def unreachable_notice() -> str:
    return (
        "Just so you know: I couldn't send you a reminder by direct message (your DMs seem to "
        "be closed to this server). You can allow DMs in the server's privacy settings, or use "
        "`/reminders how:channel` to be mentioned in the group's channel instead."
    )


def unreachable_count(count: int) -> str:
    if count == 0:
        return "Every member could be reached."
    noun = "member" if count == 1 else "members"
    return f"{count} {noun} could not be reached by direct message."


# --- rota -------------------------------------------------------------------------------------


def rota_ask(title: str, group: str, starts_at: datetime, late: bool) -> str:
    sorry = "Sorry this comes late. " if late else ""
    return (
        f"{sorry}You're down to hold **{title}** ({group}), {when(starts_at)}. "
        "Can you confirm you'll be there?"
    )


def rota_confirm_button() -> str:
    return "I'll be there"


def rota_step_in_button() -> str:
    return "I'll step in"


def rota_escalation(title: str, starts_at: datetime, assigned: int | None, role_id: int) -> str:
    who = (
        f"<@{assigned}> was down to hold it but hasn't confirmed."
        if assigned is not None
        else "Nobody is down to hold it yet."
    )
    return (
        f"<@&{role_id}> **{title}**, {when(starts_at)}, has no confirmed facilitator. {who} "
        "Could someone step in?"
    )


def rota_escalation_to_admin(
    title: str, group: str, starts_at: datetime, assigned: int | None
) -> str:
    who = (
        f"<@{assigned}> was down to hold it but hasn't confirmed."
        if assigned is not None
        else "Nobody is down to hold it yet."
    )
    return (
        f"For admins: **{title}** ({group}), {when(starts_at)}, has no confirmed facilitator. "
        f"{who} The facilitators have been asked too."
    )


def rota_confirmed(title: str, starts_at: datetime) -> str:
    return f"Thank you: you're confirmed for **{title}**, {when(starts_at)}."


def rota_stepped_in(user_id: int, title: str) -> str:
    return f"<@{user_id}> is holding **{title}**. Thank you!"


def rota_assigned(user_id: int, title: str, starts_at: datetime) -> str:
    return (
        f"<@{user_id}> is down to hold **{title}**, {when(starts_at)}. "
        "They'll be asked to confirm nearer the time."
    )


def rota_not_yours() -> str:
    return "This meeting is down for another facilitator. `/rota assign` can change that."


def rota_line(title: str, starts_at: datetime, user_id: int | None, confirmed: bool) -> str:
    if user_id is None:
        return f"• {title}, {when(starts_at)}: nobody yet"
    state = "confirmed" if confirmed else "not confirmed yet"
    return f"• {title}, {when(starts_at)}: <@{user_id}> ({state})"


def rota_list(group: str, lines: Sequence[str], unreachable: str) -> str:
    if not lines:
        return f"**Rota for {group}**\nNo meetings coming up.\n{unreachable}"
    return fit_lines(f"**Rota for {group}**", lines, tail=unreachable)


# --- handing a meeting over -------------------------------------------------------------------


def handover_offer(from_id: int, title: str, group: str, starts_at: datetime, late: bool) -> str:
    sorry = "Sorry this comes late. " if late else ""
    return (
        f"{sorry}<@{from_id}> has asked whether you could hold **{title}** ({group}), "
        f"{when(starts_at)}. Could you take it? If you can't, that's fine: they still hold it "
        "until someone says yes."
    )


def handover_accept_button() -> str:
    return "Yes, I'll take it"


def handover_decline_button() -> str:
    return "Sorry, I can't"


def handover_offered(to_id: int, title: str, starts_at: datetime, replaced: int | None) -> str:
    earlier = f" This replaces your earlier ask to <@{replaced}>." if replaced is not None else ""
    return (
        f"I've asked <@{to_id}> whether they can hold **{title}**, {when(starts_at)}.{earlier} "
        "It stays yours until they say yes, and I'll let you know their answer."
    )


def handover_asked_already(to_id: int, title: str) -> str:
    return f"You've already asked <@{to_id}> to hold **{title}**; I'll let you know their answer."


def handover_taken(title: str, group: str, starts_at: datetime) -> str:
    return (
        f"Thank you: **{title}** ({group}), {when(starts_at)}, is yours now. As with every "
        "meeting, I'll ask you to confirm you'll be there."
    )


def handover_declined_thanks(from_id: int, title: str) -> str:
    return (
        f"Thanks for letting them know. <@{from_id}> still holds **{title}**; nothing more is "
        "needed from you."
    )


def handover_accepted_to_asker(to_id: int, title: str, group: str, starts_at: datetime) -> str:
    return (
        f"Good news: <@{to_id}> has taken **{title}** ({group}), {when(starts_at)}. "
        "Thank you for arranging it; it's off your list now."
    )


def handover_declined_to_asker(
    to_id: int, title: str, group: str, starts_at: datetime, still_yours: bool
) -> str:
    if not still_yours:
        return f"<@{to_id}> can't take **{title}** ({group}) this time."
    return (
        f"<@{to_id}> can't take **{title}** ({group}), {when(starts_at)}, this time, so it's "
        "still yours. That's all right: `/rota handover` can ask someone else, or the button "
        "below says you'll be there."
    )


def handover_not_holder(holder: int | None) -> str:
    if holder is None:
        return (
            "Nobody holds this meeting yet, so there's nothing to hand over. `/rota assign` "
            "can put you or another facilitator down."
        )
    return (
        f"Only the facilitator who holds a meeting can hand it over, and <@{holder}> holds "
        "this one. `/rota assign` can change who holds it."
    )


def handover_to_yourself() -> str:
    return "You already hold this meeting. Please choose another facilitator to hand it to."


def handover_to_a_bot() -> str:
    return "A bot can't hold a meeting. Please choose one of the group's facilitators."


def handover_not_for_you() -> str:
    return "This offer was meant for another facilitator."


def handover_closed_cancelled(title: str) -> str:
    return f"This offer to hold **{title}** is no longer open: the meeting was cancelled."


def handover_closed_started(title: str) -> str:
    return f"This offer to hold **{title}** is no longer open: the meeting has started."


def handover_closed_replaced(title: str, from_id: int) -> str:
    return (
        f"This offer to hold **{title}** is no longer open: <@{from_id}> has made other "
        "plans. Thank you all the same."
    )


def handover_closed_answered(title: str, state: str) -> str:
    answer = "took it" if state == "accepted" else "said you can't take it"
    return f"This offer to hold **{title}** is no longer open: you've already {answer}."


def handover_closed_rota_changed(title: str) -> str:
    return (
        f"This offer to hold **{title}** is no longer open: someone else has been put down "
        "to hold it since. Thank you all the same."
    )


def handover_closed_gone() -> str:
    return "This offer is no longer open: it was withdrawn. Thank you all the same."


# --- status -----------------------------------------------------------------------------------


def delivery_status(
    counts: dict[str, int], next_due: datetime | None, errors: Sequence[tuple[str, str]]
) -> str:
    line = ", ".join(f"{counts.get(k, 0)} {k}" for k in ("pending", "sent", "skipped", "failed"))
    due = f"<t:{int(next_due.timestamp())}:F>" if next_due else "nothing waiting"
    parts = [f"Deliveries: {line}.", f"Next due: {due}."]
    if errors:
        parts.append("Last problems:")
        parts.extend(f"• {kind}: {clip(reason, 300)}" for kind, reason in errors)
    return "\n".join(parts)


# --- snooze and answers by a word (issue 16) ----------------------------------------------------


def snooze_hour_button() -> str:
    return "Remind me in an hour"


def snooze_evening_button() -> str:
    return "Remind me this evening"


def snoozed_reminder(
    title: str, group: str, starts_at: datetime, place: str, late: bool, topic: str | None = None
) -> str:
    sorry = "Sorry this comes a little late. " if late else ""
    about = f"{topic_line(topic)}\n" if topic else ""
    return (
        f"{sorry}Here's the reminder you asked for: **{title}** ({group}) is {when(starts_at)}.\n"
        f"Where: {place}\n{about}"
        "Plans changed? Let the group know below, or just reply going, maybe or can't."
    )


def snooze_set(due_at: datetime) -> str:
    unix = int(due_at.timestamp())
    return f"Of course. I'll remind you again at <t:{unix}:t> (<t:{unix}:R>)."


def snooze_too_close() -> str:
    return (
        "The meeting starts too soon for that, so I won't send another reminder. "
        "You can still answer with the buttons."
    )


def snooze_evening_passed() -> str:
    return (
        "It's already evening, so I can't remind you later today. An hour from now may still work."
    )


def snooze_not_possible() -> str:
    return (
        "This meeting has been cancelled or has already started, "
        "so there's nothing to remind you of."
    )


def reply_hint() -> str:
    return (
        "To answer for a meeting, reply to its reminder with going, maybe or can't "
        "(or use the buttons). I only read those words; for anything else, please talk to "
        "your facilitators."
    )


def reply_which_meeting() -> str:
    return (
        "Thanks! Which meeting do you mean? Please reply to that meeting's reminder, or use "
        "its buttons."
    )
