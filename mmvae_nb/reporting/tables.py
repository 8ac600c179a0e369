"""Tidy results -> tables (CSV + Markdown in the paper's layout); figures: ``reporting.figures``.

Result tables use the schema of the paper's tables (vendored in ``mmvae_nb/reference``):
``table,block,bound,aggregation,beta,prior,metric,target,inputs,mean,std`` plus
``n_runs,profile,dataset``, so a reproduced table joins the paper's on its key columns.
Outputs go to ``tables/<profile>/`` and ``figures/<profile>/`` under the project root. Files are
written atomically, and figures carry no timestamps, so re-running with the same numbers
changes no bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from mmvae_nb.experiments.table_specs import TableSpec
from mmvae_nb.reporting.layout import render_paper_layout, table_caption
from mmvae_nb.storage import atomic_write_text, project_root

KEY_COLUMNS = [
    "table",
    "block",
    "bound",
    "aggregation",
    "beta",
    "prior",
    "metric",
    "target",
    "inputs",
]
SCHEMA = KEY_COLUMNS + ["mean", "std", "n_runs", "profile", "dataset"]
DIVERGED_SUFFIX = "_diverged"  # tables/<profile>/<section>_diverged.csv: replicas not evaluated
# numbers in written CSVs: 4 significant digits, finer than the paper prints and coarse enough
# that a re-run on another processor (XLA:CPU differs in the 5th-6th digit) changes no byte
FLOAT_FORMAT = "%.4g"


def output_dir(kind: str, profile: str) -> Path:
    """``tables/<profile>`` or ``figures/<profile>`` under the project root (created)."""
    path = project_root() / kind / profile
    path.mkdir(parents=True, exist_ok=True)
    return path


def table_spec(name: str) -> TableSpec:
    """The ``TableSpec`` of paper table ``name`` (``experiments.registry.table_spec``)."""
    from mmvae_nb.experiments.registry import table_spec as registered

    return registered(name)


def write_table(results: pd.DataFrame, name: str, profile: str, dataset: str) -> Path:
    """Write ``results`` (schema above, minus profile/dataset) to tables/<profile>/<name>.csv
    (``FLOAT_FORMAT``) and its rendering in the paper's layout beside the paper's numbers to
    <name>.md; returns the CSV's path."""
    table = results.assign(profile=profile, dataset=dataset)[SCHEMA]
    folder = output_dir("tables", profile)
    path = folder / f"{name}.csv"
    atomic_write_text(table.to_csv(index=False, float_format=FLOAT_FORMAT), path)
    atomic_write_text(render_table(table, name), folder / f"{name}.md")
    return path


def render_table(table: pd.DataFrame, name: str) -> str:
    """Caption and paper-layout grid (``layout.render_paper_layout``) of a written table."""
    spec = table_spec(name)
    profile, dataset = table["profile"].iloc[0], table["dataset"].iloc[0]
    caption = table_caption(spec, profile, dataset, table["n_runs"])
    return caption + "\n\n" + render_paper_layout(table, name, spec)


@dataclass(frozen=True)
class Published:
    """A written table as a notebook shows it (``_repr_markdown_``)."""

    path: Path
    markdown: str

    def _repr_markdown_(self) -> str:
        return self.markdown

    def __repr__(self) -> str:  # the text a notebook stores beside the Markdown: no local path
        return self.markdown


def publish(results: pd.DataFrame, name: str, profile: str, dataset: str) -> Published:
    """Write a reproduced paper table (``write_table``) and return it for display, in the
    paper's layout with the published numbers under ours."""
    path = write_table(results, name, profile, dataset)
    return Published(path, (path.parent / f"{name}.md").read_text())


def timings_path(name: str, profile: str) -> Path:
    """``build/<profile>/<name>.csv``: this machine's timings of a run, outside git, so that a
    run leaves no tracked file changed (``benchmarks/results/<name>_<profile>.csv`` is the
    committed copy the scorecard reads: ``make record-timings``)."""
    path = project_root() / "build" / profile / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def write_timings(frame: pd.DataFrame, name: str, profile: str) -> Path:
    """Write a table of wall times to ``timings_path(name, profile)``."""
    path = timings_path(name, profile)
    atomic_write_text(frame.to_csv(index=False, float_format=FLOAT_FORMAT), path)
    return path


def write_csv(frame: pd.DataFrame, name: str, profile: str) -> Path:
    """Write a table that has no counterpart in the paper to tables/<profile>/<name>.csv."""
    path = output_dir("tables", profile) / f"{name}.csv"
    atomic_write_text(frame.to_csv(index=False, float_format=FLOAT_FORMAT), path)
    return path


def publish_divergences(per_run: pd.DataFrame, section: str, profile: str) -> pd.DataFrame:
    """The replicas of ``per_run`` that diverged (``experiments.base.diverged_runs``), written
    to tables/<profile>/<section>_diverged.csv when there are any (a stale file from an earlier
    run is removed when there are none); the scorecard lists them."""
    from mmvae_nb.experiments.base import diverged_runs

    diverged = diverged_runs(per_run)
    path = output_dir("tables", profile) / f"{section}{DIVERGED_SUFFIX}.csv"
    if diverged.empty:
        path.unlink(missing_ok=True)
    else:
        atomic_write_text(diverged.to_csv(index=False, float_format=FLOAT_FORMAT), path)
    return diverged


def join_paper(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Join reproduced cells with the paper's on the key columns (paper_mean, paper_std, ...)."""
    paper = paper.rename(columns={"mean": "paper_mean", "std": "paper_std"})
    return with_key_dtypes(ours).merge(with_key_dtypes(paper), on=KEY_COLUMNS, how="left")


def with_key_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the numeric key columns in one dtype (``table`` int, ``beta`` float), so
    that tables written, read back and vendored join."""
    return frame.astype({"table": int, "beta": float})
