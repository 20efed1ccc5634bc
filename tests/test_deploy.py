"""The files that run Holdfast for real: the systemd units (checked by `systemd-analyze verify`
where systemd is installed), the Dockerfile and compose.yaml (no Docker daemon here: their
structure, their install steps against the Makefile's, and their commands run in a plain venv),
and the hash-locked requirements."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = ["holdfast.service", "holdfast-backup.service", "holdfast-backup.timer"]


# --- systemd -------------------------------------------------------------------------------------


def unit_settings(name: str) -> list[tuple[str, str, str]]:
    """(section, key, value) in order; keys may repeat (systemd.syntax(7))."""
    found: list[tuple[str, str, str]] = []
    section = ""
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        found.append((section, key.strip(), value.strip()))
    return found


def one(name: str, section: str, key: str) -> str:
    values = [v for s, k, v in unit_settings(name) if (s, k) == (section, key)]
    assert len(values) == 1, (name, section, key, values)
    return values[0]


def runnable_copies(tmp_path: Path) -> list[Path]:
    """The units with /opt/holdfast pointed at this checkout's interpreter and folder, since
    `verify` checks that ExecStart's program exists."""
    copies = []
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8")
        text = text.replace("/opt/holdfast/.venv/bin/python", sys.executable)
        text = text.replace("/opt/holdfast", str(ROOT))
        copy = tmp_path / name
        copy.write_text(text, encoding="utf-8")
        copies.append(copy)
    return copies


def verify(paths: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)
def test_systemd_analyze_verify_finds_nothing_to_say_about_the_units(tmp_path: Path) -> None:
    copies = runnable_copies(tmp_path)
    result = verify(copies)
    assert result.returncode == 0, result.stderr
    # Unknown keys and bad values are only warnings (exit 0): none is allowed.
    assert result.stderr.strip() == "", result.stderr

    # The check has teeth: a misspelt key and a bad value are reported.
    bad = tmp_path / "bad" / "holdfast.service"
    bad.parent.mkdir()
    bad.write_text(
        copies[0].read_text().replace("WatchdogSec=", "WachdogSec=").replace("=notify", "=nofity")
    )
    complaint = verify([bad]).stderr
    assert "Unknown key 'WachdogSec'" in complaint
    assert "nofity" in complaint


def test_the_service_is_a_watched_hardened_notify_service_with_its_own_state() -> None:
    name = "holdfast.service"
    assert one(name, "Service", "Type") == "notify"
    assert int(one(name, "Service", "WatchdogSec")) >= 30
    assert one(name, "Service", "Restart") == "on-failure"
    # Exit 2 is "fix the settings": a restart loop would not help.
    assert one(name, "Service", "RestartPreventExitStatus") == "2"
    assert one(name, "Service", "User") == "holdfast"
    assert one(name, "Service", "StateDirectory") == "holdfast"
    environment = [v for s, k, v in unit_settings(name) if k == "Environment"]
    assert "DATABASE_PATH=/var/lib/holdfast/holdfast.sqlite3" in environment
    for key, value in {
        "ProtectSystem": "strict",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
        "UMask": "0077",
    }.items():
        assert one(name, "Service", key) == value, key
    argv = shlex.split(one(name, "Service", "ExecStart"))
    assert argv[1:3] == ["-m", "bot"]
    assert build_parser().parse_args(argv[3:]).command == "run"
    assert one(name, "Install", "WantedBy") == "multi-user.target"


def test_the_timer_runs_the_backup_nightly_keeping_the_newest_copies() -> None:
    timer, service = "holdfast-backup.timer", "holdfast-backup.service"
    # A timer starts the service of the same name.
    assert Path(timer).stem == Path(service).stem
    assert one(timer, "Timer", "OnCalendar") == "*-*-* 03:15:00"
    assert one(timer, "Timer", "Persistent") == "true"
    assert one(timer, "Install", "WantedBy") == "timers.target"
    assert one(service, "Service", "Type") == "oneshot"
    assert one(service, "Service", "User") == one("holdfast.service", "Service", "User")
    argv = shlex.split(one(service, "Service", "ExecStart"))
    args = build_parser().parse_args(argv[3:])
    assert (args.command, args.keep) == ("backup", "14")
    # The copies go to a folder systemd makes writable for the job, next to the database's.
    assert one(service, "Service", "StateDirectory").split() == ["holdfast", "holdfast-backups"]
    assert str(args.path) == "/var/lib/holdfast-backups"


