"""A test kind of delivery, and `python -m tests.e2e.delivery_bot run`: Holdfast exactly as
`python -m bot run`, plus a renderer for that kind, for crash tests in a separate process."""

from __future__ import annotations

import sys

import aiosqlite

from bot.app import HoldfastBot
from bot.clock import Clock
from bot.config import Settings
from bot.delivery.dispatcher import RenderContext, Skip
from bot.delivery.outbox import Delivery
from bot.delivery.port import Button, Card, OutgoingMessage

TEST_KIND = "test-note"


async def render_test_note(
    conn: aiosqlite.Connection, delivery: Delivery, context: RenderContext
) -> OutgoingMessage | Skip:
    late = " (a little late)" if context.late else ""
    return OutgoingMessage(
        content=f"Test note {delivery.key}{late}",
        cards=(Card(title="A test card", fields=(("Subject", str(delivery.subject_id)),)),),
        buttons=(
            Button("Thanks", f"note:{delivery.subject_id or 0}:ok:{delivery.marker}", "primary"),
        ),
    )


class HoldfastWithTestKind(HoldfastBot):
    def __init__(self, settings: Settings, clock: Clock) -> None:
        super().__init__(settings, clock)
        self.register_renderer(TEST_KIND, render_test_note)


if __name__ == "__main__":
    import bot.app
    from bot.cli import main

    # run_bot builds `bot.app.HoldfastBot`; this process builds the variant instead.
    bot.app.HoldfastBot = HoldfastWithTestKind  # type: ignore[misc]
    sys.exit(main())
