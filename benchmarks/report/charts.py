"""Small inline-SVG charts for the HTML report: bars, grouped bars with whiskers, stacks, lines.

Each function returns one ``<svg>`` element, with a ``<title>``, axis labels and a legend, and
nothing that loads from elsewhere, so the report stays one self-contained file. Every mark carries
its own ``<title>`` so hovering it shows the exact figure. Text is escaped here and callers pass
plain strings, so the element comes back as ``Markup``: a template inserts it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from html import escape

from markupsafe import Markup

WIDTH = 760
HEIGHT = 340
MARGIN_LEFT = 76
MARGIN_RIGHT = 20
MARGIN_TOP = 46  # room for the legend
MARGIN_BOTTOM = 58  # room for category labels and the x-axis label
ROW = 46  # a ratio row's height: its label and two lines of notes
AXIS = "#5b6472"
GRID = "#e3e6ea"
INK = "#1f2933"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

Legend = Sequence[tuple[str, str]]  # (label, colour)
Ticks = list[tuple[float, str]]  # (y, label)
_INKED = f'stroke="{INK}" stroke-width="1.3"'  # whiskers


@dataclass(frozen=True)
class Axes:
    """What every chart states besides its marks: its title, axis labels and the figures' unit,
    and a legend where the series' own names and colours are not the one wanted."""

    title: str
    y_label: str
    x_label: str
    unit: str = ""
    legend: Legend | None = None
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True)
class Series:
    """One named set of values, drawn in one colour (or one colour per category)."""

    name: str
    colour: str
    values: Sequence[float | None]
    low: Sequence[float | None] | None = None  # whisker ends, e.g. the lowest trial
    high: Sequence[float | None] | None = None
    colours: Sequence[str] | None = None  # per-category colours, overriding ``colour``


@dataclass(frozen=True)
class Curve:
    """One series of (x, y) points with its own x values, and a marked x (e.g. a capacity)."""

    name: str
    colour: str
    points: Sequence[tuple[float, float]]
    mark: float | None = None


@dataclass(frozen=True)
class _Frame:
    """The plot area inside the margins and a linear y scale starting at 0."""

    left: float
    top: float
    right: float
    bottom: float
    y_max: float = 1.0

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.y_max


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


def _value(x: float, y: float, value: float) -> str:
    return _text(x, y, number(value), text_anchor="middle", font_size=10, fill=AXIS)


def _line(x1: float, x2: float, y1: float, y2: float, style: str, tip: str = "") -> str:
    head = f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" {style}'
    return f"{head}><title>{escape(tip)}</title></line>" if tip else f"{head}/>"


def _tipped(tag: str, attrs: str, tip: str) -> str:
    return f"<{tag} {attrs}><title>{escape(tip)}</title></{tag}>"


def _rect(x: float, top: float, width: float, height: float, style: str, tip: str) -> str:
    box = f'x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}"'
    return _tipped("rect", f"{box} {style}", tip)