# --- Docker ----------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text(encoding="utf-8"))
    found = []
    for line in joined.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            found.append((instruction.upper(), rest.strip()))
    return found


def makefile_recipe(target: str) -> list[str]:
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{target}:"))
    recipe = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t"):
            break
        recipe.append(line.strip())
    return recipe


def test_the_image_installs_exactly_what_make_run_installs() -> None:
    runs = [args for instruction, args in dockerfile() if instruction == "RUN"]
    pip_in_image = [r for r in runs if "-m pip install" in r and "--upgrade pip" not in r]
    pip_in_make = [
        line.replace("$(BIN)", "/app/.venv/bin")
        for line in makefile_recipe("$(VENV)/.installed-run")
        if "-m pip install" in line
    ]
    assert pip_in_image == pip_in_make
    assert "--require-hashes -r requirements/run.txt" in pip_in_image[0]
    assert pip_in_image[1].endswith("--no-deps -e .")


def test_the_image_is_slim_non_root_with_the_database_on_a_volume_and_a_healthcheck() -> None:
    steps = dockerfile()
    instructions = [i for i, _ in steps]
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", dict(steps)["FROM"])
    env = dict(steps)["ENV"]
    database = re.search(r"DATABASE_PATH=(\S+)", env)
    assert database is not None
    volume = json.loads(dict(steps)["VOLUME"])
    assert [str(Path(database.group(1)).parent)] == volume
    user = dict(steps)["USER"]
    assert user not in ("root", "0")
    # Everything after USER runs as that user: the health check and the bot.
    assert instructions.index("USER") < instructions.index("HEALTHCHECK")
    assert instructions.index("USER") < instructions.index("ENTRYPOINT")
    assert f"useradd --system --gid {user}" in " ".join(a for i, a in steps if i == "RUN")
    for instruction, args in steps:
        if instruction == "COPY":
            *sources, _target = args.split()
            assert all((ROOT / s).exists() for s in sources), args
    healthcheck = dict(steps)["HEALTHCHECK"]
    assert json.loads(healthcheck.split("CMD", 1)[1])[1:] == ["-m", "bot", "health"]
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert {".env", ".venv", "*.sqlite3", "*.keys"} <= set(ignored)


def mini_yaml(text: str) -> dict[str, object]:
    """The block-style YAML subset compose.yaml keeps to (mappings, lists of scalars, plain
    scalars; no flow style, anchors or multi-line strings); anything else fails the test."""
    lines: list[tuple[int, str, int]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        assert "\t" not in raw, f"line {number}: tabs are not YAML indentation"
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        body = raw.split(" #")[0].strip()
        assert not body.startswith(("{", "[", "&", "*", "|", ">")), f"line {number}: {body}"
        lines.append((len(raw) - len(raw.lstrip()), body, number))
    assert lines[0][0] == 0
    value, end = _yaml_block(lines, 0, 0)
    assert end == len(lines), f"line {lines[end][2]}: indentation"
    assert isinstance(value, dict)
    return value


def _yaml_block(lines: list[tuple[int, str, int]], i: int, indent: int) -> tuple[object, int]:
    if lines[i][1].startswith("- "):
        items = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1].startswith("- "):
            items.append(lines[i][1][2:].strip())
            i += 1
        return items, i
    mapping: dict[str, object] = {}
    while i < len(lines) and lines[i][0] == indent:
        _, body, number = lines[i]
        key, sep, value = body.partition(":")
        assert sep, f"line {number}: not a key"
        assert not body.startswith("- "), f"line {number}: a list item among keys"
        assert key not in mapping, f"line {number}: {key} twice"
        i += 1
        if value.strip():
            mapping[key] = value.strip()
        elif i < len(lines) and lines[i][0] > indent:
            mapping[key], i = _yaml_block(lines, i, lines[i][0])
        else:
            mapping[key] = None
    return mapping, i


