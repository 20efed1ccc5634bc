"""PNG charts with matplotlib's Agg backend: a member's own check-ins, and a group's months.

Built with `Figure` directly (never pyplot's global state), so rendering is safe in a worker
thread; callers run these with `asyncio.to_thread` to keep the event loop free.

matplotlib (with numpy and Pillow) costs about half a second and 45 MB, and only /mycheckins and
/trends draw: it is imported on the first chart, never when the bot starts.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.checkins.entries import Checkin
from bot.checkins.trends import MEASURES, MonthTrend
from bot.texts import checkins as texts

COLOURS = {"mood": "#4E7D6A", "stress": "#C0703C", "supported": "#4A6FA5"}
SIZE = (8, 4)
DPI = 100

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _figure() -> Figure:
    """A blank figure on the Agg canvas (matplotlib is imported here, on the first chart)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=SIZE)
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    return buffer.getvalue()


def own_chart(checkins: Sequence[Checkin]) -> bytes:
    """A member's check-ins over time (oldest on the left)."""
    figure = _figure()
    axes = figure.add_subplot()
    axes.set_title(texts.own_chart_title())
    axes.set_ylim(0.5, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.grid(axis="y", alpha=0.3)
    ordered = sorted(checkins, key=lambda c: c.created_at)
    # matplotlib's date converter takes datetimes; its stubs only admit numbers.
    when: list[Any] = [c.created_at for c in ordered]
    for name in MEASURES:
        values = [getattr(c.answers, name) for c in ordered]
        axes.plot(when, values, marker="o", label=texts.MEASURE_NAMES[name], color=COLOURS[name])
    axes.legend(loc="upper left", fontsize="small")
    figure.autofmt_xdate()
    return _png(figure)


def trends_chart(months: Sequence[MonthTrend], group_name: str) -> bytes:
    """A group's last months; months not shown are gaps, labelled as such."""
    figure = _figure()
    axes = figure.add_subplot()
    axes.set_title(texts.trends_chart_title(group_name))
    axes.set_ylim(0.5, 5.5)
    axes.set_yticks([1, 2, 3, 4, 5])
    axes.grid(axis="y", alpha=0.3)
    positions = list(range(len(months)))
    for name in MEASURES:
        values = [getattr(m, name) if m.shown else float("nan") for m in months]
        axes.plot(
            positions, values, marker="o", label=texts.MEASURE_NAMES[name], color=COLOURS[name]
        )
    axes.set_xticks(positions)
    axes.set_xticklabels([texts.short_month(m.month) for m in months], rotation=45)
    for position, month in zip(positions, months, strict=True):
        if not month.shown:
            axes.axvspan(position - 0.4, position + 0.4, color="#DDDDDD", alpha=0.5)
    axes.legend(loc="upper left", fontsize="small")
    figure.text(0.01, 0.01, texts.trends_chart_footnote(), fontsize="small", color="#555555")
    return _png(figure)