def _dot(x: float, y: float, r: str, fill: str, stroke: str, width: str, tip: str) -> str:
    attrs = (
        f'cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    )
    return _tipped("circle", attrs, tip)


def _svg(axes: Axes, frame: _Frame, legend: Legend, ticks: Ticks, marks: list[str]) -> Markup:
    """Return the chart: title, legend, a grid line and label at each (y, text) tick, the y
    label and x axis, the chart's own marks, then the x label."""
    width, height = axes.width, axes.height
    parts = [
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" font-family="{escape(FONT)}" font-size="12" fill="{INK}">',
        f"<title>{escape(axes.title)}</title>",
    ]
    x: float = MARGIN_LEFT
    for label, colour in axes.legend or legend:
        parts.append(f'<rect x="{x:.1f}" y="8.0" width="12" height="12" rx="2" fill="{colour}"/>')
        parts.append(_text(x + 17, 18, label))
        # No font metrics in Python: an average glyph width is close enough to space entries.
        x += 17 + 6.8 * len(label) + 22
    for y, text in ticks:
        parts.append(_line(frame.left, frame.right, y, y, f'stroke="{GRID}"'))
        parts.append(_text(frame.left - 8, y + 4, text, text_anchor="end", fill=AXIS))
    middle = (frame.top + frame.bottom) / 2
    rotate = f"rotate(-90 16 {middle:.1f})"
    parts.append(_text(16, middle, axes.y_label, text_anchor="middle", transform=rotate))
    parts.append(_line(frame.left, frame.right, frame.bottom, frame.bottom, f'stroke="{AXIS}"'))
    x = (frame.left + frame.right) / 2
    parts += [*marks, _text(x, height - 10, axes.x_label, text_anchor="middle"), "</svg>"]
    # Safe to mark: every text in parts went through escape() on its way in.
    return Markup("\n".join(parts))  # noqa: S704


def _linear(axes: Axes, top: float, bottom: int = MARGIN_BOTTOM) -> tuple[_Frame, Ticks]:
    """Return the plot area of a y scale from 0 up to round ticks, and those ticks."""
    ticks = nice_ticks(top)
    right, low = axes.width - MARGIN_RIGHT, axes.height - bottom
    frame = _Frame(MARGIN_LEFT, MARGIN_TOP, right, low, ticks[-1])
    return frame, [(frame.y(tick), number(tick)) for tick in ticks]


def grouped_bars(axes: Axes, categories: Sequence[str], series: Sequence[Series]) -> Markup:
    """Draw one group of bars per category, one bar per series, with optional min-max whiskers."""
    figures = [v for s in series for v in (*s.values, *(s.high or ())) if v is not None]
    frame, ticks = _linear(axes, max([0.0, *figures]))
    parts: list[str] = []
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
            low = s.low[i] if s.low else None
            high = s.high[i] if s.high else None
            tip = f"{s.name}, {category}: {number(v)} {axes.unit}".rstrip()
            if low is not None and high is not None:
                tip += f" (min {number(low)}, max {number(high)})"
            mark_top, fill = frame.y(v), s.colours[i] if s.colours else s.colour
            height = frame.y(0) - mark_top
            parts.append(
                _rect(x + 1, mark_top, bar_width - 2, height, f'fill="{fill}" rx="2"', tip)
            )
            if low is not None and high is not None and high > low:
                cap = min(bar_width * 0.25, 8)
                parts += _whisker(frame.y(low), frame.y(high), x + bar_width / 2, cap)
                mark_top = min(mark_top, frame.y(high))
            if labelled:
                parts.append(_value(x + bar_width / 2, mark_top - 5, v))
        parts.append(_text(centre, frame.bottom + 18, category, text_anchor="middle"))
    return _svg(axes, frame, [(s.name, s.colour) for s in series], ticks, parts)


def _whisker(
    low: float, high: float, at: float, cap: float, across: bool = False, tip: str = ""
) -> list[str]:
    """Return a line from low to high at ``at``, with the tip, and a cap at each end: up the y
    axis, or across the x axis."""
    caps = [(at - cap, at + cap, end, end, "") for end in (low, high)]
    spans = [(at, at, low, high, tip), *caps]
    return [
        _line(*((c, d, a, b) if across else (a, b, c, d)), _INKED, t) for a, b, c, d, t in spans
    ]


def bar_chart(
    axes: Axes,
    categories: Sequence[str],
    values: Sequence[float | None],
    colours: Sequence[str],
    low: Sequence[float | None] | None = None,
    high: Sequence[float | None] | None = None,
) -> Markup:
    """Draw one bar per category in its own colour, with optional min-max whiskers."""
    series = Series(axes.title, colours[0] if colours else AXIS, values, low, high, colours)
    legend = list(zip(categories, colours, strict=True))
    return grouped_bars(replace(axes, legend=legend), categories, [series])


def stacked_bars(axes: Axes, categories: Sequence[str], segments: Sequence[Series]) -> Markup:
    """Draw one bar per category made of the segments stacked bottom-up, with its total on top."""
    totals = [sum(s.values[i] or 0 for s in segments) for i in range(len(categories))]
    label_lines = max((len(c.split("·")) for c in categories), default=1)
    frame, ticks = _linear(axes, max([0.0, *totals]), MARGIN_BOTTOM + 14 * (label_lines - 1))
    parts: list[str] = []
    slot = (frame.right - frame.left) / max(len(categories), 1)
    bar_width = min(slot * 0.6, 72)
    for i, category in enumerate(categories):
        x = frame.left + slot * (i + 0.5) - bar_width / 2
        base = 0.0
        for s in segments:
            v = s.values[i]
            if not v or v < 0:  # a negative share cannot be stacked; the table still shows it
                continue
            top, fill = frame.y(base + v), s.colours[i] if s.colours else s.colour
            tip = f"{category}, {s.name}: {number(v)} {axes.unit}".rstrip()
            parts.append(_rect(x, top, bar_width, frame.y(base) - top, f'fill="{fill}"', tip))
            base += v
        if base:
            parts.append(_value(x + bar_width / 2, frame.y(base) - 5, totals[i]))
        # Category names like "Flask · heavy" break at the middle dot to stay inside narrow slots.
        for k, line in enumerate(category.split("·")):
            y = frame.bottom + 18 + 14 * k
            parts.append(_text(x + bar_width / 2, y, line.strip(), text_anchor="middle"))
    return _svg(axes, frame, [(s.name, s.colour) for s in segments], ticks, parts)


def line_chart(
    axes: Axes, xs: Sequence[float], series: Sequence[Series], log_x: bool = True
) -> Markup:
    """Draw one line with points per series over the shared x values (log-scaled by default)."""
    lines = [
        Curve(
            s.name, s.colour, [(x, v) for x, v in zip(xs, s.values, strict=True) if v is not None]
        )
        for s in series
    ]
    return curves(axes, lines, log_x)


def curves(
    axes: Axes, lines: Sequence[Curve], log_x: bool = False, target: float | None = None
) -> Markup:
    """Draw one line with points per curve, and each curve's mark as a dashed vertical line.

    With a target (latency against offered load), the y axis is logarithmic, since latency spans
    milliseconds to seconds once queueing starts, x starts at 0 and the target is a dashed line.
    """
    ys = [y for c in lines for _, y in c.points]
    if target is None:
        frame, ticks = _linear(axes, max([0.0, *ys]))
        y_of: Callable[[float], float] = frame.y
        xs = sorted({x for c in lines for x, _ in c.points}) or [1.0]
    else:
        positive = [y for y in ys if y > 0] + [target]
        low = 10 ** math.floor(math.log10(min(positive)))
        high = 10 ** math.ceil(math.log10(max(positive)))
        frame = _Frame(
            MARGIN_LEFT, MARGIN_TOP, axes.width - MARGIN_RIGHT, axes.height - MARGIN_BOTTOM
        )

        def log_y(v: float) -> float:
            share = (math.log10(max(v, low)) - math.log10(low)) / (math.log10(high / low) or 1)
            return frame.bottom - (frame.bottom - frame.top) * share

        y_of = log_y
        decades = [low * 10**k for k in range(round(math.log10(high / low)) + 1)]
        ticks = [(y_of(d), number(d)) for d in decades]
        xs = nice_ticks(max([x for c in lines for x, _ in c.points] or [1.0]))
    inset = 28  # keeps the first and last points off the axes
    left, right = frame.left + inset, frame.right - inset
    scale = math.log if log_x and min(xs) > 0 else (lambda v: v)
    lo, hi = scale(min(xs)), scale(max(xs))

    def x_of(v: float) -> float:
        return (
            (left + right) / 2 if hi == lo else left + (right - left) * (scale(v) - lo) / (hi - lo)
        )

    parts = []
    for x in xs:
        parts.append(_text(x_of(x), frame.bottom + 18, number(x), text_anchor="middle"))
    if target is not None:
        dashed = f'stroke="{INK}" stroke-dasharray="6 4"'
        y = y_of(target)
        parts.append(_line(frame.left, frame.right, y, y, dashed, f"target {number(target)}"))
    for c in lines:
        points = sorted(c.points)
        path = " ".join(f"{x_of(x):.1f},{y_of(v):.1f}" for x, v in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{c.colour}" '
            f'stroke-width="2.5" stroke-linejoin="round"/>'
        )
        for x, v in points:
            tip = f"{c.name}, {number(x)}: {number(v)} {axes.unit}".rstrip()
            parts.append(_dot(x_of(x), y_of(v), "4.5", c.colour, "#fff", "1.5", tip))
        if c.mark:
            style = f'stroke="{c.colour}" stroke-dasharray="3 3" stroke-width="1.5"'
            tip = f"{c.name}: capacity {number(c.mark)}"
            parts.append(_line(x_of(c.mark), x_of(c.mark), frame.top, frame.bottom, style, tip))
    return _svg(axes, frame, [(c.name, c.colour) for c in lines], ticks, parts)


@dataclass(frozen=True)
class Ratio:
    """One row of a ratio chart: a dot at the ratio and, where there is one, an interval."""

    label: str
    notes: Sequence[str]  # small lines under the label: what the dot (and the whisker) are
    value: float
    colour: str
    interval: tuple[float, float, float] | None = None  # estimate, low, high
    hollow: bool = False  # e.g. decided by design rather than by this run's figure


def _log_ticks(x_of: Callable[[float], float], low: float, high: float) -> list[float]:
    """Return 1, then round ratios (1-2-5, then 1.1, 1.25...) at least 36 px from any other."""
    steps = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5)]
    near = [1.1, 1.25, 1.5, 1 / 1.1, 0.8, 1 / 1.5]
    chosen: list[float] = []
    for tick in (t for t in [1.0, *steps, *near] if low <= t <= high):
        if all(abs(x_of(tick) - x_of(t)) >= 36 for t in chosen):
            chosen.append(tick)
    return sorted(chosen)


