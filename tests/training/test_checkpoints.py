"""A training interrupted after a checkpoint resumes from it and ends where an uninterrupted
training ends, bit for bit; a checkpoint that does not fit is reported and ignored."""

import jax
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.training import trainer
from mmvae_nb.training.optim import OptimConfig
from mmvae_nb.training.trainer import TrainConfig, train_replicas

CONFIG = TrainConfig(epochs=6, batch_size=10, epochs_per_call=1)


def _make(key, _):
    return mlp_vae((3, 4), 2, "SelfAttention", rngs=nnx.Rngs(key), encoder_hidden=(8,))


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(2, 30, d)).astype(np.float32) for d in (3, 4)]
    return xs, rng.random((2, 30, 2)) < 0.8


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    cache = tmp_path_factory.mktemp("uninterrupted")
    return train_replicas(
        _make,
        *data,
        CONFIG,
        cache_key="k",
        cache_dir=cache,
        progress=False,
        checkpoint_seconds=None,
    )


def _train(data, cache, **kwargs):
    return train_replicas(
        _make, *data, CONFIG, cache_key="k", cache_dir=cache, progress=False, **kwargs
    )


class _Calls:
    """Counts the jitted chunk calls; raises KeyboardInterrupt (a kill) at call ``kill_at``."""

    def __init__(self, kill_at=None):
        self.count, self.kill_at, self.original = 0, kill_at, trainer._train_epochs

    def __call__(self, *args, **kwargs):
        self.count += 1
        if self.count == self.kill_at:
            raise KeyboardInterrupt
        return self.original(*args, **kwargs)


def _same(a, b):
    np.testing.assert_array_equal(a.loss_history, b.loss_history)
    for x, y in zip(jax.tree.leaves(a.state), jax.tree.leaves(b.state), strict=True):
        np.testing.assert_array_equal(x, y)


def test_a_killed_training_resumes_from_its_checkpoint(data, uninterrupted, tmp_path, monkeypatch):
    killed = _Calls(kill_at=4)  # 3 of 6 epochs done and checkpointed when the kill comes
    monkeypatch.setattr(trainer, "_train_epochs", killed)
    with pytest.raises(KeyboardInterrupt):
        _train(data, tmp_path, checkpoint_seconds=0)
    assert (tmp_path / "checkpoints").exists()
    resumed = _Calls()
    monkeypatch.setattr(trainer, "_train_epochs", resumed)
    finished = _train(data, tmp_path, checkpoint_seconds=0)
    assert resumed.count == 3  # the remaining epochs only
    _same(finished, uninterrupted)
    assert not list((tmp_path / "checkpoints").iterdir())  # removed once the run is cached
    assert _train(data, tmp_path).from_cache


def test_a_checkpoint_that_does_not_fit_is_reported_and_ignored(
    data, uninterrupted, tmp_path, monkeypatch
):
    monkeypatch.setattr(trainer, "_train_epochs", _Calls(kill_at=3))
    with pytest.raises(KeyboardInterrupt):
        _train(data, tmp_path, checkpoint_seconds=0)
    (checkpoint,) = (tmp_path / "checkpoints").iterdir()
    for item in checkpoint.rglob("*"):
        if item.is_file():
            item.write_bytes(b"not a checkpoint")
    monkeypatch.setattr(trainer, "_train_epochs", _Calls())
    with pytest.warns(UserWarning, match="cannot be restored, training from the start"):
        finished = _train(data, tmp_path, checkpoint_seconds=0)
    _same(finished, uninterrupted)


def test_checkpointing_changes_no_number(data, uninterrupted, tmp_path):
    _same(_train(data, tmp_path, checkpoint_seconds=0), uninterrupted)
    with pytest.raises(ValueError, match="every_seconds must be >= 0"):
        _train(data, tmp_path / "other", checkpoint_seconds=-1)


class _Stream:
    """Two modalities streamed in shuffled minibatches; raises KeyboardInterrupt (a kill) when
    epoch ``kill_at`` (1-based) starts."""

    def __init__(self, kill_at=None):
        rng = np.random.default_rng(1)
        self.xs = [rng.normal(size=(40, 3)).astype(np.float32), rng.normal(size=(40, 4))]
        self.xs[1] = self.xs[1].astype(np.float32)
        self.epochs_started, self.kill_at = 0, kill_at

    def __len__(self):
        return 40

    def batches(self, batch_size, rng):
        self.epochs_started += 1
        if self.epochs_started == self.kill_at:
            raise KeyboardInterrupt
        order = rng.permutation(40)
        for start in range(0, 40, batch_size):
            rows = order[start : start + batch_size]
            yield [x[rows] for x in self.xs], None


