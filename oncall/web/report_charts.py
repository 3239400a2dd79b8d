"""Geometry of the report page's SVG charts (pure): numbers in, rectangles and lines out; the template draws
them. Server-rendered, so the page works without JavaScript and the same numbers are in its tables."""
from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640  # viewBox units; the SVG scales to the screen's width
LABEL = 120  # left margin for names
ROW = 26  # one bar and its gap
BAR = 18


@dataclass(frozen=True, slots=True)
class Segment:
    x: float
    width: float
    kind: str  # css class: "day", "night", "weekend", "pages", "night-pages"
    value: float  # hours or pages, for the <title>


@dataclass(frozen=True, slots=True)
class BarRow:
    label: str
    y: float
    segments: tuple[Segment, ...]
    total: float


@dataclass(frozen=True, slots=True)
class BarChart:
    rows: tuple[BarRow, ...]
    height: float
    scale_max: float
    unit: str


def _scale(maximum: float) -> float:
    """A round axis end at or above `maximum` (1, 2, 5 x 10^n)."""
    if maximum <= 0:
        return 1.0
    step = 1.0
    while step * 10 <= maximum:
        step *= 10
    while step > maximum * 10:
        step /= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= maximum:
            return step * factor
    return step * 10  # pragma: no cover


def stacked_bars(rows: list[tuple[str, list[tuple[str, float]]]], unit: str) -> BarChart:
    """One horizontal bar per (label, [(kind, value), ...]), segments laid end to end, all on one scale."""
    totals = [sum(v for _k, v in parts) for _label, parts in rows]
    top = _scale(max(totals, default=0))
    span = WIDTH - LABEL - 10
    out = []
    for i, ((label, parts), total) in enumerate(zip(rows, totals)):
        x, segments = float(LABEL), []
        for kind, value in parts:
            width = span * value / top
            if width > 0:
                segments.append(Segment(round(x, 2), round(width, 2), kind, value))
                x += width
        out.append(BarRow(label, i * ROW + 4, tuple(segments), total))
    return BarChart(tuple(out), len(rows) * ROW + 24, top, unit)


@dataclass(frozen=True, slots=True)
class Column:
    label: str  # the month
    x: float
    width: float
    y: float
    height: float
    value: float | None  # minutes; None: no acknowledged incident that month


@dataclass(frozen=True, slots=True)
class TargetChart:
    severity: str
    columns: tuple[Column, ...]
    target_y: float
    target_minutes: float
    scale_max: float
    height: float = 160.0
    width: float = float(WIDTH)


def against_target(severity: str, months: list[tuple[str, float | None]], target_minutes: float) -> TargetChart:
    """Columns of median minutes to acknowledge, month by month, with the target as a horizontal line."""
    plot_top, plot_bottom = 10.0, 130.0
    top = _scale(max([v for _m, v in months if v is not None] + [target_minutes * 1.5]))
    span = WIDTH - 60
    slot = span / max(1, len(months))

    def y_of(value: float) -> float:
        return plot_bottom - (plot_bottom - plot_top) * min(value, top) / top

    columns = []
    for i, (month, value) in enumerate(months):
        x = 50 + i * slot + slot * 0.15
        y = y_of(value) if value is not None else plot_bottom
        columns.append(Column(month, round(x, 2), round(slot * 0.7, 2), round(y, 2), round(plot_bottom - y, 2), value))
    return TargetChart(severity, tuple(columns), round(y_of(target_minutes), 2), target_minutes, top)
