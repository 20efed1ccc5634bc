"""The demo a person runs: `make emulator`, paste what it prints into .env, `make run`."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from bot.config import load_settings
from tests.e2e.conftest import BotProcess
from tests.emulator.__main__ import parse_args, start_demo


async def test_the_printed_settings_start_the_real_bot_against_the_emulator(
    tmp_path: Path,
) -> None:
    emulator, _server, lines = await start_demo(parse_args(["--port", "0"]))
    pasted = [line for line in lines if line.startswith(("DISCORD_", "GUILD_IDS="))]
    env_file = tmp_path / ".env"
    env_file.write_text(
        "\n".join([*pasted, f"DATABASE_PATH={tmp_path}/demo.sqlite3", "GUILD_READY_TIMEOUT=0.1"])
        + "\n",
        encoding="utf-8",
    )
    process = BotProcess(load_settings(env_file), cwd=tmp_path, read_env_file=True)
    try:
        await process.start()
        async with aiohttp.ClientSession() as session:
            act = {"user": "member1", "run": "/about"}
            async with session.post(f"{emulator.base_url}/_emulator/act", json=act) as resp:
                answer = await resp.json()
        assert "Holdfast" in answer["texts"][0]
        assert answer["message"]["ephemeral"] is True
        assert await process.stop() == 0
    finally:
        await process.cleanup()
        await emulator.stop()
    assert emulator.violations == []
    assert emulator.bot_token not in process.output
