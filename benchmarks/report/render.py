"""Build a run's view model from its ``results.json`` (the sections of sections_*.py, closed by
the methodology and the environment) and render it as ``report.md`` and ``report.html``.
A section the run did not measure says so; a run of another command than ``run`` shows that
command's sections (and, for ``capacity``, the claim it decides) and the environment. The HTML
page inlines its CSS and SVG charts, so it fetches nothing."""

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, pass_eval_context, select_autoescape
from jinja2.nodes import EvalContext
from markupsafe import Markup

from benchmarks.analysis import aggregate
from benchmarks.analysis.aggregate import Run
from benchmarks.report import formatting as f
from benchmarks.report import (
    sections_checks,
    sections_cost,
    sections_footprint,
    sections_load,
    sections_serving,
    sections_setup,
)
from benchmarks.report.view import Document, Section
from benchmarks.results.records import Results
from benchmarks.results.store import SCHEMA_VERSION
from benchmarks.results.vocabulary import Command

SECTIONS: tuple[Callable[[Run], Section], ...] = (
    *sections_load.SECTIONS,
    sections_cost.cost_section,
    sections_cost.ladders_section,
    sections_cost.CAPACITY,
    *sections_footprint.SECTIONS,
    sections_cost.WORKERS,
    *sections_checks.SECTIONS,
    sections_setup.methodology,
    sections_setup.environment,
)
# The sections of each command's part, in the order of SECTIONS; the environment closes each.
# A capacity run is judged for the one claim its figures decide ("scales"): its Claims section.
PARTS: dict[Command, tuple[Callable[[Run], Section], ...]] = {
    "run": SECTIONS,
    "capacity": (sections_load.claims_section, sections_cost.CAPACITY),
    "soak": (sections_checks.reliability,),
    "workers": (sections_cost.WORKERS,),
    "ladders": (sections_cost.ladders_section,),
    "remote": (sections_serving.remote_section,),
    "peers": (sections_serving.PEERS,),
    "batching": (sections_serving.BATCHING,),
}


def document(results: Results) -> Document:
    """Build the report's sections from the results."""
    version = results.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ValueError(
            f"results schema_version {version!r}; this renderer reads {SCHEMA_VERSION}"
        )
    run = aggregate.run(results)
    env, duration = results.get("environment") or {}, results.get("duration_s")
    commit = str(env.get("git_commit") or "")[:12]
    shown: dict[str, object] = {"Date": env.get("date"), "Commit": commit}
    shown |= {"Duration": duration and f"{duration / 60:.1f} min", "Schema": version}
    meta = [f"{key}: {value}" for key, value in shown.items() if value]
    run_id, mode = results.get("run_id", f.MISSING), results.get("mode", f.MISSING)
    command = results.get("command", "run")
    title = f"Flask vs Django REST framework: {command} {run_id} ({mode} mode)"
    sections = PARTS[command]
    if command != "run":
        sections = (*sections, sections_setup.environment)
    # Not part of the schema: only made-up results carry a note, and it must not go unseen.
    note = results.get("note")
    return Document(title, meta, str(note) if note else None, [s(run) for s in sections])


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
