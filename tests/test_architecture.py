"""The layers point one way: cogs → bot, and the domain never needs a Discord connection."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The runtime and the command line may touch discord.py; everything else in bot/ is domain.
RUNTIME_MODULES = {"app.py", "cli.py", "__main__.py", "discord_port.py"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def top_level(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_bot_never_imports_cogs() -> None:
    offenders = [
        p.name for p in (ROOT / "bot").rglob("*.py") if "cogs" in top_level(imported_modules(p))
    ]
    assert offenders == []


def test_domain_modules_never_import_discord() -> None:
    offenders = [
        p.name
        for p in (ROOT / "bot").rglob("*.py")
        if p.name not in RUNTIME_MODULES and "discord" in top_level(imported_modules(p))
    ]
    assert offenders == []


def test_cogs_hold_no_sql() -> None:
    keywords = ("SELECT ", "INSERT ", "UPDATE ", "DELETE FROM")
    offenders = [
        p.name
        for p in (ROOT / "cogs").rglob("*.py")
        if any(k in p.read_text(encoding="utf-8") for k in keywords)
    ]
    assert offenders == []
