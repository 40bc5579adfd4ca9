"""Charts drawn on the server as SVG: no JavaScript library, nothing inline a strict CSP blocks.

Each chart is an ``<svg>`` with a ``viewBox`` and ``width="100%"`` (it shrinks to a 390 px
phone; ``kla.css`` caps its width on a laptop), ``role="img"``, an ``aria-label`` that says
what it shows and a ``<title>``. Sizes are SVG attributes, colours CSS classes (``chart-*`` in
``kla.css``), never a ``style`` attribute or element. Beside the drawing a page shows the same
numbers as a visually hidden table (``Chart.table``, rendered by ``kla/_chart.html``) for screen
readers. All text is escaped, so the SVG is well-formed XML whatever a name holds.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.utils.dateformat import format as date_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kla.time import long_date

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH = 360  # the viewBox's width: about a phone's, so that its text stays legible there
FONT = 12


@dataclass
class Chart:
    """A drawing and the same numbers as a table (caption, column heads, rows of text)."""

    title: str
    svg: SafeString
    columns: tuple[str, str]
    table: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


def _attrs(**attrs: object) -> str:
    """``name="value"`` pairs, escaped; a trailing underscore is dropped (``class_``) and an
    inner one becomes a dash (``font_size``)."""
    parts = []
    for name, value in attrs.items():
        if value is None:
            continue
        key = name.rstrip("_").replace("_", "-")
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        parts.append(f'{key}="{escape(str(value))}"')
    return " ".join(parts)


def _el(tag: str, text: str | None = None, **attrs: object) -> str:
    opening = f"{tag} {_attrs(**attrs)}".strip()
    if text is None:
        return f"<{opening}/>"
    return f"<{opening}>{escape(text)}</{tag}>"


def _svg(*, height: int, title: str, label: str, class_: str, body: Sequence[str]) -> SafeString:
    head = _attrs(
        xmlns=SVG_NS,
        viewBox=f"0 0 {WIDTH} {height}",
        width="100%",
        role="img",
        aria_label=label,
        class_=f"chart {class_}",
        font_size=FONT,
    )
    # Everything in it went through ``escape``: it is safe to put in a page as it is.
    return mark_safe(f"<svg {head}>{_el('title', title)}{''.join(body)}</svg>")  # noqa: S308


def short_date(day: dt.date) -> str:
    """ "17 Mar" in the active language (the axis labels)."""
    return str(date_format(day, "j M"))


def step_chart(
    *,
    title: str,
    label: str,
    steps: Sequence[tuple[dt.date, int]],
    total: int,
    start: dt.date,
    today: dt.date,
    deadline: dt.date | None,
    deadline_label: str,
    total_label: str,
    columns: tuple[str, str],
) -> Chart:
    """A count that only grows, as a step line from ``start`` to ``today``.

    ``steps``: (day, count reached that day), days ascending, counts rising; the line starts at
    0 on ``start`` and ends on ``today``. The x axis runs to the deadline when it is still to
    come, which is marked by a dashed line; the y axis runs from 0 to ``total`` (at least 1),
    marked by a faint line with ``total_label``.
    """
    height = 220
    left, right, top, bottom = 34, 12, 24, 30
    first = min([start, today, *(d for d, _n in steps)])
    last = max([today, *([deadline] if deadline else [])])
    span = max((last - first).days, 1)
    top_value = max(total, 1, *(n for _d, n in steps))
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(day: dt.date) -> float:
        return left + plot_w * (day - first).days / span

    def y(value: int) -> float:
        return top + plot_h * (1 - value / top_value)

    body = [
        _el("line", x1=left, y1=y(0), x2=WIDTH - right, y2=y(0), class_="chart-axis"),
        _el("line", x1=left, y1=top, x2=left, y2=y(0), class_="chart-axis"),
        _el(
            "line",
            x1=left,
            y1=y(top_value),
            x2=WIDTH - right,
            y2=y(top_value),
            class_="chart-target",
            stroke_dasharray="2 3",
        ),
        _el("text", "0", x=left - 6, y=y(0) + 4, text_anchor="end", class_="chart-text"),
        _el(
            "text",
            str(top_value),
            x=left - 6,
            y=y(top_value) + 4,
            text_anchor="end",
            class_="chart-text",
        ),
    ]
    # The deadline's label sits above the plot on its side; the total's on the other side.
    deadline_right = deadline is not None and x(deadline) > WIDTH / 2
    body.append(
        _el(
            "text",
            total_label,
            x=left + 4 if deadline_right else WIDTH - right,
            y=y(top_value) - 6,
            text_anchor="start" if deadline_right else "end",
            class_="chart-text chart-muted",
        )
    )
    # The line: flat until a day on which the count rose, then up, then flat again to today.
    points = [(x(first), y(0))]
    reached = 0
    for day, count in steps:
        if day > today:
            break
        points.append((x(day), y(reached)))
        points.append((x(day), y(count)))
        reached = count
    points.append((x(today), y(reached)))
    path = "M" + " L".join(f"{px:.1f} {py:.1f}" for px, py in points)
    body.append(_el("path", d=path, class_="chart-line", fill="none", stroke_width=2.5))
    body.append(_el("circle", cx=x(today), cy=y(reached), r=3.5, class_="chart-dot"))
    # The x axis: the first day and today; the deadline apart, labelled above the plot.
    body.append(
        _el(
            "text",
            short_date(first),
            x=left,
            y=height - 10,
            text_anchor="start",
            class_="chart-text",
        )
    )
    if x(today) - x(first) > 60:  # else the two labels would overlap: the table has it
        body.append(
            _el(
                "text",
                short_date(today),
                x=x(today),
                y=height - 10,
                text_anchor="end" if x(today) > WIDTH - right - 30 else "middle",
                class_="chart-text",
            )
        )
    if deadline is not None:
        dx = x(deadline)
        body.append(
            _el(
                "line",
                x1=dx,
                y1=top - 4,
                x2=dx,
                y2=y(0),
                class_="chart-deadline",
                stroke_dasharray="5 3",
                stroke_width=1.5,
            )
        )
        anchor = "end" if deadline_right else "start"
        body.append(
            _el(
                "text",
                f"{deadline_label} {short_date(deadline)}",
                x=dx + (-4 if anchor == "end" else 4),
                y=top - 8,
                text_anchor=anchor,
                class_="chart-text chart-deadline-text",
            )
        )
    table = [(long_date(first), "0")] if not steps or steps[0][0] > first else []
    table += [(long_date(day), str(count)) for day, count in steps if day <= today]
    return Chart(
        title=title,
        svg=_svg(height=height, title=title, label=label, class_="chart-step", body=body),
        columns=columns,
        table=table,
    )


@dataclass
class Bar:
    """One bar: ``value`` of ``total``, with its label."""

    label: str
    value: int
    total: int


def bar_chart(
    *,
    title: str,
    label: str,
    bars: Sequence[Bar],
    columns: tuple[str, str],
    empty: str = "—",
) -> Chart:
    """Horizontal bars, one per ``Bar``, each ``value`` of its own ``total`` over a full-width
    track, its label above it (wrapped) and "value/total" at its end; a bar with no total
    shows ``empty`` and no track fill."""
    left, right, gap, bar_h, line_h = 4, 4, 14, 14, 15
    body: list[str] = []
    table: list[tuple[str, str]] = []
    cursor = 6
    track_w = WIDTH - left - right - 60
    for bar in bars:
        lines = textwrap.wrap(bar.label, 50) or [""]
        for line in lines:
            cursor += line_h
            body.append(_el("text", line, x=left, y=cursor - 3, class_="chart-text"))
        cursor += 3
        body.append(
            _el("rect", x=left, y=cursor, width=track_w, height=bar_h, rx=3, class_="chart-track")
        )
        if bar.total:
            share = min(bar.value / bar.total, 1)
            full = bar.value >= bar.total
            if bar.value:
                body.append(
                    _el(
                        "rect",
                        x=left,
                        y=cursor,
                        width=max(track_w * share, 2),
                        height=bar_h,
                        rx=3,
                        class_="chart-bar" + (" chart-bar-full" if full else ""),
                    )
                )
            shown = f"{bar.value}/{bar.total}"
            table.append((bar.label, f"{bar.value} / {bar.total} ({round(share * 100)}%)"))
        else:
            shown = empty
            table.append((bar.label, empty))
        body.append(
            _el(
                "text",
                shown,
                x=WIDTH - right,
                y=cursor + bar_h - 2,
                text_anchor="end",
                class_="chart-text chart-value",
            )
        )
        cursor += bar_h + gap
    height = max(cursor, 40)
    return Chart(
        title=title,
        svg=_svg(height=height, title=title, label=label, class_="chart-bars", body=body),
        columns=columns,
        table=table,
    )
