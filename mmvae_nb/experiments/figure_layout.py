"""Figure layout shared by the sections: sized for a notebook column, one legend per figure.

A figure is at most ``MAX_WIDTH`` inches wide (a JupyterLab notebook column at the default
zoom), panels wrap onto rows instead of growing the width, and the legend of the hue (bound or
aggregation) is drawn once, below the panels, instead of on top of the bars of panel (a).
"""

from __future__ import annotations

import math

MAX_WIDTH = 10.0  # inches


def panel_grid(num_panels: int, columns: int, panel_height: float = 3.0):
    """A figure with ``num_panels`` axes on rows of at most ``columns``; unused axes hidden.
    Returns ``(fig, axes)`` with ``axes`` flat, one per panel."""
    import matplotlib.pyplot as plt

    columns = min(columns, num_panels)
    rows = math.ceil(num_panels / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(MAX_WIDTH, panel_height * rows), squeeze=False)
    flat = list(axes.flat)
    for ax in flat[num_panels:]:
        ax.set_visible(False)
    return fig, flat[:num_panels]


def bound_order(labels) -> list[str]:
    """The bounds' labels in ``BOUND_LABELS`` order, only those in ``labels`` (the bounds drawn),
    so that a legend lists no bound without bars and each bound keeps its colour."""
    from mmvae_nb.objectives.bounds import BOUND_LABELS

    present = set(labels)
    return [label for label in BOUND_LABELS.values() if label in present]


def finish(fig, axes, title: str, legend_title: str | None = None, rotate_labels: bool = True):
    """One legend below the panels (taken from the first axis that has one, removed from every
    axis), the title above, x tick labels rotated (for category names; ``rotate_labels=False``
    for numeric axes), and a tight layout that keeps both."""
    handles, labels = [], []
    for ax in axes:
        legend = ax.get_legend()
        if legend is not None:
            if not handles:
                handles, labels = ax.get_legend_handles_labels()
            legend.remove()
        for label in ax.get_xticklabels() if rotate_labels else ():
            label.set_rotation(30)
            label.set_horizontalalignment("right")
    if handles:
        fig.legend(
            handles,
            labels,
            loc="lower center",
            ncol=min(len(labels), 4),
            frameon=False,
            title=legend_title,
            bbox_to_anchor=(0.5, 0.0),
        )
    fig.suptitle(title)
    legend_rows = math.ceil(len(labels) / 4) if handles else 0
    bottom = 0.35 * legend_rows / fig.get_figheight()  # ~0.35 inch per legend row
    fig.tight_layout(rect=(0, bottom, 1, 1))
    return fig
