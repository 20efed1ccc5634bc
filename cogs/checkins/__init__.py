"""Check-ins, one room per command (the same split as bot/checkins/):

* `checkin.py`: /checkin and the card (answer buttons, "Add a few words", Save, the group
  choice, "Check in" on a nudge)
* `checkin_nudge.py`: /checkin-nudge
* `mycheckins.py`: /mycheckins
* `reachout.py`: /reachout
* `mydata.py`: /mydata export and /mydata delete (and its confirm button)
* `trends.py`: /trends; `audit.py`: /audit

This package is the extension the bot loads; `setup` registers all of it. The custom ids of
buttons already posted (cards, nudges, confirmations) keep working: their formats live in
bot/checkins/card.py and `mydata.DELETE`, matched by the same templates as before.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from discord import app_commands
from discord.ext import commands

from bot.app import HoldfastBot
from bot.checkins import nudges
from cogs import _forms as forms
from cogs.checkins.audit import audit
from cogs.checkins.checkin import BUTTONS, NOTE_FORM, checkin
from cogs.checkins.checkin_nudge import checkin_nudge
from cogs.checkins.mycheckins import mycheckins
from cogs.checkins.mydata import DeleteMyDataButton, MyDataCommands
from cogs.checkins.reachout import reachout
from cogs.checkins.trends import trends_command

NUDGE_JOB = "checkins:nudges"


class Checkins(commands.Cog):
    def __init__(self, bot: HoldfastBot) -> None:
        self.bot = bot


async def setup(bot: HoldfastBot) -> None:
    bot.add_dynamic_items(*BUTTONS, DeleteMyDataButton)
    forms.register(bot, NOTE_FORM)
    for kind, renderer in nudges.RENDERERS.items():
        bot.register_renderer(kind, renderer)

    async def plan_nudges() -> None:
        # After a nudge has gone, plan the member's next one.
        if await nudges.plan_all(bot.db, bot.clock.now()):
            bot.alarm.wake()

    bot.every(timedelta(hours=1), plan_nudges, NUDGE_JOB)
    commands_: list[app_commands.Command[Any, ..., Any]] = [
        checkin_nudge,
        checkin,
        mycheckins,
        reachout,
        trends_command,
        audit,
    ]
    for command in commands_:
        bot.tree.add_command(command)
    bot.tree.add_command(MyDataCommands())
    await bot.add_cog(Checkins(bot))
