"""The layers point one way, and the domain never needs a Discord connection.

From the bottom up (README, Development): the foundation, delivery/, groups/, meetings/, then
reminders/ and checkins/ side by side, then attendance/, then the runtime (planning, config, the
Discord port, app, cli), then cogs/. A module imports only its own layer's package and what is
below it, and no import goes round in a circle, even one made inside a function.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
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


# (layer, the packages or modules in it), bottom first. Within a layer a module may import its
# own package; reminders/ and checkins/ stand side by side and do not import each other.
FOUNDATION = (
    "bot",
    "bot.errors",
    "bot.texts",
    "bot.zones",
    "bot.clock",
    "bot.db",
    "bot.state",
    "bot.logs",
    "bot.migrate",
    "bot.backup",
    "bot.notify",
)
RUNTIME = (
    "bot.planning",
    "bot.health",
    "bot.config",
    "bot.discord_port",
    "bot.app",
    "bot.cli",
    "bot.__main__",
)
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("the foundation", FOUNDATION),
    ("delivery/", ("bot.delivery",)),
    ("groups/", ("bot.groups",)),
    ("meetings/", ("bot.meetings",)),
    ("reminders/ and checkins/", ("bot.reminders", "bot.checkins")),
    ("attendance/", ("bot.attendance",)),
    ("the runtime", RUNTIME),
    ("cogs/", ("cogs",)),
)
# Layers whose packages are one unit (may import each other, short of a cycle).
WHOLE_LAYERS = {"the foundation", "the runtime", "cogs/"}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    paths = [*(ROOT / "bot").rglob("*.py"), *(ROOT / "cogs").rglob("*.py")]
    return {module_name(p): p for p in paths}


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """Our modules that `name` imports, anywhere in the file (a lazy import still counts)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from bot.meetings import planning` imports the module bot.meetings.planning.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def import_graph() -> dict[str, set[str]]:
    modules = our_modules()
    known = set(modules)
    return {name: set(imports_of(name, path, known)) for name, path in modules.items()}


def layer_of(module: str) -> tuple[int, str, str]:
    """(rank, layer, unit): the unit is the package a module may import freely within."""
    # The longest name that holds the module: bot.meetings.rsvp is in meetings/, not in "bot".
    placed = [
        (len(member), rank, layer, member)
        for rank, (layer, members) in enumerate(LAYERS)
        for member in members
        if module == member or (module.startswith(member + ".") and member != "bot")
    ]
    if not placed:
        raise LookupError(module)
    _, rank, layer, member = max(placed)
    return rank, layer, layer if layer in WHOLE_LAYERS else member


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for module in our_modules():
        try:
            layer_of(module)
        except LookupError:
            unplaced.append(module)
    assert unplaced == [], (
        f"{', '.join(sorted(unplaced))}: not in any layer; add it to LAYERS in "
        "tests/test_architecture.py and to the README's picture"
    )


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in sorted(graph.items()):
        rank, layer, unit = layer_of(module)
        for target in sorted(targets):
            target_rank, target_layer, target_unit = layer_of(target)
            if target_rank < rank or target_unit == unit:
                continue
            where = "beside it" if target_rank == rank else "above it"
            found.append(
                f"{module} (in {layer}) imports {target}, which is in {target_layer}, {where}: "
                "imports run down the layers only"
            )
    return found


def test_imports_run_down_the_layers() -> None:
    assert layer_violations(import_graph()) == []


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import each other round in a circle (Tarjan), each shown as
    one path that closes on itself."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(closed_path(graph, set(component)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def closed_path(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    start = min(component)
    path = [start]
    seen = {start}
    node = start
    while True:
        nxt = sorted(t for t in graph[node] if t in component)
        back = [t for t in nxt if t == start]
        if back and len(path) > 1:
            return [*path, start]
        fresh = [t for t in nxt if t not in seen]
        if not fresh:
            return [*path, start]
        node = fresh[0]
        seen.add(node)
        path.append(node)


def test_no_import_cycles() -> None:
    cycles = [" imports ".join(cycle) for cycle in import_cycles(import_graph())]
    assert cycles == [], "import cycles: " + "; ".join(cycles)


def test_the_checks_name_both_modules_of_a_wrong_import() -> None:
    # The checks themselves, on made-up graphs: a capability reaching up, and a circle.
    upward = {"bot.meetings.rsvp": {"bot.reminders.plan"}, "bot.reminders.plan": set()}
    assert layer_violations(upward) == [
        "bot.meetings.rsvp (in meetings/) imports bot.reminders.plan, which is in reminders/ "
        "and checkins/, above it: imports run down the layers only"
    ]
    sideways = {"bot.reminders.plan": {"bot.checkins.nudges"}, "bot.checkins.nudges": set()}
    assert "beside it" in layer_violations(sideways)[0]
    circle = {
        "bot.groups.service": {"bot.groups.model"},
        "bot.groups.model": {"bot.groups.service"},
    }
    assert import_cycles(circle) == [["bot.groups.model", "bot.groups.service", "bot.groups.model"]]
