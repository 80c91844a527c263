"""Small inline-SVG charts for the HTML report: bars, grouped bars with whiskers, stacks, lines.

Each function returns one ``<svg>`` element, with a ``<title>``, axis labels and a legend, and
nothing that loads from elsewhere, so the report stays one self-contained file. Every mark carries
its own ``<title>`` so hovering it shows the exact figure. Text is escaped here and callers pass
plain strings, so the element comes back as ``Markup``: a template inserts it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 760
HEIGHT = 340
MARGIN_LEFT = 76
MARGIN_RIGHT = 20
MARGIN_TOP = 46  # room for the legend
MARGIN_BOTTOM = 58  # room for category labels and the x-axis label
AXIS = "#5b6472"
GRID = "#e3e6ea"
INK = "#1f2933"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


@dataclass(frozen=True)
class Series:
    """One named set of values, drawn in one colour (or one colour per category)."""

    name: str
    colour: str
    values: Sequence[float | None]
    low: Sequence[float | None] | None = None  # whisker ends, e.g. the lowest trial
    high: Sequence[float | None] | None = None
    colours: Sequence[str] | None = None  # per-category colours, overriding ``colour``


Legend = Sequence[tuple[str, str]]  # (label, colour)


def number(value: float) -> str:
    """Format a figure for a label: thousands separators, decimals only for small numbers."""
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:,.1f}".removesuffix(".0")
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Return evenly spaced round ticks from 0 that reach at least ``top``."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    steps = math.ceil(top / step - 1e-9)
    return [i * step for i in range(steps + 1)]


def _text(x: float, y: float, text: str, **attrs: str | float) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _svg(parts: list[str]) -> Markup:
    # Safe to mark: every text in parts went through escape() on its way in.
    return Markup("\n".join(parts))  # noqa: S704


def _open(title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" font-family="{escape(FONT)}" font-size="12" fill="{INK}">',
        f"<title>{escape(title)}</title>",
    ]


def _legend(entries: Legend, x: float, y: float = 18) -> list[str]:
    parts = []
    for label, colour in entries:
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" rx="2" fill="{colour}"/>'
        )
        parts.append(_text(x + 17, y, label))
        # No font metrics in Python: an average glyph width is close enough to space entries.
        x += 17 + 6.8 * len(label) + 22
    return parts


@dataclass(frozen=True)
class _Frame:
    """The plot area inside the margins and a linear y scale starting at 0."""

    left: float
    top: float
    right: float
    bottom: float
    y_max: float

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.y_max


def _y_axis(
    frame: _Frame, ticks: list[float], label: str, fmt: Callable[[float], str]
) -> list[str]:
    parts = []
    for tick in ticks:
        y = frame.y(tick)
        parts.append(
            f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{y:.1f}" '
            f'y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(_text(frame.left - 8, y + 4, fmt(tick), text_anchor="end", fill=AXIS))
    middle = (frame.top + frame.bottom) / 2
    parts.append(
        _text(16, middle, label, text_anchor="middle", transform=f"rotate(-90 16 {middle:.1f})")
    )
    parts.append(
        f'<line x1="{frame.left:.1f}" x2="{frame.right:.1f}" y1="{frame.bottom:.1f}" '
        f'y2="{frame.bottom:.1f}" stroke="{AXIS}"/>'
    )
    return parts


def _frame(
    width: int, height: int, top_value: float, bottom: int = MARGIN_BOTTOM
) -> tuple[_Frame, list[float]]:
    ticks = nice_ticks(top_value)
    frame = _Frame(MARGIN_LEFT, MARGIN_TOP, width - MARGIN_RIGHT, height - bottom, ticks[-1])
    return frame, ticks


def _x_label(frame: _Frame, height: int, label: str) -> str:
    return _text((frame.left + frame.right) / 2, height - 10, label, text_anchor="middle")


def grouped_bars(
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    y_label: str,
    x_label: str,
    unit: str = "",
    legend: Legend | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """Draw one group of bars per category, one bar per series, with optional min-max whiskers."""
    tops = [0.0]
    for s in series:
        tops += [v for v in (*s.values, *(s.high or ())) if v is not None]
    frame, ticks = _frame(width, height, max(tops))
    parts = _open(title, width, height)
    parts += _legend(legend or [(s.name, s.colour) for s in series], frame.left)
    parts += _y_axis(frame, ticks, y_label, number)
    group_width = (frame.right - frame.left) / max(len(categories), 1)
    bar_width = min(group_width * 0.8 / max(len(series), 1), 64)
    labelled = len(categories) * len(series) <= 18  # value labels only while they fit
    for i, category in enumerate(categories):
        centre = frame.left + group_width * (i + 0.5)
        # Centre the bars a category has: a target that skipped a scenario leaves no gap.
        present = [(s, v) for s in series if (v := s.values[i]) is not None]
        start = centre - bar_width * len(present) / 2
        for j, (s, v) in enumerate(present):
            x = start + j * bar_width
            colour = s.colours[i] if s.colours else s.colour
            low = s.low[i] if s.low else None
            high = s.high[i] if s.high else None
            tip = f"{s.name}, {category}: {number(v)} {unit}".rstrip()
            if low is not None and high is not None:
                tip += f" (min {number(low)}, max {number(high)})"
            parts.append(
                f'<rect x="{x + 1:.1f}" y="{frame.y(v):.1f}" width="{bar_width - 2:.1f}" '
                f'height="{frame.y(0) - frame.y(v):.1f}" fill="{colour}" rx="2">'
                f"<title>{escape(tip)}</title></rect>"
            )
            mark_top = frame.y(v)
            if low is not None and high is not None and high > low:
                parts += _whisker(x + bar_width / 2, frame.y(low), frame.y(high), bar_width)
                mark_top = min(mark_top, frame.y(high))
            if labelled:
                parts.append(
                    _text(
                        x + bar_width / 2,
                        mark_top - 5,
                        number(v),
                        text_anchor="middle",
                        font_size=10,
                        fill=AXIS,
                    )
                )
        parts.append(_text(centre, frame.bottom + 18, category, text_anchor="middle"))
    parts.append(_x_label(frame, height, x_label))
    parts.append("</svg>")
    return _svg(parts)


def _whisker(x: float, y_low: float, y_high: float, bar_width: float) -> list[str]:
    cap = min(bar_width * 0.25, 8)
    style = f'stroke="{INK}" stroke-width="1.3"'
    return [
        f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{y_low:.1f}" y2="{y_high:.1f}" {style}/>',
        f'<line x1="{x - cap:.1f}" x2="{x + cap:.1f}" y1="{y_low:.1f}" y2="{y_low:.1f}" {style}/>',
        f'<line x1="{x - cap:.1f}" x2="{x + cap:.1f}" y1="{y_high:.1f}" y2="{y_high:.1f}" '
        f"{style}/>",
    ]


def bar_chart(
    title: str,
    categories: Sequence[str],
    values: Sequence[float | None],
    colours: Sequence[str],
    *,
    y_label: str,
    x_label: str,
    unit: str = "",
    low: Sequence[float | None] | None = None,
    high: Sequence[float | None] | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """Draw one bar per category in its own colour, with optional min-max whiskers."""
    series = Series(title, colours[0] if colours else AXIS, values, low, high, colours)
    return grouped_bars(
        title,
        categories,
        [series],
        y_label=y_label,
        x_label=x_label,
        unit=unit,
        legend=list(zip(categories, colours, strict=True)),
        width=width,
        height=height,
    )


def stacked_bars(
    title: str,
    categories: Sequence[str],
    segments: Sequence[Series],
    *,
    y_label: str,
    x_label: str,
    unit: str = "",
    legend: Legend | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """Draw one bar per category made of the segments stacked bottom-up, with its total on top."""
    totals = [sum(s.values[i] or 0 for s in segments) for i in range(len(categories))]
    label_lines = max((len(c.split("·")) for c in categories), default=1)
    bottom = MARGIN_BOTTOM + 14 * (label_lines - 1)
    frame, ticks = _frame(width, height, max([0.0, *totals]), bottom)
    parts = _open(title, width, height)
    parts += _legend(legend or [(s.name, s.colour) for s in segments], frame.left)
    parts += _y_axis(frame, ticks, y_label, number)
    slot = (frame.right - frame.left) / max(len(categories), 1)
    bar_width = min(slot * 0.6, 72)
    for i, category in enumerate(categories):
        x = frame.left + slot * (i + 0.5) - bar_width / 2
        base = 0.0
        for s in segments:
            v = s.values[i]
            if not v or v < 0:  # a negative share cannot be stacked; the table still shows it
                continue
            colour = s.colours[i] if s.colours else s.colour
            tip = f"{category}, {s.name}: {number(v)} {unit}".rstrip()
            parts.append(
                f'<rect x="{x:.1f}" y="{frame.y(base + v):.1f}" width="{bar_width:.1f}" '
                f'height="{frame.y(base) - frame.y(base + v):.1f}" fill="{colour}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            base += v
        if base:
            parts.append(
                _text(
                    x + bar_width / 2,
                    frame.y(base) - 5,
                    number(totals[i]),
                    text_anchor="middle",
                    font_size=10,
                    fill=AXIS,
                )
            )
        parts += _wrapped_label(x + bar_width / 2, frame.bottom + 18, category)
    parts.append(_x_label(frame, height, x_label))
    parts.append("</svg>")
    return _svg(parts)


def _wrapped_label(x: float, y: float, label: str) -> list[str]:
    # Category names like "Flask · heavy" break at the middle dot to stay inside narrow slots.
    return [
        _text(x, y + 14 * k, line.strip(), text_anchor="middle")
        for k, line in enumerate(label.split("·"))
    ]


def line_chart(
    title: str,
    xs: Sequence[float],
    series: Sequence[Series],
    *,
    y_label: str,
    x_label: str,
    unit: str = "",
    log_x: bool = True,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """Draw one line with points per series over the x values (log-scaled x by default)."""
    tops = [0.0]
    for s in series:
        tops += [v for v in (*s.values, *(s.high or ())) if v is not None]
    frame, ticks = _frame(width, height, max(tops))
    inset = 28  # keeps the first and last points off the axes
    left, right = frame.left + inset, frame.right - inset
    scale = (lambda v: math.log(v)) if log_x and min(xs) > 0 else (lambda v: v)
    lo, hi = scale(min(xs)), scale(max(xs))

    def x_of(v: float) -> float:
        return (
            (left + right) / 2 if hi == lo else left + (right - left) * (scale(v) - lo) / (hi - lo)
        )

    parts = _open(title, width, height)
    parts += _legend([(s.name, s.colour) for s in series], frame.left)
    parts += _y_axis(frame, ticks, y_label, number)
    for x in xs:
        parts.append(_text(x_of(x), frame.bottom + 18, number(x), text_anchor="middle"))
    for s in series:
        points = [
            (x_of(x), frame.y(v), x, v) for x, v in zip(xs, s.values, strict=True) if v is not None
        ]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _, _ in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{s.colour}" '
            f'stroke-width="2.5" stroke-linejoin="round"/>'
        )
        for px, py, x, v in points:
            tip = f"{s.name}, {number(x)}: {number(v)} {unit}".rstrip()
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4.5" fill="{s.colour}" '
                f'stroke="#fff" stroke-width="1.5"><title>{escape(tip)}</title></circle>'
            )
    parts.append(_x_label(frame, height, x_label))
    parts.append("</svg>")
    return _svg(parts)


@dataclass(frozen=True)
class Curve:
    """One series of (x, y) points with its own x values, and a marked x (e.g. a capacity)."""

    name: str
    colour: str
    points: Sequence[tuple[float, float]]
    mark: float | None = None


def latency_curves(
    title: str,
    curves: Sequence[Curve],
    *,
    target: float,
    y_label: str,
    x_label: str,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Markup:
    """Draw latency against offered load: one line per curve, a log y axis (latency spans
    milliseconds to seconds once queueing starts), the target as a dashed line and each
    curve's mark as a dashed vertical line in its colour."""
    xs = [x for c in curves for x, _ in c.points] or [1.0]
    ys = [y for c in curves for _, y in c.points if y > 0] + [target]
    low = 10 ** math.floor(math.log10(min(ys)))
    high = 10 ** math.ceil(math.log10(max(ys)))
    left, right = MARGIN_LEFT + 10, width - MARGIN_RIGHT - 10
    top, bottom = MARGIN_TOP, height - MARGIN_BOTTOM
    x_max = nice_ticks(max(xs))[-1]

    def x_of(v: float) -> float:
        return left + (right - left) * v / x_max

    def y_of(v: float) -> float:
        share = (math.log10(max(v, low)) - math.log10(low)) / (math.log10(high / low) or 1)
        return bottom - (bottom - top) * share

    parts = _open(title, width, height)
    parts += _legend([(c.name, c.colour) for c in curves], MARGIN_LEFT)
    decade = low
    while decade <= high:
        y = y_of(decade)
        parts.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>'
        )
        parts.append(_text(left - 8, y + 4, number(decade), text_anchor="end", fill=AXIS))
        decade *= 10
    for tick in nice_ticks(max(xs)):
        parts.append(_text(x_of(tick), bottom + 18, number(tick), text_anchor="middle"))
    middle = (top + bottom) / 2
    parts.append(
        _text(16, middle, y_label, text_anchor="middle", transform=f"rotate(-90 16 {middle:.1f})")
    )
    parts.append(
        f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{bottom:.1f}" y2="{bottom:.1f}" '
        f'stroke="{AXIS}"/>'
    )
    y = y_of(target)
    parts.append(
        f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{INK}" '
        f'stroke-dasharray="6 4"><title>{escape(f"target {number(target)}")}</title></line>'
    )
    for curve in curves:
        points = sorted(curve.points)
        path = " ".join(f"{x_of(x):.1f},{y_of(v):.1f}" for x, v in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{curve.colour}" stroke-width="2"/>'
        )
        for x, v in points:
            tip = f"{curve.name}: {number(x)} offered, {number(v)}"
            parts.append(
                f'<circle cx="{x_of(x):.1f}" cy="{y_of(v):.1f}" r="4" fill="{curve.colour}" '
                f'stroke="#fff" stroke-width="1.2"><title>{escape(tip)}</title></circle>'
            )
        if curve.mark:
            x = x_of(curve.mark)
            tip = f"{curve.name}: capacity {number(curve.mark)}"
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" '
                f'stroke="{curve.colour}" stroke-dasharray="3 3" stroke-width="1.5">'
                f"<title>{escape(tip)}</title></line>"
            )
    parts.append(_x_label(_Frame(left, top, right, bottom, 1.0), height, x_label))
    parts.append("</svg>")
    return _svg(parts)
