"""Lay out the HTML report's charts (bars with whiskers, stacks, lines, ratio rows): each returns
a ``Chart`` of coordinates computed here, which ``templates/chart.svg.j2`` draws as one inline
``<svg>`` with a title, axis labels, a legend and a hover ``<title>`` on every mark."""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from benchmarks.report.formatting import PROSE

WIDTH, HEIGHT = 760, 340
MARGIN_LEFT, MARGIN_RIGHT = 76, 20
MARGIN_TOP = 46  # room for the legend
MARGIN_BOTTOM = 58  # room for category labels and the x-axis label
ROW = 46  # a ratio row's height: its label and two lines of notes

Legend = Sequence[tuple[str, str]]  # (label, colour)
Ticks = list[tuple[float, str]]  # (y, label)
Values = Sequence[float | None]


@dataclass(frozen=True)
class Axes:
    """A chart's title, axis labels, unit, caption, and a legend if the series' own won't do."""

    title: str
    y_label: str
    x_label: str
    unit: str = ""
    legend: Legend | None = None
    caption: str = ""
    width: int = WIDTH
    height: int = HEIGHT


def axes(key: str, legend: Legend | None = None, **values: object) -> Axes:
    """Return the axes whose words prose.toml holds at ``key`` (the caption may say {title})."""
    section, name = key.split(".")
    words: dict[str, str] = PROSE[section][name]
    title = words["title"].format(**values)
    told = {k: v.format(title=title, **values) for k, v in words.items() if k != "title"}
    return Axes(title, told["y"], told["x"], told.get("unit", ""), legend, told["caption"])


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
class Mark:
    """A placed element, drawn by the template's macro for its ``shape`` in its ``style``."""

    shape: str
    style: str
    at: Sequence[float]  # x, y; a line's x1, x2, y1, y2; a rect's x, y, width, height; a path's
    text: str = ""  # a text's words; on any other mark, the tip shown on hover
    colour: str = ""


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


@dataclass(frozen=True)
class Chart:
    """A chart laid out: axes, plot area, legend swatches, y ticks, and marks in drawing order."""

    axes: Axes
    frame: _Frame
    legend: list[tuple[float, str, str]]  # x, label, colour
    ticks: Ticks
    marks: list[Mark]
    block_type = "chart"  # the view model's name for this block (view.Block)


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


def _text(x: float, y: float, text: str, style: str = "centred") -> Mark:
    return Mark("text", style, (x, y), text)


def _line(x1: float, x2: float, y1: float, y2: float, style: str, tip: str = "") -> Mark:
    return Mark("line", style, (x1, x2, y1, y2), tip)


def _whisker(
    low: float, high: float, at: float, cap: float, across: bool = False, tip: str = ""
) -> list[Mark]:
    """Return a line from low to high at ``at`` with a cap at each end: up the y axis, or across."""
    spans = [(at, at, low, high, tip), *((at - cap, at + cap, end, end, "") for end in (low, high))]
    return [
        _line(*((c, d, a, b) if across else (a, b, c, d)), "inked", t) for a, b, c, d, t in spans
    ]


def _chart(axes: Axes, frame: _Frame, legend: Legend, ticks: Ticks, marks: list[Mark]) -> Chart:
    """Return the chart, its legend's swatches placed left to right."""
    swatches, x = [], float(MARGIN_LEFT)
    for label, colour in axes.legend or legend:
        swatches.append((x, label, colour))
        x += 17 + 6.8 * len(label) + 22  # no font metrics: an average glyph width will do
    return Chart(axes, frame, swatches, ticks, marks)


def _linear(axes: Axes, top: float, bottom: int = MARGIN_BOTTOM) -> tuple[_Frame, Ticks]:
    """Return the plot area of a y scale from 0 up to round ticks, and those ticks."""
    ticks = nice_ticks(top)
    right, bottom = axes.width - MARGIN_RIGHT, axes.height - bottom
    frame = _Frame(MARGIN_LEFT, MARGIN_TOP, right, bottom, ticks[-1])
    return frame, [(frame.y(tick), number(tick)) for tick in ticks]


def bars(
    axes: Axes, categories: Sequence[str], series: Sequence[Series], stack: bool = False
) -> Chart:
    """Draw a slot per category: a bar per series side by side, with optional min-max whiskers,
    or stacked with the total on top (not a negative share: the table shows it). A category's
    name breaks at "·" (e.g. "Flask · heavy") to stay inside a narrow slot."""
    totals = [sum(s.values[i] or 0 for s in series) for i in range(len(categories))]
    figures = totals if stack else [v for s in series for v in (*s.values, *(s.high or ())) if v]
    lines = max((len(c.split("·")) for c in categories), default=1)
    frame, ticks = _linear(axes, max([0.0, *figures]), MARGIN_BOTTOM + 14 * (lines - 1))
    slot = (frame.right - frame.left) / max(len(categories), 1)
    width = min(slot * 0.6, 72) if stack else min(slot * 0.8 / max(len(series), 1), 64)
    labelled = len(categories) * len(series) <= 18  # value labels only while they fit
    marks: list[Mark] = []
    for i, category in enumerate(categories):
        centre = frame.left + slot * (i + 0.5)
        # Only the bars a category has: a target that skipped a scenario leaves no gap.
        shown = [(s, v) for s in series if (v := s.values[i]) is not None and (v > 0 or not stack)]
        start, base = centre - width * (1 if stack else len(shown)) / 2, 0.0
        for j, (s, v) in enumerate(shown):
            x, top = start + (0 if stack else j * width), frame.y(base + v)
            fill = s.colours[i] if s.colours else s.colour
            low, high = (s.low[i] if s.low else None), (s.high[i] if s.high else None)
            tip = f"{category}, {s.name}" if stack else f"{s.name}, {category}"
            tip = f"{tip}: {number(v)} {axes.unit}".rstrip()
            if low is not None and high is not None:
                tip += f" (min {number(low)}, max {number(high)})"
            if stack:
                marks.append(Mark("rect", "stack", (x, top, width, frame.y(base) - top), tip, fill))
                base += v
                continue
            marks.append(Mark("rect", "bar", (x + 1, top, width - 2, frame.y(0) - top), tip, fill))
            if low is not None and high is not None and high > low:
                marks += _whisker(frame.y(low), frame.y(high), x + width / 2, min(width * 0.25, 8))
                top = min(top, frame.y(high))
            if labelled:
                marks.append(_text(x + width / 2, top - 5, number(v), "small"))
        middle = start + width / 2 if stack else centre
        if base:
            marks.append(_text(middle, frame.y(base) - 5, number(totals[i]), "small"))
        for k, line in enumerate(category.split("·")):
            marks.append(_text(middle, frame.bottom + 18 + 14 * k, line.strip()))
    return _chart(axes, frame, [(s.name, s.colour) for s in series], ticks, marks)


