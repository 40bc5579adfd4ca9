"""``kla.web.charts``: well-formed, accessible SVG whatever the data, with no inline style."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET

import pytest

from kla.web.charts import Bar, bar_chart, step_chart

SVG = "{http://www.w3.org/2000/svg}"
D = dt.date


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    assert root.get("width") == "100%" and root.get("viewBox")
    assert all(el.get("style") is None for el in root.iter())
    assert root.find(f"{SVG}style") is None
    assert next(iter(root)).tag == f"{SVG}title"  # the title comes first
    return root


def step(**kwargs: object) -> ET.Element:
    values: dict[str, object] = {
        "title": "Judul",
        "label": "Label",
        "steps": [],
        "total": 3,
        "start": D(2026, 3, 17),
        "today": D(2026, 3, 27),
        "deadline": D(2026, 4, 1),
        "deadline_label": "Batas waktu",
        "total_label": "Semua (3)",
        "columns": ("Tanggal", "Jumlah"),
    } | kwargs
    return parse(str(step_chart(**values).svg))  # type: ignore[arg-type]


def line_points(root: ET.Element) -> list[tuple[float, float]]:
    path = root.find(f".//{SVG}path[@class='chart-line']")
    assert path is not None
    return [(float(a), float(b)) for a, b in re.findall(r"([\d.]+) ([\d.]+)", path.get("d", ""))]


def test_text_is_escaped_so_the_svg_stays_well_formed() -> None:
    nasty = "A & B <script>\"x\"</script> 'y'"
    chart = bar_chart(title=nasty, label=nasty, bars=[Bar(nasty, 1, 2)], columns=("a", "b"))
    root = parse(str(chart.svg))
    assert root.get("aria-label") == nasty
    assert root.find(f"{SVG}title") is not None
    assert "<script>" not in str(chart.svg)
    assert chart.table == [(nasty, "1 / 2 (50%)")]


def test_the_step_line_rises_on_each_day_and_stops_today() -> None:
    root = step(steps=[(D(2026, 3, 18), 1), (D(2026, 3, 25), 3), (D(2026, 3, 30), 3)])
    points = line_points(root)
    ys = [y for _x, y in points]
    assert ys[0] == max(ys)  # starts at 0 (the bottom)
    assert ys[-1] == min(ys)  # ends at 3 of 3 (the top)
    assert len(set(ys)) == 3
    xs = [x for x, _y in points]
    assert xs == sorted(xs)
    deadline = root.find(f".//{SVG}line[@class='chart-deadline']")
    assert deadline is not None
    assert float(deadline.get("x1", 0)) > xs[-1]  # the deadline is still to come


def test_a_step_after_today_is_not_drawn_nor_listed() -> None:
    chart = step_chart(
        title="t",
        label="l",
        steps=[(D(2026, 3, 18), 1), (D(2026, 3, 30), 2)],
        total=2,
        start=D(2026, 3, 17),
        today=D(2026, 3, 20),
        deadline=D(2026, 4, 1),
        deadline_label="Batas waktu",
        total_label="Semua",
        columns=("a", "b"),
    )
    assert [count for _day, count in chart.table] == ["0", "1"]
    assert len({y for _x, y in line_points(parse(str(chart.svg)))}) == 2


@pytest.mark.parametrize("today", [D(2026, 3, 17), D(2026, 12, 3)])
def test_every_shape_stays_inside_the_view_box(today: dt.date) -> None:
    root = step(today=today, total=0)
    _x, _y, width, height = (float(v) for v in root.get("viewBox", "").split())
    for el in root.iter():
        for name in ("x", "x1", "x2", "cx"):
            if el.get(name) is not None:
                assert 0 <= float(el.get(name, 0)) <= width
        for name in ("y", "y1", "y2", "cy"):
            if el.get(name) is not None:
                assert 0 <= float(el.get(name, 0)) <= height


def test_bars_are_proportional_and_an_empty_total_draws_none() -> None:
    chart = bar_chart(
        title="t",
        label="l",
        bars=[Bar("Penuh", 4, 4), Bar("Separuh", 1, 2), Bar("Kosong", 0, 3), Bar("Tanpa", 0, 0)],
        columns=("a", "b"),
    )
    root = parse(str(chart.svg))
    rects = list(root.iter(f"{SVG}rect"))
    tracks = [r for r in rects if r.get("class") == "chart-track"]
    bars = [r for r in rects if r.get("class") != "chart-track"]
    assert len(tracks) == 4
    track = float(tracks[0].get("width", 0))
    assert [float(r.get("width", 0)) / track for r in bars] == [1.0, 0.5]
    assert bars[0].get("class") == "chart-bar chart-bar-full"
    assert [v for _label, v in chart.table] == ["4 / 4 (100%)", "1 / 2 (50%)", "0 / 3 (0%)", "—"]


def test_a_long_label_wraps_within_the_width() -> None:
    label = "Klaster IV: Pendidikan, Pemanfaatan Waktu Luang, dan Kegiatan Budaya"
    chart = bar_chart(title="t", label="l", bars=[Bar(label, 1, 3)], columns=("a", "b"))
    root = parse(str(chart.svg))
    lines = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "chart-text"]
    assert " ".join(lines) == label and len(lines) == 2
