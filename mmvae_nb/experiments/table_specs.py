"""Table specs: how each paper table is made from a section's per-run results, declaratively.

A section's ``run_grid`` returns one row per training run and replica (repetition, data set,
condition) with its metrics either as columns (``llh``, ``mcc``, ...) or as tidy rows
(``metric``, ``target``, ``inputs``, ``value``). A ``TableSpec`` says which runs and metrics a
paper table shows; ``summarise`` turns the results into that table in the paper tables' schema
(``reporting.tables.KEY_COLUMNS`` + mean, std over runs (ddof = 1), n_runs), the same function
for every section. Row order is the order in which the cells first appear in the results, so a
table is reproducible byte for byte.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# the key columns of the paper tables (reporting.tables.KEY_COLUMNS, without "table")
CELL_KEYS = ["block", "bound", "aggregation", "beta", "prior", "metric", "target", "inputs"]
DEFAULTS = {"prior": "standard", "target": "", "inputs": ""}


@dataclass(frozen=True)
class TableSpec:
    """One paper table.

    * ``table``, ``title``: the paper's number and (short) caption;
    * ``metrics``: the metrics it prints, in the paper's column order;
    * ``where``: filters on the runs (a value, a float compared with ``isclose``, or a tuple of
      accepted values), e.g. ``{"eta": 0.5}`` or ``{"inputs": ("M", "S", "T")}``;
    * ``block``: the paper's block of every cell (a name), a mapping from the runs' ``prior``
      to the block name, or ``None`` to keep the runs' own ``block`` column;
    * ``beta_one_metrics``: metrics printed at beta = 1 only (Table 7 prints the LLH at beta = 1
      and the MCC at two betas);
    * ``beta_sweep``: a table over betas, showing only aggregations trained with several;
    * ``columns``: the paper's column groups after the bound (``reporting.layout``), e.g.
      ``("metric",)`` or ``("target", "inputs")``; the other varying keys are row labels.
    """

    table: int
    title: str
    metrics: tuple[str, ...]
    where: Mapping[str, object] = field(default_factory=dict)
    block: str | Mapping[str, str] | None = "main"
    beta_one_metrics: tuple[str, ...] = ()
    beta_sweep: bool = False
    columns: tuple[str, ...] = ("metric",)


def select_rows(frame: pd.DataFrame, where: Mapping[str, object]) -> pd.DataFrame:
    """The rows of ``frame`` matching every filter of ``where`` (see ``TableSpec``)."""
    keep = np.ones(len(frame), bool)
    for column, value in where.items():
        if isinstance(value, tuple):
            keep &= frame[column].isin(value).to_numpy()
        elif isinstance(value, float):
            keep &= np.isclose(frame[column].astype(float), value)
        else:
            keep &= (frame[column] == value).to_numpy()
    return frame[keep]


def long_rows(per_run: pd.DataFrame, metrics: tuple[str, ...]) -> pd.DataFrame:
    """Tidy rows (one per number) with a ``metric`` and a ``value`` column."""
    if "metric" in per_run.columns:
        return per_run[per_run["metric"].isin(metrics)]
    ids = [c for c in per_run.columns if c not in metrics]
    return per_run.melt(id_vars=ids, value_vars=list(metrics), var_name="metric")


def with_beta_sweeps(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows of the aggregations trained at more than one beta (a beta sweep)."""
    if rows.empty:
        return rows
    varied = rows.groupby("aggregation")["beta"].nunique()
    return rows[rows["aggregation"].isin(varied[varied > 1].index)]


def cell_statistics(rows: pd.DataFrame, keys) -> pd.DataFrame:
    """Mean, std (ddof = 1) and count of the ``value`` of tidy ``rows`` per ``keys``, in the
    order in which the keys first appear."""
    grouped = rows.groupby(list(keys), sort=False)["value"]
    return grouped.agg(mean="mean", std="std", n_runs="count").reset_index()


def summarise(per_run: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    """The cells of ``spec``'s table from a section's per-run results: mean, std (ddof = 1) and
    number of runs per cell, in the paper tables' schema (empty if no run matches)."""
    rows = long_rows(select_rows(per_run, spec.where), spec.metrics)
    if spec.beta_one_metrics:
        at_one = np.isclose(rows["beta"].astype(float), 1.0)
        rows = rows[~rows["metric"].isin(spec.beta_one_metrics) | at_one]
    if spec.beta_sweep:
        rows = with_beta_sweeps(rows)
    rows = rows.assign(**{k: v for k, v in DEFAULTS.items() if k not in rows.columns})
    if isinstance(spec.block, str):
        rows = rows.assign(block=spec.block)
    elif spec.block is not None:
        rows = rows.assign(block=rows["prior"].map(spec.block))
    out = cell_statistics(rows, CELL_KEYS)
    return out.assign(table=spec.table)[["table", *CELL_KEYS, "mean", "std", "n_runs"]]


def summarise_all(per_run: pd.DataFrame, specs: Mapping[str, TableSpec]) -> dict:
    """``{name: summarise(per_run, spec)}`` for every spec with at least one cell."""
    tables = {name: summarise(per_run, spec) for name, spec in specs.items()}
    return {name: table for name, table in tables.items() if not table.empty}
