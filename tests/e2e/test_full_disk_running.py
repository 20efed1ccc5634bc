"""The disk fills while Holdfast runs: the member hears that nothing could be saved and that
nothing was changed, the admin reads where and what to do, and once there is room again the
same command works.

The bot runs as a real process against the emulator. Once it is ready, its file-size limit
(RLIMIT_FSIZE, set from outside with prlimit(2); SIGXFSZ ignored) drops below any write SQLite
could make, so its writes fail with EFBIG as they would on a full disk.
"""

from __future__ import annotations

import resource
import signal
import sqlite3

from tests.e2e.process import BotProcess
from tests.emulator.factories import Server
from tests.emulator.server import Emulator


def ignore_sigxfsz() -> None:
    # A write past the limit then fails with EFBIG instead of killing the process.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


async def test_a_full_disk_while_running_is_said_kindly_to_the_member_and_plainly_to_the_admin(
    bot_process: BotProcess, emulator: Emulator, discord_server: Server
) -> None:
    bot_process.preexec = ignore_sigxfsz
    await bot_process.start()
    assert bot_process.process is not None
    pid = bot_process.process.pid
    member = emulator.as_user(discord_server.member, channel=discord_server.general)

    # The soft limit only, so it can be lifted again without privileges.
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (100, resource.RLIM_INFINITY))
    refused = await member.run("/reminders times", times="1d,3h")
    text = await refused.wait_for_text("can't save anything just now")
    assert "Nothing was changed" in text
    assert refused.ephemeral
    folder = bot_process.settings.DATABASE_PATH.parent
    await bot_process.wait_for_output(f"Holdfast could not write to {folder}: the disk is full")
    assert "Traceback" not in bot_process.output

    # Room again: the same command works, and what was refused had changed nothing.
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    saved = await member.run("/reminders times", times="1d,3h")
    answer = await saved.wait_for_response()
    assert "can't save" not in answer.content
    assert await bot_process.stop() == 0
    db = sqlite3.connect(bot_process.settings.DATABASE_PATH)
    try:
        rows = db.execute(
            "SELECT leads FROM reminder_prefs WHERE user_id = ?", (discord_server.member.id,)
        ).fetchall()
    finally:
        db.close()
    assert len(rows) == 1
