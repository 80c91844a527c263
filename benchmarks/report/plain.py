"""The plain-text exporter: the view model's blocks as the terminal prints them.

Markdown and HTML are rendered by templates (``render.py``); a terminal needs columns padded to
their widest cell, which is simpler in Python. Charts are for the HTML page and are skipped.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from benchmarks.report.view import Block, Bullets, Heading, Inline, Para, Span, Table

WIDTH = 100  # prose wraps here; table rows are as wide as their columns


def inline(content: Inline) -> str:
    """Return a span's text without its role."""
    if isinstance(content, str):
        return content
    return content.text if isinstance(content, Span) else "".join(map(inline, content))


def table(found: Table) -> list[str]:
    """Return the table's lines: the header, then one line a row, numeric columns right-aligned."""
    rows = [found.headers, *([inline(c) for c in row] for row in found.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(found.headers))]
    return [
        "  ".join(
            cell.rjust(width) if i in found.numeric else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]


def block(found: Block) -> str:
    """Return one block as plain text: wrapped prose, a padded table, a list; "" for a chart."""
    if isinstance(found, Table):
        return "\n".join(table(found))
    if isinstance(found, Bullets):
        items = (f"- {inline(item)}" for item in found.items)
        return "\n".join(textwrap.fill(item, WIDTH, subsequent_indent="  ") for item in items)
    if isinstance(found, Heading):
        return found.text
    return textwrap.fill(inline(found.content), WIDTH) if isinstance(found, Para) else ""


def render(blocks: Iterable[Block]) -> str:
    """Return the blocks as plain text, a blank line between them."""
    return "\n\n".join(text for text in map(block, blocks) if text)
