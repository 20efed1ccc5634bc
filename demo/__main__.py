"""`make demo` (or `python -m demo`): Holdfast against the bundled Discord emulator, with a small
local page to watch and use it. Ctrl-C stops everything.

DEMO_PORT picks the page's port (default 8780, or any free one if that is taken);
DEMO_NO_BROWSER=1 never tries to open a browser.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import os
import signal
import sys
import tempfile
import threading
import webbrowser
from datetime import datetime
from pathlib import Path

from aiohttp import web

from .page import serve
from .runner import Demo, default_start

DEFAULT_PORT = 8780


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument(
        "--start",
        type=datetime.fromisoformat,
        default=None,
        help="the demo's starting instant, ISO 8601 with an offset (default: now)",
    )
    parser.add_argument("--verbose", action="store_true", help="show the bot's log as it runs")
    return parser.parse_args(argv)


def _wants_browser() -> bool:
    if os.environ.get("DEMO_NO_BROWSER", "").strip() not in ("", "0"):
        return False
    # Only where a graphical browser can open: never a text browser taking over the terminal.
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


async def _serve_page(demo: Demo) -> tuple[web.AppRunner, str]:
    wanted = os.environ.get("DEMO_PORT", "").strip()
    if wanted:
        return await serve(demo, int(wanted))
    try:
        return await serve(demo, DEFAULT_PORT)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        return await serve(demo, 0)


async def run(args: argparse.Namespace) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="holdfast-demo-") as tmp:
        demo = Demo(Path(tmp), args.start or default_start())
        runner, url = await _serve_page(demo)
        print(f"Holdfast demo: open {url}", flush=True)
        print("Starting the Discord emulator and Holdfast (a few seconds)…", flush=True)
        code = 0
        try:
            starting = asyncio.create_task(demo.start())
            stopped = asyncio.create_task(stop.wait())
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if starting.done():
                starting.result()
                print(f"Ready: {url}   (Ctrl-C stops the demo)", flush=True)
                if _wants_browser():
                    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
                if args.verbose:
                    _echo(demo)
                await stopped
            else:
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await starting
        except (AssertionError, TimeoutError, OSError) as exc:
            print(f"The demo could not start: {exc}", file=sys.stderr, flush=True)
            code = 1
        finally:
            print("Stopping the demo…", flush=True)
            await runner.cleanup()
            await demo.stop()
            print("Stopped.", flush=True)
        return code


def _echo(demo: Demo) -> None:
    async def follow() -> None:
        shown = 0
        while demo.state != "stopped":
            bot = demo.bot
            if bot is not None:
                if len(bot.lines) < shown:
                    shown = 0  # restarted after a skip
                for line in bot.lines[shown:]:
                    print(line, flush=True)
                shown = len(bot.lines)
            await asyncio.sleep(0.5)

    asyncio.get_running_loop().create_task(follow())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
