"""A replica whose loss becomes non-finite is a result: recorded with its epoch, not evaluated,
left out of the table cells (which count the others) and listed; the other replicas and the
rest of the grid go on."""

import jax
import numpy as np
import pandas as pd
import pytest
from flax import nnx

from mmvae_nb.experiments.base import Run, diverged_runs
from mmvae_nb.experiments.linear.experiment import TABLES, LinearExperiment
from mmvae_nb.experiments.table_specs import summarise
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.reporting.layout import _ours
from mmvae_nb.reporting.tables import output_dir, publish_divergences
from mmvae_nb.training.trainer import TrainConfig, train_replicas

CONFIG = TrainConfig(epochs=3, batch_size=10, epochs_per_call=1)


def _make(key, _):
    return mlp_vae((3, 4), 2, "SumPooling", rngs=nnx.Rngs(key), encoder_hidden=(8,))


def _data(blow_up_replica=None):
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(2, 30, d)).astype(np.float32) for d in (3, 4)]
    if blow_up_replica is not None:  # finite inputs whose squared errors overflow float32
        xs[0][blow_up_replica] *= np.float32(1e30)
    return xs, np.ones((2, 30, 2), bool)


@pytest.fixture
def float32():
    """Training's own precision (the suite runs with x64, where float32 data promoted to
    float64 would not overflow)."""
    jax.config.update("jax_enable_x64", False)
    yield
    jax.config.update("jax_enable_x64", True)


def test_a_diverging_replica_is_recorded_and_the_others_train_on(tmp_path, float32):
    with pytest.warns(UserWarning, match="replica 1 diverged .* from epoch 0"):
        trained = train_replicas(
            _make, *_data(1), CONFIG, cache_key="k", cache_dir=tmp_path, progress=False
        )
    assert trained.diverged_epoch(1) == 0 and trained.diverged_epoch(0) is None
    healthy = train_replicas(_make, *_data(), CONFIG, progress=False)
    np.testing.assert_array_equal(trained.loss_history[0], healthy.loss_history[0])
    for a, b in zip(jax.tree.leaves(trained.state), jax.tree.leaves(healthy.state), strict=True):
        np.testing.assert_array_equal(a[0], b[0])
    with pytest.warns(UserWarning, match="replica 1 diverged"):  # a result: cached, the same
        again = train_replicas(
            _make, *_data(1), CONFIG, cache_key="k", cache_dir=tmp_path, progress=False
        )
    assert again.from_cache and again.diverged_epoch(1) == 0


def test_a_diverged_replica_is_listed_not_evaluated_and_left_out_of_the_cells(tmp_path):
    experiment = LinearExperiment(
        profile="smoke",
        overrides=dict(num_datasets=2, n_train=40, n_test=20, epochs=2, batch_size=20),
    )
    run = Run("PoE", "ours")
    trained = experiment.train(run, progress=False)
    history = trained.loss_history.copy()
    history[1, 1:] = np.nan  # as if data set 1 had diverged in its second epoch
    frame = experiment.evaluate(trained._replace(loss_history=history), run)
    assert frame.loc[1, "diverged_epoch"] == 1 and np.isnan(frame.loc[1, "llh_gap"])
    assert np.isnan(frame.loc[0, "diverged_epoch"]) and np.isfinite(frame.loc[0, "llh_gap"])
    table = summarise(frame, TABLES["table01_linear_dense"])
    assert set(table["n_runs"]) == {1}
    listed = diverged_runs(frame)
    assert listed[["aggregation", "bound", "replica", "diverged_epoch"]].values.tolist() == [
        ["PoE", "ours", 1, 1]
    ]
    assert diverged_runs(frame.drop(index=1).drop(columns="diverged_epoch")).empty
    assert _ours(float("nan"), float("nan"), 3, runs=0) == "no finite run"


def test_divergences_are_written_and_a_stale_list_removed(tmp_path, monkeypatch):
    monkeypatch.setattr("mmvae_nb.reporting.tables.project_root", lambda: tmp_path)
    frame = pd.DataFrame(
        {
            "aggregation": ["PoE", "MoE"],
            "bound": ["ours", "ours"],
            "beta": [1.0, 1.0],
            "diverged_epoch": [np.nan, 7.0],
        }
    )
    listed = publish_divergences(frame, "linear", "smoke")
    path = output_dir("tables", "smoke") / "linear_diverged.csv"
    assert len(listed) == 1 and path.read_text().splitlines()[1] == "MoE,ours,1,7"
    publish_divergences(frame.iloc[:1], "linear", "smoke")  # none diverged this time
    assert not path.exists()


def test_a_diverging_streaming_training_keeps_its_history(tmp_path, float32):
    from mmvae_nb.training.streaming import train_streaming

    class Blown:
        def __len__(self):
            return 40

        def batches(self, batch_size, rng):
            x = rng.normal(size=(40, 3)).astype(np.float32) * np.float32(1e30)
            for start in range(0, 40, batch_size):
                yield [x[start : start + batch_size], np.zeros((batch_size, 4), np.float32)], None

    def make(key):
        return mlp_vae((3, 4), 2, "PoE", rngs=nnx.Rngs(key), encoder_hidden=(8,))

    with pytest.warns(UserWarning, match="replica 0 diverged .* from epoch 0"):
        trained = train_streaming(make, Blown(), TrainConfig(epochs=3, batch_size=8))
    assert trained.loss_history.shape == (1, 3) and trained.diverged_epoch(0) == 0
