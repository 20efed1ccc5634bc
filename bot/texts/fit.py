"""Making every reply fit Discord, whatever the data.

Discord refuses a message whose content is over 2,000 characters (an embed description: 4,096),
and a refused reply reaches the person as "This interaction failed". So every reply that holds a
list or a person's own words goes through one of these:

* `echo`: what someone typed, quoted back in an error, on one line and at most 100 characters;
* `fit_lines`: a heading and as many whole lines as fit, then "…and N more";
* `paginate`: a heading and the lines split into pages that each fit (the cogs add Previous and
  Next buttons);
* `clip`: the last resort for one long text (a meeting's description and note), cut with "…".
"""

from __future__ import annotations

from collections.abc import Sequence

CONTENT_LIMIT = 2000
"""Message content, for bots (Discord: "Create Message", content up to 2000 characters)."""
EMBED_DESCRIPTION_LIMIT = 4096
ECHO_LIMIT = 100
ELLIPSIS = "…"


def clip(text: str, limit: int = CONTENT_LIMIT) -> str:
    """`text`, or its start and "…" in at most `limit` characters."""
    if len(text) <= limit:
        return text
    return text[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """Something a person typed, quoted back: one line, at most `limit` characters."""
    return clip(" ".join(text.split()), limit)


def and_more(count: int) -> str:
    return f"{ELLIPSIS}and {count} more"


def page_marker(page: int, pages: int) -> str:
    return f"Page {page + 1} of {pages}"


def previous_button() -> str:
    return "Previous"


def next_button() -> str:
    return "Next"


_MARKER_ROOM = len(page_marker(9998, 9999)) + 1
_MORE_ROOM = len(and_more(99_999)) + 1


def _budget(head: str, tail: str | None, limit: int, reserve: int) -> int:
    used = len(head) + 1 + reserve + (len(tail) + 1 if tail else 0)
    return max(limit - used, 1)


def fit_lines(
    head: str, lines: Sequence[str], *, tail: str | None = None, limit: int = CONTENT_LIMIT
) -> str:
    """`head`, then as many whole `lines` as fit in `limit`, "…and N more", then `tail`."""
    head = clip(head, limit // 4)
    tail = clip(tail, limit // 4) if tail else tail
    everything = "\n".join([head, *lines, *([tail] if tail else [])])
    if len(everything) <= limit:
        return everything
    budget = _budget(head, tail, limit, _MORE_ROOM)
    kept: list[str] = []
    used = 0
    for line in lines:
        cost = len(line) + (1 if kept else 0)
        if used + cost > budget:
            break
        kept.append(line)
        used += cost
    parts = [head, *kept, and_more(len(lines) - len(kept))]
    if tail:
        parts.append(tail)
    return "\n".join(parts)


def paginate(
    head: str, lines: Sequence[str], *, tail: str | None = None, limit: int = CONTENT_LIMIT
) -> list[str]:
    """The lines under `head` as pages that each fit in `limit` (one page if they all fit).

    A line too long for a page on its own is clipped. Every page repeats the heading (and
    `tail`) and, when there is more than one, says which page it is.
    """
    head = clip(head, limit // 4)
    tail = clip(tail, limit // 4) if tail else tail
    single = "\n".join([head, *lines, *([tail] if tail else [])])
    if len(single) <= limit:
        return [single]
    budget = _budget(head, tail, limit, _MARKER_ROOM)
    chunks: list[list[str]] = [[]]
    used = 0
    for raw in lines:
        line = clip(raw, budget)
        cost = len(line) + (1 if chunks[-1] else 0)
        if chunks[-1] and used + cost > budget:
            chunks.append([])
            cost = len(line)
            used = 0
        chunks[-1].append(line)
        used += cost
    total = len(chunks)
    return [
        "\n".join([head, *chunk, *([tail] if tail else []), page_marker(index, total)])
        for index, chunk in enumerate(chunks)
    ]
