"""Small inline-SVG charts for the HTML report: bars with whiskers, stacks, lines, ratio rows.

Each returns one ``<svg>`` with a title, axis labels, a legend and a ``<title>`` on every mark
(hover shows the figure); nothing loads from elsewhere. Every text is escaped here, so the element
comes back as ``Markup`` for a template to insert as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 760, 340
MARGIN_LEFT, MARGIN_RIGHT = 76, 20
MARGIN_TOP = 46  # room for the legend
MARGIN_BOTTOM = 58  # room for category labels and the x-axis label
ROW = 46  # a ratio row's height: its label and two lines of notes
AXIS, GRID, INK = "#5b6472", "#e3e6ea", "#1f2933"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
INKED = f'stroke="{INK}" stroke-width="1.3"'  # whiskers
SMALL: dict[str, str | float] = {"font_size": 10, "fill": AXIS}

Legend = Sequence[tuple[str, str]]  # (label, colour)
Ticks = list[tuple[float, str]]  # (y, label)
Values = Sequence[float | None]


@dataclass(frozen=True)
class Axes:
    """A chart's title, axis labels and unit, and a legend where the series' own will not do."""

    title: str
    y_label: str
    x_label: str
    unit: str = ""
    legend: Legend | None = None
    width: int = WIDTH
    height: int = HEIGHT


@dataclass(frozen=True)
class Series:
    """One named set of values in one colour (or one per category), with optional whiskers."""

    name: str
    colour: str
    values: Values
    low: Values | None = None  # whisker ends, e.g. the lowest trial
    high: Values | None = None
    colours: Sequence[str] | None = None  # per-category colours, overriding ``colour``


@dataclass(frozen=True)
class Curve:
    """One series of (x, y) points, and a marked x drawn dashed (e.g. a capacity)."""

    name: str
    colour: str
    points: Sequence[tuple[float, float]]
    mark: float | None = None


@dataclass(frozen=True)
class Ratio:
    """One row of a ratio chart: a dot at the ratio and, where there is one, an interval."""

    label: str
    notes: Sequence[str]  # small lines under the label: what the dot (and the whisker) are
    value: float
    colour: str
    interval: tuple[float, float, float] | None = None  # estimate, low, high
    hollow: bool = False  # e.g. decided by design rather than by this run's figure


@dataclass(frozen=True)
class _Frame:
    """The plot area inside the margins, and a y scale from 0 (or a log one from ``low``)."""

    left: float
    top: float
    right: float
    bottom: float
    y_max: float = 1.0
    low: float | None = None  # the log scale's bottom

    def y(self, value: float) -> float:
        if self.low is None:
            return self.bottom - (self.bottom - self.top) * value / self.y_max
        low, decades = math.log10(self.low), math.log10(self.y_max / self.low) or 1
        at = math.log10(max(value, self.low)) - low
        return self.bottom - (self.bottom - self.top) * at / decades


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
    return [i * step for i in range(math.ceil(top / step - 1e-9) + 1)]


def _text(x: float, y: float, text: str, **attrs: str | float) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(text)}</text>'


def _centred(x: float, y: float, text: str, **attrs: str | float) -> str:
    return _text(x, y, text, text_anchor="middle", **attrs)


def _tipped(tag: str, attrs: str, tip: str) -> str:
    return f"<{tag} {attrs}><title>{escape(tip)}</title></{tag}>" if tip else f"<{tag} {attrs}/>"


def _line(x1: float, x2: float, y1: float, y2: float, style: str, tip: str = "") -> str:
    return _tipped("line", f'x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" {style}', tip)


def _rect(x: float, top: float, width: float, height: float, style: str, tip: str) -> str:
    box = f'x="{x:.1f}" y="{top:.1f}" width="{width:.1f}" height="{height:.1f}"'
    return _tipped("rect", f"{box} {style}", tip)


def _dot(x: float, y: float, r: str, fill: str, stroke: str, width: str, tip: str) -> str:
    circle = f'cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="{fill}" stroke="{stroke}"'
    return _tipped("circle", f'{circle} stroke-width="{width}"', tip)


def _whisker(
    low: float, high: float, at: float, cap: float, across: bool = False, tip: str = ""
) -> list[str]:
    """Return a line from low to high at ``at`` with a cap at each end: up the y axis, or across."""
    spans = [(at, at, low, high, tip), *((at - cap, at + cap, end, end, "") for end in (low, high))]
    return [_line(*((c, d, a, b) if across else (a, b, c, d)), INKED, t) for a, b, c, d, t in spans]


def _svg(axes: Axes, frame: _Frame, legend: Legend, ticks: Ticks, marks: list[str]) -> Markup:
    """Return the chart: title, legend, a grid line and label per tick, the y label, the x axis,
    the chart's own marks, then the x label."""
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
        x += 17 + 6.8 * len(label) + 22  # no font metrics: an average glyph width will do
    for y, text in ticks:
        parts.append(_line(frame.left, frame.right, y, y, f'stroke="{GRID}"'))
        parts.append(_text(frame.left - 8, y + 4, text, text_anchor="end", fill=AXIS))
    middle = (frame.top + frame.bottom) / 2
    parts.append(_centred(16, middle, axes.y_label, transform=f"rotate(-90 16 {middle:.1f})"))
    parts.append(_line(frame.left, frame.right, frame.bottom, frame.bottom, f'stroke="{AXIS}"'))
    parts += [*marks, _centred((frame.left + frame.right) / 2, height - 10, axes.x_label), "</svg>"]
    return Markup("\n".join(parts))  # noqa: S704 - every text in parts was escaped on its way in


