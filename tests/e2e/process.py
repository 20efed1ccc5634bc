"""Holdfast as a separate process (`python -m bot run`) that a test, or the demo, can start,
SIGTERM, SIGKILL and restart on the same database. Free of pytest, so `make demo` needs only
what running needs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.config import Settings
from tests.emulator.errors import EmulatorTimeout

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class BotProcess:
    """`python -m bot run` as a real process, its output collected as it runs."""

    settings: Settings
    cwd: Path
    read_env_file: bool = False
    """True: the bot reads `.env` in `cwd` itself, as it does for a person."""
    module: str = "bot"
    """What `python -m` runs: `bot`, or a test variant of it (e.g. `tests.e2e.delivery_bot`)."""
    extra_env: dict[str, str] = field(default_factory=dict)
    """More settings for this process (e.g. CLOCK_START), on top of `settings`."""
    preexec: Callable[[], None] | None = None
    """Run in the child before the bot starts (e.g. a file-size limit standing for a full disk)."""
    process: asyncio.subprocess.Process | None = None
    lines: list[str] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
        env["PYTHONUNBUFFERED"] = "1"
        if self.module != "bot":
            # Test variants live in tests/, which is not installed; the bot runs in `cwd`.
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        if self.read_env_file:
            return env
        s = self.settings
        env.update(
            DISCORD_TOKEN=s.token or "",
            DATABASE_PATH=str(s.DATABASE_PATH),
            GUILD_IDS=",".join(str(g) for g in s.GUILD_IDS),
            DISCORD_API_BASE_URL=s.DISCORD_API_BASE_URL or "",
            DISCORD_GATEWAY_URL=s.DISCORD_GATEWAY_URL or "",
            GUILD_READY_TIMEOUT=str(s.GUILD_READY_TIMEOUT),
            LOG_LEVEL=s.LOG_LEVEL,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    async def start(self, *, wait_ready: bool = True) -> BotProcess:
        self.lines.clear()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            self.module,
            "run",
            cwd=self.cwd,
            env=self.environment(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=self.preexec,
        )
        self._reader = asyncio.create_task(self._read(self.process))
        if wait_ready:
            await self.wait_for_output("Holdfast is ready", timeout=20)
        return self

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))
            self._changed.set()
        self._changed.set()

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    async def wait_for_output(self, pattern: str, *, timeout: float = 10) -> str:
        regex = re.compile(pattern)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for line in self.lines:
                if regex.search(line):
                    return line
            if self.process is not None and self.process.returncode is not None:
                if self._reader is not None:
                    await self._reader
                if any(regex.search(line) for line in self.lines):
                    continue
                raise AssertionError(
                    f"the bot exited ({self.process.returncode}) before printing {pattern!r}:\n"
                    + self.output
                )
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise EmulatorTimeout(
                    f"timed out after {timeout}s waiting for the bot to print {pattern!r}:\n"
                    + self.output
                )
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=min(remaining, 0.5))

    async def wait_exit(self, *, timeout: float = 15) -> int:
        assert self.process is not None
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout=timeout)
        except TimeoutError:
            raise AssertionError(
                f"the bot did not exit within {timeout}s:\n{self.output}"
            ) from None
        if self._reader is not None:
            await self._reader
        return code

    async def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return await self.wait_exit()

    async def kill(self) -> int:
        return await self.stop(signal.SIGKILL)

    async def cleanup(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        if self._reader is not None and not self._reader.done():
            self._reader.cancel()
