"""Run the emulator on its own with a demo guild: ``python -m tests.emulator [--port 8765]``.

Prints the settings that point a bot at it and serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys

from .factories import Server, build_guild
from .server import Emulator


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any free)")
    parser.add_argument("--members", type=int, default=4, help="ordinary members in the demo guild")
    parser.add_argument("--token", default=None, help="bot token to accept (default: generated)")
    parser.add_argument("--verbose", action="store_true", help="log every request")
    return parser.parse_args(argv)


async def start_demo(args: argparse.Namespace) -> tuple[Emulator, Server, list[str]]:
    """Start an emulator with the demo guild; return it with the lines to show the user."""
    emulator = Emulator(host=args.host, port=args.port)
    emulator.control_api = True
    if args.token:
        emulator.app.token = args.token
    server = build_guild(emulator, "Demo Peer Support", facilitators=1, members=args.members)
    await emulator.start()
    lines = [
        f"Discord emulator listening on {emulator.base_url}",
        f"DISCORD_API_BASE_URL={emulator.api_base_url}",
        f"DISCORD_GATEWAY_URL={emulator.gateway_url}",
        f"DISCORD_TOKEN={emulator.bot_token}",
        f"GUILD_IDS={server.guild.id}",
        f"Guild: {server.guild.name} ({server.guild.id}); channels: "
        + ", ".join(f"#{c.name} ({c.id})" for c in (server.general, server.meetings)),
        "People: "
        + ", ".join(f"{u.username} ({u.id})" for u in [*server.facilitators, *server.members]),
        f"Act as a member: curl -s {emulator.base_url}/_emulator/act "
        """-d '{"user": "member1", "run": "/about"}'   (see tests/emulator/control.py)""",
        f"Watch: curl -s {emulator.base_url}/_emulator/state",
        "Press Ctrl-C to stop.",
    ]
    return emulator, server, lines


async def serve(args: argparse.Namespace) -> None:
    emulator, _, lines = await start_demo(args)
    print("\n".join(lines), flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("tests.emulator").setLevel(logging.INFO)
    if args.verbose:
        logging.getLogger().setLevel(logging.DEBUG)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
