"""Building markup as strings: every text and attribute value escaped on the way in."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping

Attrs = Mapping[str, object]


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def el(tag: str, attrs: Attrs | None = None, *children: str) -> str:
    """`<tag a="v">children</tag>`; children are markup already, attribute values are escaped.

    An attribute whose value is None is left out; True writes it bare.
    """
    parts = [tag]
    for name, value in (attrs or {}).items():
        if value is None or value is False:
            continue
        parts.append(name if value is True else f'{name}="{esc(value)}"')
    return f"<{' '.join(parts)}>{''.join(children)}</{tag}>"


def void(tag: str, attrs: Attrs | None = None) -> str:
    """A self-closing SVG element (`<line ... />`)."""
    body = el(tag, attrs)
    return body[: -len(f"></{tag}>")] + "/>"


def num(value: float) -> str:
    """A coordinate, short: one decimal at most."""
    return f"{value:.1f}".removesuffix(".0")


def seconds(t: float) -> str:
    """Virtual time for people: `20 s`, `89.2 s`, and `the end` for a band that never closed."""
    if math.isinf(t):
        return "the end"
    return f"{round(t, 1):g} s"


def clip(text: str, width_px: float, char_px: float = 6.4) -> str:
    """`text` cut with an ellipsis to fit `width_px` (the full text goes in a hover)."""
    room = max(int(width_px / char_px), 1)
    return text if len(text) <= room else text[: max(room - 1, 0)] + "…"
