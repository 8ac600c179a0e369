"""Figures -> PNG + PDF without timestamps, and the numbers behind each figure as a CSV.

``publish_figure`` draws a section's ``FigureSpec`` (``experiments.figure_specs``), saves it under
``figures/<profile>/`` and writes the plotted quantities (mean, std, n_runs per bar or point,
``FLOAT_FORMAT``) to ``figures/<profile>/<name>.csv``: a re-run with the same numbers changes
no byte, and a figure's quantities can be compared without reading pixels.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pandas as pd

from mmvae_nb.experiments.figure_specs import FigureSpec, draw, figure_data
from mmvae_nb.reporting.tables import FLOAT_FORMAT, output_dir
from mmvae_nb.storage import atomic_write_text


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


def publish_figure(per_run: pd.DataFrame, spec: FigureSpec, profile: str, title_suffix: str = ""):
    """Draw ``spec`` from ``per_run``, save it (``save_figure``) with its data CSV and return
    the figure for display; ``None``, with nothing written, if no run matches ``spec``."""
    fig = draw(per_run, spec, title_suffix)
    if fig is None:
        return None
    save_figure(fig, spec.name, profile)
    data = figure_data(per_run, spec)
    path = output_dir("figures", profile) / f"{spec.name}.csv"
    atomic_write_text(data.to_csv(index=False, float_format=FLOAT_FORMAT), path)
    return fig
