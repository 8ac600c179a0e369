"""Figure specs select the runs a figure draws and write the numbers behind it."""

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pandas as pd
import pytest

from mmvae_nb.experiments.figure_specs import FigureSpec, draw, figure_data
from mmvae_nb.experiments.identifiable import figures as identifiable_figures
from mmvae_nb.experiments.linear import figures as linear_figures
from mmvae_nb.experiments.mnist_svhn_text import figures as mnist_svhn_text_figures


def _wide_runs():
    """Per-run results with metrics as columns (the linear sections' shape): two data sets,
    PoE at beta 1 only, SumPooling at betas 0.1 and 1."""
    rows = []
    for dataset in (0, 1):
        for aggregation, betas in (("PoE", (1.0,)), ("SumPooling", (0.1, 1.0))):
            for beta in betas:
                rows.append(
                    dict(
                        aggregation=aggregation,
                        bound="ours",
                        beta=beta,
                        dataset=dataset,
                        rate=10.0 * beta + dataset,
                        distortion=-1.0 - dataset,
                    )
                )
    return pd.DataFrame(rows)


def _never_called(rows, title):
    raise AssertionError("no rows: nothing to draw")


def test_figure_data_is_mean_std_and_count_per_bar():
    spec = FigureSpec("figXX", "Figure X", _never_called, ("rate", "distortion"))
    data = figure_data(_wide_runs(), spec)
    poe_rate = data[(data.aggregation == "PoE") & (data.metric == "rate")].iloc[0]
    assert poe_rate["mean"] == pytest.approx(10.5)
    assert poe_rate["std"] == pytest.approx(np.std([10.0, 11.0], ddof=1))
    assert poe_rate["n_runs"] == 2
    assert set(data.metric) == {"rate", "distortion"}
    assert len(data) == 2 * 3  # two metrics x (PoE at 1, SumPooling at 0.1 and 1)
    assert (data.figure == "figXX").all()


def test_beta_sweep_keeps_only_aggregations_trained_at_several_betas():
    spec = FigureSpec("figXX", "Figure X", _never_called, ("rate",), beta_sweep=True)
    assert set(spec.select(_wide_runs()).aggregation) == {"SumPooling"}
    assert set(figure_data(_wide_runs(), spec).beta) == {0.1, 1.0}


def test_where_filters_and_an_empty_selection_draws_nothing():
    spec = FigureSpec("figXX", "Figure X", _never_called, ("rate",), where={"bound": "mixture"})
    assert draw(_wide_runs(), spec) is None
    assert figure_data(_wide_runs(), spec).empty


def test_publish_figure_writes_picture_and_data(tmp_path, monkeypatch):
    from mmvae_nb.reporting.figures import publish_figure

    monkeypatch.setenv("MMVAE_NB_ROOT", str(tmp_path))
    drawn = []

    def plot(rows, title):
        import matplotlib.pyplot as plt

        drawn.append((len(rows), title))
        fig, ax = plt.subplots()
        ax.bar(rows.aggregation, rows.rate)
        return fig

    spec = FigureSpec("figXX", "Figure X", plot, ("rate",), where={"beta": 1.0})
    publish_figure(_wide_runs(), spec, "smoke", " (smoke)")
    assert drawn == [(4, "Figure X (smoke)")]
    folder = tmp_path / "figures" / "smoke"
    assert {p.name for p in folder.iterdir()} == {"figXX.png", "figXX.pdf", "figXX.csv"}
    written = pd.read_csv(folder / "figXX.csv")
    assert list(written.aggregation) == ["PoE", "SumPooling"]


@pytest.mark.parametrize(
    "module",
    [linear_figures, identifiable_figures, mnist_svhn_text_figures],
    ids=lambda m: m.__name__,
)
def test_registries_are_keyed_by_their_file_names(module):
    assert module.FIGURES
    for name, spec in module.FIGURES.items():
        assert spec.name == name and spec.metrics and spec.title
