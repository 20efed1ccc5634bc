"""`make demo` runs `python -m demo`: it prints the page's address, serves it, and Ctrl-C stops
everything it started (the emulator, the page and the bot's own process)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


def children_of(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="utf-8")
    return [int(p) for p in text.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_make_demo_prints_the_address_serves_the_page_and_ctrl_c_stops_everything() -> None:
    env = {
        **os.environ,
        "DEMO_PORT": "0",  # any free port
        "DEMO_NO_BROWSER": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "demo", "--start", "2026-11-05T10:00:00+00:00",
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    seen: list[str] = []
    try:

        async def ready() -> str:
            while line := (await process.stdout.readline()).decode():  # type: ignore[union-attr]
                seen.append(line)
                if found := re.match(r"Ready: (http://127\.0\.0\.1:\d+)", line):
                    return found[1]
            raise AssertionError("the demo stopped before it was ready:\n" + "".join(seen))

        url = await asyncio.wait_for(ready(), timeout=60)
        assert seen[0].startswith(f"Holdfast demo: open {url}")
        async with aiohttp.ClientSession() as session:
            async with session.get(url) as resp:
                assert resp.status == 200
                assert "Holdfast demo" in await resp.text()
            async with session.get(f"{url}/api/view") as resp:
                view = await resp.json()
        assert view["bot"] == "running"
        assert view["guild"] == "North adopters"
        bots = children_of(process.pid)
        assert len(bots) == 1
        assert b"bot" in Path(f"/proc/{bots[0]}/cmdline").read_bytes().split(b"\0")

        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), timeout=30) == 0
        rest = (await process.stdout.read()).decode()
        assert "Stopped." in rest
        assert "Traceback" not in "".join(seen) + rest
        assert not alive(bots[0])
        async with aiohttp.ClientSession() as session:
            refused = False
            try:
                async with session.get(url):
                    pass
            except aiohttp.ClientConnectionError:
                refused = True
        assert refused
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        with contextlib.suppress(Exception):
            for pid in children_of(process.pid):
                os.kill(pid, signal.SIGKILL)
