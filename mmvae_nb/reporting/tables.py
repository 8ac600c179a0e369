"""Tidy results -> tables (CSV + Markdown) and figures, side by side with the paper.

Result tables use the schema of the paper's tables (vendored in ``mmvae_nb/reference``):
``table,block,bound,aggregation,beta,prior,metric,target,inputs,mean,std`` plus
``n_runs,profile,dataset``, so a reproduced table joins the paper's on its key columns.
Outputs go to ``tables/<profile>/`` and ``figures/<profile>/`` under the project root. Files are
written atomically, and figures carry no timestamps, so re-running with the same numbers
changes no bytes.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import matplotlib
import pandas as pd

from mmvae_nb.objectives.bounds import BOUND_LABELS
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


def output_dir(kind: str, profile: str) -> Path:
    """``tables/<profile>`` or ``figures/<profile>`` under the project root (created)."""
    path = project_root() / kind / profile
    path.mkdir(parents=True, exist_ok=True)
    return path


def read_table(source) -> pd.DataFrame:
    """A table in the schema above from a CSV path or file: ``target`` and ``inputs`` as
    strings, "" where empty (so that they join on equal keys)."""
    table = pd.read_csv(source, dtype={"target": str, "inputs": str})
    return table.fillna({"target": "", "inputs": ""})


def paper_table(name: str) -> pd.DataFrame:
    """A vendored paper table by file stem, e.g. ``"table01_linear_dense"``."""
    with resources.files("mmvae_nb.reference").joinpath(f"{name}.csv").open() as f:
        return read_table(f)


def write_table(results: pd.DataFrame, name: str, profile: str, dataset: str) -> Path:
    """Write ``results`` (schema above, minus profile/dataset) to tables/<profile>/<name>.csv
    and a side-by-side Markdown rendering with the paper's numbers to <name>.md."""
    table = results.assign(profile=profile, dataset=dataset)[SCHEMA]
    folder = output_dir("tables", profile)
    path = folder / f"{name}.csv"
    atomic_write_text(table.to_csv(index=False, float_format="%.6g"), path)
    atomic_write_text(render_side_by_side(table, paper_table(name)), folder / f"{name}.md")
    return path


def write_csv(frame: pd.DataFrame, name: str, profile: str) -> Path:
    """Write a table that has no counterpart in the paper to tables/<profile>/<name>.csv."""
    path = output_dir("tables", profile) / f"{name}.csv"
    atomic_write_text(frame.to_csv(index=False, float_format="%.6g"), path)
    return path


def join_paper(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """Join reproduced cells with the paper's on the key columns (paper_mean, paper_std, ...)."""
    paper = paper.rename(columns={"mean": "paper_mean", "std": "paper_std"})
    return with_key_dtypes(ours).merge(with_key_dtypes(paper), on=KEY_COLUMNS, how="left")


def with_key_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with the numeric key columns in one dtype (``table`` int, ``beta`` float), so
    that tables written, read back and vendored join."""
    return frame.astype({"table": int, "beta": float})


def _cell(mean, std, digits=3):
    if pd.isna(mean):
        return ""
    return f"{mean:.{digits}f}" if pd.isna(std) else f"{mean:.{digits}f} ({std:.{digits}f})"


def render_side_by_side(ours: pd.DataFrame, paper: pd.DataFrame) -> str:
    """Markdown: one row per aggregation x beta x bound x target x inputs, and per metric a
    column pair 'ours' / 'paper' with mean (std)."""
    joined = join_paper(ours, paper)
    joined["ours"] = [_cell(m, s) for m, s in zip(joined["mean"], joined["std"])]
    joined["paper"] = [_cell(m, s) for m, s in zip(joined["paper_mean"], joined["paper_std"])]
    joined["bound"] = joined["bound"].map(BOUND_LABELS).fillna(joined["bound"])
    index = ["prior", "aggregation", "beta", "bound", "target", "inputs"]
    index = [c for c in index if c in ("aggregation", "bound") or joined[c].nunique() > 1]
    wide = joined.pivot_table(
        index=index, columns="metric", values=["ours", "paper"], aggfunc="first", sort=False
    )
    metrics = list(dict.fromkeys(joined["metric"]))
    wide = wide.reindex(columns=[(who, m) for m in metrics for who in ("ours", "paper")])
    wide.columns = [f"{m} ({who})" for who, m in wide.columns]
    profile, dataset = ours["profile"].iloc[0], ours["dataset"].iloc[0]
    header = (
        f"Profile `{profile}`, data: {dataset}. Cells: mean (std) over runs; "
        "'paper' is the published value.\n\n"
    )
    return header + wide.reset_index().to_markdown(index=False) + "\n"


def save_figure(fig, name: str, profile: str) -> Path:
    """Save ``fig`` as figures/<profile>/<name>.png and .pdf without timestamps."""
    folder = output_dir("figures", profile)
    png = folder / f"{name}.png"
    fig.savefig(png, dpi=120, bbox_inches="tight", metadata={"Software": None})
    with matplotlib.rc_context({"pdf.compression": 6}):
        fig.savefig(
            folder / f"{name}.pdf",
            bbox_inches="tight",
            metadata={"CreationDate": None, "Producer": None, "Creator": None},
        )
    return png