def test_a_killed_streaming_training_resumes_at_its_last_epoch(tmp_path):
    from mmvae_nb.training.streaming import train_streaming

    def make(key):
        return mlp_vae((3, 4), 2, "PoE", rngs=nnx.Rngs(key), encoder_hidden=(8,))

    cosine = OptimConfig(learning_rate=1e-2, schedule="cosine", final_learning_rate=1e-3)
    config = TrainConfig(epochs=4, batch_size=8, optim=cosine)

    def run(data, cache, seconds):
        return train_streaming(
            make,
            data,
            config,
            cache_key="k",
            cache_dir=cache,
            progress=False,
            checkpoint_seconds=seconds,
        )

    uninterrupted = run(_Stream(), tmp_path / "whole", None)
    with pytest.raises(KeyboardInterrupt):
        run(_Stream(kill_at=3), tmp_path, 0)  # epochs 1 and 2 done and checkpointed
    resumed_data = _Stream()
    finished = run(resumed_data, tmp_path, 0)
    assert resumed_data.epochs_started == 2  # epochs 3 and 4 only
    _same(finished, uninterrupted)
    assert not list((tmp_path / "checkpoints").iterdir())


class _Selector:
    """select_on that scores epochs 3, 1, 2, 4 (so epoch 2 is selected) and keeps each epoch's
    parameters to compare with what is returned."""

    def __init__(self):
        self.values, self.params = [3.0, 1.0, 2.0, 4.0], []

    def __call__(self, model):
        self.params.append(jax.tree.map(np.asarray, nnx.state(model, nnx.Param)))
        return self.values[len(self.params) - 1]


def test_model_selection_returns_the_epoch_with_the_lowest_value_and_survives_a_kill(tmp_path):
    from mmvae_nb.training.streaming import train_streaming

    def make(key):
        return mlp_vae((3, 4), 2, "PoE", rngs=nnx.Rngs(key), encoder_hidden=(8,))

    config = TrainConfig(epochs=4, batch_size=8, optim=OptimConfig(learning_rate=1e-2))

    def run(data, cache, selector, seconds=None):
        return train_streaming(
            make,
            data,
            config,
            cache_key="k",
            cache_dir=cache,
            progress=False,
            checkpoint_seconds=seconds,
            select_on=selector,
        )

    selector = _Selector()
    trained = run(_Stream(), tmp_path / "whole", selector)
    assert trained.selection == {"epoch": 2, "values": [3.0, 1.0, 2.0, 4.0]}
    chosen = jax.tree.map(np.asarray, nnx.state(trained.model(0), nnx.Param))
    for a, b in zip(jax.tree.leaves(chosen), jax.tree.leaves(selector.params[1])):
        np.testing.assert_array_equal(a, b)
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(jax.tree.leaves(chosen), jax.tree.leaves(selector.params[3]))
    )
    cached = run(_Stream(), tmp_path / "whole", _Selector())
    assert cached.from_cache and cached.selection == trained.selection
    # killed after epoch 2 (checkpointed with its selection), resumed: the same selection
    with pytest.raises(KeyboardInterrupt):
        run(_Stream(kill_at=3), tmp_path / "killed", _Selector(), seconds=0)
    resumed_selector = _Selector()
    resumed_selector.params = [None, None]  # epochs 1-2 were scored before the kill
    resumed = run(_Stream(), tmp_path / "killed", resumed_selector, seconds=0)
    assert resumed.selection == trained.selection
    _same(resumed, trained)


def test_kl_annealing_scales_the_kl_weight_and_a_resumed_run_continues_its_schedule(tmp_path):
    from mmvae_nb.training.streaming import kl_annealing, train_streaming

    assert [kl_annealing(t, 4) for t in (0, 2, 4, 9)] == [0.0, 0.5, 1.0, 1.0]
    assert kl_annealing(0, 0) == 1.0

    def make(key):
        return mlp_vae((3, 4), 2, "PoE", rngs=nnx.Rngs(key), encoder_hidden=(8,))

    def run(beta, warmup, cache=None, data=None, seconds=None):
        optim = OptimConfig(learning_rate=1e-2, kl_warmup_steps=warmup)
        return train_streaming(
            make,
            data or _Stream(),
            TrainConfig(epochs=4, batch_size=8, beta=beta, optim=optim),
            cache_key="k" if cache else None,
            cache_dir=cache,
            progress=False,
            checkpoint_seconds=seconds,
        )

    def params(trained):
        return jax.tree.leaves(jax.tree.map(np.asarray, nnx.state(trained.model(0), nnx.Param)))

    # a warm-up much longer than the run keeps the KL weight near 0, as a tiny constant beta
    for a, b in zip(params(run(1.0, 10**9)), params(run(1e-9, 0))):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    annealed = run(1.0, 10)
    assert any(not np.allclose(a, b) for a, b in zip(params(annealed), params(run(1.0, 0))))
    with pytest.raises(KeyboardInterrupt):
        run(1.0, 10, tmp_path, _Stream(kill_at=3), seconds=0)
    _same(run(1.0, 10, tmp_path, seconds=0), annealed)
    with pytest.raises(ValueError, match="kl_warmup_steps"):
        run(1.0, -1)
