"""A lean start-up: the bot process loads no library that only one command needs.

matplotlib (with numpy and Pillow) is about half a second and 45 MB of a bot that otherwise
needs under 80 MB; icalendar is only for /meeting calendar. They load on first use. Pinned by
what a fresh interpreter has imported, not by a timing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Libraries one command needs (/mycheckins, /trends: charts; /meeting calendar: the .ics file).
ON_FIRST_USE = ("matplotlib", "numpy", "PIL", "kiwisolver", "fontTools", "icalendar")

# Everything `python -m bot run` imports before it serves: the command line, the runtime, and
# every extension the runtime loads from cogs/ (as HoldfastBot.setup_hook finds them).
STARTUP = """
import importlib, json, pkgutil, sys
import bot.cli, bot.app
import cogs
found = pkgutil.iter_modules(cogs.__path__)
extensions = sorted(m.name for m in found if not m.name.startswith("_"))
for name in extensions:
    assert hasattr(importlib.import_module("cogs." + name), "setup"), name
loaded = sorted(m.split(".")[0] for m in sys.modules)
print(json.dumps({"extensions": extensions, "loaded": loaded}))
"""


def imported_at_startup(code: str = STARTUP) -> dict[str, list[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, list[str]] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_starting_the_bot_loads_no_library_that_one_command_needs() -> None:
    found = imported_at_startup()
    assert {"checkins", "meetings"} <= set(found["extensions"])
    assert [name for name in ON_FIRST_USE if name in found["loaded"]] == []


def test_the_first_chart_loads_matplotlib_and_draws() -> None:
    # The other side of the bargain: the chart still comes, its library loaded when asked.
    code = """
import json, sys
from datetime import UTC, datetime
from bot.checkins import charts
from bot.checkins.entries import Answers, Checkin
before = "matplotlib" in sys.modules
png = charts.own_chart([Checkin(1, 1, datetime(2026, 11, 1, tzinfo=UTC), Answers(3, 2, 4), None)])
print(json.dumps({"extensions": [], "loaded": [str(before), png[:8].hex()]}))
"""
    found = imported_at_startup(code)
    assert found["loaded"] == ["False", b"\x89PNG\r\n\x1a\n".hex()]