def bar_chart(
    axes: Axes, categories: Sequence[str], values: Values, colours: Sequence[str], *ends: Values
) -> Chart:
    """Draw one bar per category in its own colour, with min-max whiskers if given their ends."""
    low, high = ends or (None, None)
    series = Series(axes.title, colours[0] if colours else "", values, low, high, colours)
    legend = [*zip(categories, colours, strict=True)]
    return bars(replace(axes, legend=legend), categories, [series])


def curves(
    axes: Axes, lines: Sequence[Curve], log_x: bool = False, target: float | None = None
) -> Chart:
    """Draw a line with points per curve, its mark dashed. With a target (latency against load)
    y is logarithmic, as latency spans ms to s once queueing starts, and the target is dashed."""
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

    middle = (left + right) / 2

    def x_of(v: float) -> float:
        return middle if hi == lo else left + (right - left) * (scale(v) - lo) / (hi - lo)

    marks = [_text(x_of(x), frame.bottom + 18, number(x)) for x in xs]
    if target is not None:
        y = frame.y(target)
        marks.append(_line(frame.left, frame.right, y, y, "target", f"target {number(target)}"))
    for c in lines:
        points = sorted(c.points)
        path = [at for x, v in points for at in (x_of(x), frame.y(v))]
        marks.append(Mark("polyline", "", path, colour=c.colour))
        for x, v in points:
            tip = f"{c.name}, {number(x)}: {number(v)} {axes.unit}".rstrip()
            marks.append(Mark("circle", "point", (x_of(x), frame.y(v)), tip, c.colour))
        if c.mark:
            tip = f"{c.name}: capacity {number(c.mark)}"
            at = (x_of(c.mark), x_of(c.mark), frame.top, frame.bottom)
            marks.append(Mark("line", "mark", at, tip, c.colour))
    return _chart(axes, frame, [(c.name, c.colour) for c in lines], ticks, marks)


def _log_ticks(x_of: Callable[[float], float], low: float, high: float) -> list[float]:
    """Return 1, then round ratios (1-2-5, then 1.1, 1.25...) at least 36 px from any other."""
    steps = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5)]
    chosen: list[float] = []
    for tick in [1.0, *steps, 1.1, 1.25, 1.5, 1 / 1.1, 0.8, 1 / 1.5]:
        if low <= tick <= high and all(abs(x_of(tick) - x_of(t)) >= 36 for t in chosen):
            chosen.append(tick)
    return sorted(chosen)


def ratio_rows(axes: Axes, rows: Sequence[Ratio], band: float) -> Chart:
    """Draw a row per ratio on a log x axis, 1 shaded by ``band`` each way (no difference); a
    whisker whose estimate is not the dot's value is drawn under it, as a figure of its own."""
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
    marks = [
        Mark("rect", "band", (left, frame.top, right - left, tall), tip),
        _text((left + right) / 2, frame.top - 4, "no difference", "small"),
    ]
    for tick in _log_ticks(x_of, low, high):
        style = "axis" if tick == 1 else "grid"
        marks.append(_line(x_of(tick), x_of(tick), frame.top, frame.bottom, style))
        marks.append(_text(x_of(tick), frame.bottom + 18, number(tick) + axes.unit, "tick"))
    for y, r in zip(ys, rows, strict=True):
        for k, note in enumerate(r.notes):
            marks.append(_text(frame.left - 8, y + 17 + 12 * k, note, "note"))
        if r.interval:
            estimate, lo, hi = r.interval
            at = y if estimate == r.value else y + 10
            tip = f"{number(estimate)}{axes.unit} (95% CI {number(lo)}-{number(hi)})"
            marks += _whisker(x_of(lo), x_of(hi), at, 4, across=True, tip=tip)
            if at != y:
                marks.append(_line(x_of(estimate), x_of(estimate), at - 4, at + 4, "inked"))
        tip = f"{r.label}: {number(r.value)}{axes.unit}"
        style = "hollow" if r.hollow else "ratio"
        marks.append(Mark("circle", style, (x_of(r.value), y), tip, r.colour))
    return _chart(axes, frame, [], [(y, r.label) for y, r in zip(ys, rows, strict=True)], marks)
