"""The view model every format renders: a document of sections made of blocks (plain data, each
naming its ``block_type`` for a template to pick its macro) and inline spans."""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from benchmarks.analysis.aggregate import Run
from benchmarks.report.charts import Chart
from benchmarks.report.formatting import NOT_MEASURED, prose

R = TypeVar("R")  # a record a table shows a row of, or a section's data


@dataclass(frozen=True)
class Span:
    """A piece of text with a role each format shows its own way (code, strong, badge...)."""

    text: str
    role: str  # "code", "strong", "verdict", "pass", "fail" or "flag"
    kind: str = ""  # for a verdict: which one, to colour its badge


Inline = str | Span | tuple[str | Span, ...]


class _Block:
    @property
    def block_type(self) -> str:
        return type(self).__name__.lower()


@dataclass(frozen=True)
class Para(_Block):
    """A paragraph, or a callout no reader may miss (e.g. a warning that an A/A pair differs)."""

    content: Inline
    callout: bool = False


@dataclass(frozen=True)
class Bullets(_Block):
    """A bullet list."""

    items: list[Inline]


@dataclass(frozen=True)
class Heading(_Block):
    """A sub-heading inside a section."""

    text: str


@dataclass(frozen=True)
class Table(_Block):
    """A table; ``numeric`` holds the indexes of right-aligned columns."""

    headers: list[str]
    rows: list[list[Inline]]
    numeric: frozenset[int] = frozenset()


Block = Para | Bullets | Heading | Table | Chart


@dataclass
class Section:
    """A titled section of the report."""

    title: str
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Document:
    """The whole report: title, lines under it, a prominent note, and the sections."""

    title: str
    meta: list[str]
    note: str | None
    sections: list[Section]


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column of a table of records: its header, its cell of a record, its alignment."""

    header: str
    cell: Callable[[R], Inline]
    numeric: bool = False  # right-aligned


def code(text: object) -> Span:
    """Return text shown as code (names of files, scenarios, keys)."""
    return Span(str(text), "code")


def verdict(text: str) -> Span:
    """Return a claim's verdict, shown as a coloured badge in HTML."""
    return Span(text, "verdict", "-".join(text.replace("(", " ").replace(")", " ").split()))


def tabulate(columns: Sequence[Column[R]], records: Iterable[R]) -> Table:
    """Return a table with a row per record and a cell per column."""
    rows = [[column.cell(record) for column in columns] for record in records]
    numeric = frozenset(i for i, column in enumerate(columns) if column.numeric)
    return Table([column.header for column in columns], rows, numeric)


def words(key: str, /, **values: object) -> Inline:
    """Return the prose at ``key``, filled in, its `backticked` parts shown as code."""
    parts = prose(key, **values).split("`")
    spans = tuple(code(part) if i % 2 else part for i, part in enumerate(parts))
    return spans if len(spans) > 1 else parts[0]


def see(section: str, doc: str = "benchmark.md") -> Para:
    """Return the one line naming the docs section that explains the figures above it."""
    return Para(f'How these were measured and how to read them: docs/{doc}, "{section}".')


def or_missing(table: Table) -> Table | Para:
    """Return the table, or a line saying nothing was measured when it has no rows."""
    return table if table.rows else Para(NOT_MEASURED)


def section(title: str, data: R | None, build: Callable[[R], list[Block]]) -> Section:
    """Return the section of the data's blocks, or one saying the run did not measure it."""
    return Section(title, build(data) if data else [Para(NOT_MEASURED)])


def part(
    title: str, data: Callable[[Run], R | None], build: Callable[[R], list[Block]]
) -> Callable[[Run], Section]:
    """Return what makes ``section`` of the data a run holds, for a list of sections."""
    return lambda run: section(title, data(run), build)