def _linear(axes: Axes, top: float, bottom: int = MARGIN_BOTTOM) -> tuple[_Frame, Ticks]:
    """Return the plot area of a y scale from 0 up to round ticks, and those ticks."""
    ticks = nice_ticks(top)
    right, bottom = axes.width - MARGIN_RIGHT, axes.height - bottom
    frame = _Frame(MARGIN_LEFT, MARGIN_TOP, right, bottom, ticks[-1])
    return frame, [(frame.y(tick), number(tick)) for tick in ticks]


def bars(
    axes: Axes, categories: Sequence[str], series: Sequence[Series], stack: bool = False
) -> Markup:
    """Draw one slot per category: a bar per series side by side, with optional min-max
    whiskers; or the series stacked bottom-up, the total on top (a negative share cannot be
    stacked: the table still shows it). A category's name breaks at "·" (e.g. "Flask · heavy")
    to stay inside a narrow slot."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    figures = totals if stack else [v for s in series for v in (*s.values, *(s.high or ())) if v]
    lines = max((len(c.split("·")) for c in categories), default=1)
    frame, ticks = _linear(axes, max([0.0, *figures]), MARGIN_BOTTOM + 14 * (lines - 1))
    slot = (frame.right - frame.left) / max(len(categories), 1)
    width = min(slot * 0.6, 72) if stack else min(slot * 0.8 / max(len(series), 1), 64)
    labelled = len(categories) * len(series) <= 18  # value labels only while they fit
    parts: list[str] = []
    for i, category in enumerate(categories):
        centre = frame.left + slot * (i + 0.5)
        # Only the bars a category has: a target that skipped a scenario leaves no gap.
        present = [
            (s, v) for s in series if (v := s.values[i]) is not None and (v > 0 or not stack)
        ]
        start, base = centre - width * (1 if stack else len(present)) / 2, 0.0
        for j, (s, v) in enumerate(present):
            x, top = start + (0 if stack else j * width), frame.y(base + v)
            fill = s.colours[i] if s.colours else s.colour
            low, high = (s.low[i] if s.low else None), (s.high[i] if s.high else None)
            tip = f"{category}, {s.name}" if stack else f"{s.name}, {category}"
            tip = f"{tip}: {number(v)} {axes.unit}".rstrip()
            if low is not None and high is not None:
                tip += f" (min {number(low)}, max {number(high)})"
            if stack:
                parts.append(_rect(x, top, width, frame.y(base) - top, f'fill="{fill}"', tip))
                base += v
                continue
            bar = f'fill="{fill}" rx="2"'
            parts.append(_rect(x + 1, top, width - 2, frame.y(0) - top, bar, tip))
            if low is not None and high is not None and high > low:
                parts += _whisker(frame.y(low), frame.y(high), x + width / 2, min(width * 0.25, 8))
                top = min(top, frame.y(high))
            if labelled:
                parts.append(_centred(x + width / 2, top - 5, number(v), **SMALL))
        middle = start + width / 2 if stack else centre
        if base:
            parts.append(_centred(middle, frame.y(base) - 5, number(totals[i]), **SMALL))
        for k, line in enumerate(category.split("·")):
            parts.append(_centred(middle, frame.bottom + 18 + 14 * k, line.strip()))
    return _svg(axes, frame, [(s.name, s.colour) for s in series], ticks, parts)


def bar_chart(
    axes: Axes,
    categories: Sequence[str],
    values: Values,
    colours: Sequence[str],
    low: Values | None = None,
    high: Values | None = None,
) -> Markup:
    """Draw one bar per category in its own colour, with optional min-max whiskers."""
    series = Series(axes.title, colours[0] if colours else AXIS, values, low, high, colours)
    legend = list(zip(categories, colours, strict=True))
    return bars(replace(axes, legend=legend), categories, [series])


def curves(
    axes: Axes, lines: Sequence[Curve], log_x: bool = False, target: float | None = None
) -> Markup:
    """Draw one line with points per curve, and each curve's mark as a dashed vertical line.

    With a target (latency against offered load) the y axis is logarithmic, since latency spans
    milliseconds to seconds once queueing starts; x starts at 0 and the target is dashed.
    """
    ys = [y for c in lines for _, y in c.points]
    if target is None:
        frame, ticks = _linear(axes, max([0.0, *ys]))
        xs = sorted({x for c in lines for x, _ in c.points}) or [1.0]
    else:
        positive = [y for y in ys if y > 0] + [target]
        low = 10 ** math.floor(math.log10(min(positive)))
        high = 10 ** math.ceil(math.log10(max(positive)))
        width, height = axes.width - MARGIN_RIGHT, axes.height - MARGIN_BOTTOM
        frame = _Frame(MARGIN_LEFT, MARGIN_TOP, width, height, high, low)
        decades = [low * 10**k for k in range(round(math.log10(high / low)) + 1)]
        ticks = [(frame.y(d), number(d)) for d in decades]
        xs = nice_ticks(max([x for c in lines for x, _ in c.points] or [1.0]))
    inset = 28  # keeps the first and last points off the axes
    left, right = frame.left + inset, frame.right - inset
    scale: Callable[[float], float] = math.log if log_x and min(xs) > 0 else (lambda v: v)
    lo, hi = scale(min(xs)), scale(max(xs))

    def x_of(v: float) -> float:
        return (
            (left + right) / 2 if hi == lo else left + (right - left) * (scale(v) - lo) / (hi - lo)
        )

    parts = [_centred(x_of(x), frame.bottom + 18, number(x)) for x in xs]
    if target is not None:
        dashed, y = f'stroke="{INK}" stroke-dasharray="6 4"', frame.y(target)
        parts.append(_line(frame.left, frame.right, y, y, dashed, f"target {number(target)}"))
    for c in lines:
        points = sorted(c.points)
        path = " ".join(f"{x_of(x):.1f},{frame.y(v):.1f}" for x, v in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{c.colour}" '
            f'stroke-width="2.5" stroke-linejoin="round"/>'
        )
        for x, v in points:
            tip = f"{c.name}, {number(x)}: {number(v)} {axes.unit}".rstrip()
            parts.append(_dot(x_of(x), frame.y(v), "4.5", c.colour, "#fff", "1.5", tip))
        if c.mark:
            style = f'stroke="{c.colour}" stroke-dasharray="3 3" stroke-width="1.5"'
            tip = f"{c.name}: capacity {number(c.mark)}"
            parts.append(_line(x_of(c.mark), x_of(c.mark), frame.top, frame.bottom, style, tip))
    return _svg(axes, frame, [(c.name, c.colour) for c in lines], ticks, parts)


def _log_ticks(x_of: Callable[[float], float], low: float, high: float) -> list[float]:
    """Return 1, then round ratios (1-2-5, then 1.1, 1.25...) at least 36 px from any other."""
    steps = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5)]
    chosen: list[float] = []
    for tick in [1.0, *steps, 1.1, 1.25, 1.5, 1 / 1.1, 0.8, 1 / 1.5]:
        if low <= tick <= high and all(abs(x_of(tick) - x_of(t)) >= 36 for t in chosen):
            chosen.append(tick)
    return sorted(chosen)


def ratio_rows(axes: Axes, rows: Sequence[Ratio], band: float) -> Markup:
    """Draw one row per ratio on a log x axis, 1 shaded by ``band`` each way (no difference),
    the chart as tall as its rows. A whisker whose estimate is not the dot's value is drawn just
    under it, as a figure of its own."""
    ends = [v for r in rows for v in (r.value, *(r.interval or ())) if v > 0]
    low, high = min([1 / band, *ends]) / 1.25, max([band, *ends]) * 1.25
    top = MARGIN_TOP + 8
    frame = _Frame(300, top, axes.width - MARGIN_RIGHT, top + ROW * len(rows))
    axes = replace(axes, height=top + ROW * len(rows) + MARGIN_BOTTOM)

    def x_of(v: float) -> float:
        return frame.left + (frame.right - frame.left) * (math.log(v / low) / math.log(high / low))

    ys = [frame.top + ROW * (i + 0.5) - 6 for i in range(len(rows))]
    left, right, tall = x_of(1 / band), x_of(band), frame.bottom - frame.top
    tip = f"no difference: 1/{number(band)} to {number(band)}"
    parts = [
        _rect(left, frame.top, right - left, tall, f'fill="{GRID}" opacity="0.8"', tip),
        _centred((left + right) / 2, frame.top - 4, "no difference", **SMALL),
    ]
    for tick in _log_ticks(x_of, low, high):
        style = f'stroke="{AXIS if tick == 1 else GRID}"'
        parts.append(_line(x_of(tick), x_of(tick), frame.top, frame.bottom, style))
        parts.append(_centred(x_of(tick), frame.bottom + 18, number(tick) + axes.unit, fill=AXIS))
    for y, r in zip(ys, rows, strict=True):
        for k, note in enumerate(r.notes):
            parts.append(_text(frame.left - 8, y + 17 + 12 * k, note, text_anchor="end", **SMALL))
        if r.interval:
            estimate, lo, hi = r.interval
            at = y if estimate == r.value else y + 10
            tip = f"{number(estimate)}{axes.unit} (95% CI {number(lo)}-{number(hi)})"
            parts += _whisker(x_of(lo), x_of(hi), at, 4, across=True, tip=tip)
            if at != y:
                parts.append(_line(x_of(estimate), x_of(estimate), at - 4, at + 4, INKED))
        tip = f"{r.label}: {number(r.value)}{axes.unit}"
        fill = "#fff" if r.hollow else r.colour
        parts.append(_dot(x_of(r.value), y, "6", fill, r.colour, "2.5", tip))
    return _svg(axes, frame, [], [(y, r.label) for y, r in zip(ys, rows, strict=True)], parts)