def test_compose_runs_the_image_with_dot_env_and_the_database_on_a_named_volume() -> None:
    compose = mini_yaml((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert set(compose) == {"services", "volumes"}
    services = compose["services"]
    assert isinstance(services, dict)
    assert list(services) == ["holdfast"]
    bot = services["holdfast"]
    assert isinstance(bot, dict)
    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["restart"] == "unless-stopped"
    environment = bot["environment"]
    assert isinstance(environment, dict)
    volumes = bot["volumes"]
    assert isinstance(volumes, list)
    [mount] = volumes
    volume_name, folder = mount.split(":")
    assert str(Path(environment["DATABASE_PATH"]).parent) == folder
    assert json.loads(dict(dockerfile())["VOLUME"]) == [folder]
    assert compose["volumes"] == {volume_name: None}
    # Longer than the bot's own drain (10 s for a send, 10 s for commands).
    assert int(str(bot["stop_grace_period"]).removesuffix("s")) > 20


def run_like_the_image(
    instruction: str, tmp_path: Path, extra: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The image's ENTRYPOINT + CMD, or its HEALTHCHECK command, in this plain venv."""
    steps = dict(dockerfile())
    if instruction == "HEALTHCHECK":
        argv = json.loads(steps["HEALTHCHECK"].split("CMD", 1)[1])
    else:
        argv = json.loads(steps["ENTRYPOINT"]) + (extra or json.loads(steps["CMD"]))
    assert argv[0] == "/app/.venv/bin/python"
    env = {k: v for k, v in os.environ.items() if k not in Settings.model_fields}
    env.update(DATABASE_PATH=str(tmp_path / "data" / "holdfast.sqlite3"), PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, *argv[1:]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_images_commands_work_in_a_plain_venv(tmp_path: Path) -> None:
    health = run_like_the_image("HEALTHCHECK", tmp_path)
    assert health.returncode == 1
    assert "Holdfast has not started here yet" in health.stderr
    started = run_like_the_image("ENTRYPOINT", tmp_path)
    assert started.returncode == 2, "no token: settings to fix, not a crash"
    assert "Holdfast needs a Discord bot token" in started.stderr
    migrated = run_like_the_image("ENTRYPOINT", tmp_path, ["migrate"])
    assert migrated.returncode == 0, migrated.stderr
    assert (tmp_path / "data" / "holdfast.sqlite3").is_file()
    assert "no heartbeat yet" in run_like_the_image("HEALTHCHECK", tmp_path).stderr


# --- the lock files ------------------------------------------------------------------------------


def pins(name: str) -> dict[str, str]:
    text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
    return dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", text, flags=re.MULTILINE))


def test_the_lock_files_pin_every_package_with_hashes_and_agree() -> None:
    run, test = pins("run.txt"), pins("test.txt")
    assert {"discord-py", "aiosqlite", "apscheduler", "cryptography"} <= {
        n.lower().replace(".", "-").replace("_", "-") for n in run
    }
    assert {"pytest", "mypy", "ruff", "pip-tools"} <= {n.lower() for n in test}
    # Running, the demo and testing use the very same versions of what they share.
    assert {n: v for n, v in test.items() if n in run} == run
    demo = pins("demo.txt")
    assert {n: v for n, v in demo.items() if n in run} == run
    assert {n: v for n, v in test.items() if n in demo} == demo
    assert "jsonschema" in demo
    assert "pytest" not in demo
    for name in ("run.txt", "demo.txt", "test.txt"):
        text = (ROOT / "requirements" / name).read_text(encoding="utf-8")
        blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n\n", 1)[-1].strip())
        assert all("--hash=sha256:" in b for b in blocks if "==" in b), name
        assert "file://" not in text, name
        assert "--find-links" not in text, name
