"""Render the view model as ``report.md`` (for a code host) and ``report.html`` with Jinja2.

Both formats render the one document ``build.document`` makes, so they always hold the same
sections in the same order. The HTML page is self-contained: its CSS is inlined from
``templates/report.css`` and its charts are inline SVG, so nothing is fetched from anywhere.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup

from benchmarks.report.build import document
from benchmarks.results.records import Results

_MD_SPECIAL = "\\`*_[]<>|#"


def md_escape(text: str) -> str:
    """Escape the characters GitHub markdown would read as markup."""
    return "".join(f"\\{ch}" if ch in _MD_SPECIAL else ch for ch in text)


@pass_eval_context
def _finalize(eval_ctx: EvalContext, value: Any) -> Any:
    # Where autoescaping is on, escape as html.escape does (&quot;, &#x27;) rather than as
    # markupsafe does (&#34;, &#39;): the same page, byte for byte, as reports rendered before.
    if eval_ctx.autoescape and not hasattr(value, "__html__"):
        return Markup(html.escape(str(value)))  # noqa: S704 - escaped on this very line
    return value


_ENV = Environment(
    loader=PackageLoader("benchmarks.report", "templates"),
    # HTML templates escape every value; Markdown ones pass each text through the md filter.
    autoescape=select_autoescape(enabled_extensions=("html.j2", "svg.j2"), default_for_string=True),
    finalize=_finalize,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["md"] = md_escape
_ENV.filters["f1"] = "{:.1f}".format  # a chart's coordinates


def render_markdown(results: Results) -> str:
    """Render the results as a markdown report."""
    text = _ENV.get_template("report.md.j2").render(doc=document(results))
    return text.rstrip() + "\n"


def render_html(results: Results) -> str:
    """Render the results as one self-contained HTML page with inline SVG charts."""
    template = _ENV.get_template("report.html.j2")
    return template.render(doc=document(results), schema_version=results["schema_version"])


def write_reports(results: Results, run_dir: Path) -> tuple[Path, Path]:
    """Write report.md and report.html into the run directory and return their paths."""
    markdown, page = run_dir / "report.md", run_dir / "report.html"
    markdown.write_text(render_markdown(results), encoding="utf-8")
    page.write_text(render_html(results), encoding="utf-8")
    return markdown, page