def ratio_rows(axes: Axes, rows: Sequence[Ratio], band: float) -> Markup:
    """Draw one row per ratio on a log x axis, 1 shaded by ``band`` each way (no difference);
    the chart is as tall as its rows.

    A whisker whose estimate is the dot's own value passes through the dot; any other is drawn
    just under it, as a figure of its own.
    """
    ends = [v for r in rows for v in (r.value, *(r.interval or ())) if v > 0]
    low, high = min([1 / band, *ends]) / 1.25, max([band, *ends]) * 1.25
    top = MARGIN_TOP + 8
    frame = _Frame(300, top, axes.width - MARGIN_RIGHT, top + ROW * len(rows))
    axes = replace(axes, height=top + ROW * len(rows) + MARGIN_BOTTOM)

    def x_of(v: float) -> float:
        share = math.log(v / low) / math.log(high / low)
        return frame.left + (frame.right - frame.left) * share

    ys = [frame.top + ROW * (i + 0.5) - 6 for i in range(len(rows))]
    left, right = x_of(1 / band), x_of(band)
    tip = f"no difference: 1/{number(band)} to {number(band)}"
    band_style = f'fill="{GRID}" opacity="0.8"'
    small: dict[str, str | float] = {"font_size": 10, "fill": AXIS}
    parts = [
        _rect(left, frame.top, right - left, frame.bottom - frame.top, band_style, tip),
        _text((left + right) / 2, frame.top - 4, "no difference", text_anchor="middle", **small),
    ]
    for tick in _log_ticks(x_of, low, high):
        style = f'stroke="{AXIS if tick == 1 else GRID}"'
        parts.append(_line(x_of(tick), x_of(tick), frame.top, frame.bottom, style))
        label = number(tick) + axes.unit
        parts.append(_text(x_of(tick), frame.bottom + 18, label, text_anchor="middle", fill=AXIS))
    for y, r in zip(ys, rows, strict=True):
        for k, note in enumerate(r.notes):
            parts.append(_text(frame.left - 8, y + 17 + 12 * k, note, text_anchor="end", **small))
        if r.interval:
            estimate, lo, hi = r.interval
            at = y if estimate == r.value else y + 10
            tip = f"{number(estimate)}{axes.unit} (95% CI {number(lo)}-{number(hi)})"
            parts += _whisker(x_of(lo), x_of(hi), at, 4, across=True, tip=tip)
            if at != y:
                parts.append(_line(x_of(estimate), x_of(estimate), at - 4, at + 4, _INKED))
        fill, tip = "#fff" if r.hollow else r.colour, f"{r.label}: {number(r.value)}{axes.unit}"
        parts.append(_dot(x_of(r.value), y, "6", fill, r.colour, "2.5", tip))
    return _svg(axes, frame, [], [(y, r.label) for y, r in zip(ys, rows, strict=True)], parts)
