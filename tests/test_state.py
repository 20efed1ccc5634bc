from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings
from bot.state import command_set_digest

ROOT = Path(__file__).resolve().parent.parent

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
commands = st.lists(
    st.fixed_dictionaries(
        {"name": names, "description": st.text(min_size=1, max_size=20), "type": st.just(1)}
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda c: c["name"],
)


@given(commands, st.randoms())
def test_digest_ignores_the_order_commands_were_added(
    payload: list[dict[str, Any]], rnd: Any
) -> None:
    shuffled = list(payload)
    rnd.shuffle(shuffled)
    assert command_set_digest(1, payload) == command_set_digest(1, shuffled)


@given(commands, st.data())
def test_digest_notices_any_change(payload: list[dict[str, Any]], data: Any) -> None:
    index = data.draw(st.integers(0, len(payload) - 1))
    changed = [dict(c) for c in payload]
    changed[index]["description"] += "!"
    assert command_set_digest(1, payload) != command_set_digest(1, changed)
    assert command_set_digest(1, payload) != command_set_digest(2, payload)
    assert command_set_digest(1, payload) != command_set_digest(1, payload[:-1] or [])


def test_every_setting_is_documented_for_admins() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for key in Settings.model_fields:
        assert f"{key}=" in example, f"{key} is missing from .env.example"
        assert f"`{key}`" in readme, f"{key} is missing from the README's configuration table"
