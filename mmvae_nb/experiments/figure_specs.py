"""Figure specs: how each paper figure of measured quantities is made from per-run results.

The counterpart of ``table_specs`` for figures. A ``FigureSpec`` names the runs (``where``), the
quantities the figure plots (``metrics``) and the function that draws them; ``figure_data``
turns the results into the numbers behind the figure (mean, std over runs and their count per
bar or point, in the tables' schema), which ``reporting.figures.publish_figure`` writes next to
the picture, so that a figure's quantities can be read, diffed and checked by claims without
reading pixels.

Figures of samples (latent scatter plots, cross-generated images: Figures 1, 6, 7, 10-12) show
models, not measured quantities; they are drawn by their sections' plotting functions directly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from mmvae_nb.experiments.table_specs import (
    CELL_KEYS,
    DEFAULTS,
    cell_statistics,
    long_rows,
    select_rows,
    with_beta_sweeps,
)


@dataclass(frozen=True)
class FigureSpec:
    """One figure of measured quantities.

    * ``name``: the file stem under ``figures/<profile>/`` (``fig03_linear_dense_...``);
    * ``title``: the paper's figure number and what it shows (the notebook adds the profile);
    * ``plot``: ``plot(rows, title) -> matplotlib Figure`` from the selected per-run rows;
    * ``metrics``: the quantities it plots (its data file's ``metric`` column);
    * ``where``: filters on the runs, as ``TableSpec.where``;
    * ``beta_sweep``: keep only aggregations trained at several betas (Figures 5 and 9);
    * ``keys``: extra columns that index the bars or lines besides ``CELL_KEYS`` (e.g.
      ``("eta",)``).
    """

    name: str
    title: str
    plot: Callable[[pd.DataFrame, str], object]
    metrics: tuple[str, ...]
    where: Mapping[str, object] = field(default_factory=dict)
    beta_sweep: bool = False
    keys: tuple[str, ...] = ()

    def select(self, per_run: pd.DataFrame) -> pd.DataFrame:
        """The per-run rows this figure draws."""
        rows = select_rows(per_run, self.where)
        return with_beta_sweeps(rows) if self.beta_sweep else rows


def figure_data(per_run: pd.DataFrame, spec: FigureSpec) -> pd.DataFrame:
    """The numbers behind ``spec``'s figure: one row per plotted quantity and bar or point,
    with mean, std (ddof = 1) and number of runs (empty if no run matches)."""
    rows = long_rows(spec.select(per_run), spec.metrics)
    rows = rows.assign(**{k: v for k, v in DEFAULTS.items() if k not in rows.columns})
    keys = [k for k in (*CELL_KEYS, *spec.keys) if k in rows.columns]
    out = cell_statistics(rows, keys)
    return out.assign(figure=spec.name)[["figure", *keys, "mean", "std", "n_runs"]]


def draw(per_run: pd.DataFrame, spec: FigureSpec, title_suffix: str = ""):
    """``spec``'s figure of ``per_run`` (``None`` if no run matches: nothing to draw)."""
    rows = spec.select(per_run)
    if rows.empty:
        return None
    return spec.plot(rows, f"{spec.title}{title_suffix}")
