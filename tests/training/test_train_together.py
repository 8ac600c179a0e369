"""Same-shape trainings as one program (issue 41): collected instead of run, trained together
as one vmapped program, each equal to its separate training to float rounding and cached under
the entry its own call looks up."""

import dataclasses

import jax
import numpy as np
import pytest
from test_train import TINY

from mmvae_nb.experiments.linear.experiment import LinearExperiment
from mmvae_nb.training.collection import collected_training
from mmvae_nb.training.optim import OptimConfig
from mmvae_nb.training.trainer import TrainConfig, train_replicas, train_together


def _call(sparse: bool, beta: float, tmp_path, aggregation="SumPooling", **kwargs):
    """The linear section's training of one configuration on dense or sparse data (a seed of
    its own per setting, so that the members differ in data, beta and initialisation)."""
    overrides = TINY | {"epochs": 4}
    seed = int(sparse)
    section = LinearExperiment(profile="smoke", sparse=sparse, seed=seed, overrides=overrides)
    # two jitted calls of two epochs each: a checkpoint can fall between them
    config = dataclasses.replace(section.train_config("ours", beta), epochs_per_call=2)

    def train(**more):
        return train_replicas(
            section.model_factory(aggregation),
            *section.stacked("train"),
            config,
            replica_args=section.replica_args(),
            cache_key=f"{aggregation}/{sparse}/{beta}",
            cache_dir=tmp_path,
            progress=False,
            **kwargs | more,
        )

    return train


def _assert_same_models(a, b, rtol):
    np.testing.assert_allclose(a.loss_history, b.loss_history, rtol=rtol)
    for x, y in zip(jax.tree.leaves(a.state), jax.tree.leaves(b.state), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=1e-6)


def test_trainings_together_equal_their_separate_trainings(tmp_path):
    calls = [_call(False, 1.0, tmp_path), _call(True, 0.5, tmp_path)]
    trainings = [collected_training(call) for call in calls]
    assert not any((tmp_path / "results").glob("*.npz"))  # collected, not trained
    assert trainings[0].program_key == trainings[1].program_key
    together = train_together(trainings, progress=False)
    # the separate trainings, each alone (forced: the entries now exist)
    alone = [call(force_retrain=True) for call in calls]
    for grouped, single in zip(together, alone, strict=True):
        assert grouped.num_replicas == single.num_replicas == 2
        _assert_same_models(grouped, single, rtol=2e-5)
    # each member was cached under its own call's entry: a later call loads it
    for call, single in zip(calls, alone, strict=True):
        loaded = call()
        assert loaded.from_cache
        np.testing.assert_array_equal(loaded.loss_history, single.loss_history)


def test_a_group_resumes_from_its_checkpoint(tmp_path, monkeypatch):
    """A group killed between chunks resumes from its own checkpoint to the same result."""
    from mmvae_nb.training import trainer

    calls = [_call(False, 1.0, tmp_path), _call(True, 0.5, tmp_path)]
    trainings = [collected_training(call) for call in calls]
    reference = train_together(trainings, progress=False, checkpoint_seconds=None)

    original, calls_made = trainer._train_epochs, []

    def dies_after_one_chunk(*args, **kwargs):
        if calls_made:
            raise KeyboardInterrupt
        calls_made.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(trainer, "_train_epochs", dies_after_one_chunk)
    with pytest.raises(KeyboardInterrupt):
        train_together(trainings, progress=False, checkpoint_seconds=0.0, force_retrain=True)
    monkeypatch.setattr(trainer, "_train_epochs", original)
    assert list((tmp_path / "checkpoints").glob("group-*"))
    resumed = train_together(trainings, progress=False, checkpoint_seconds=0.0)
    for a, b in zip(resumed, reference, strict=True):
        _assert_same_models(a, b, rtol=1e-6)
    assert not list((tmp_path / "checkpoints").glob("group-*"))  # removed once cached


def test_different_programs_are_refused(tmp_path):
    one = collected_training(_call(False, 1.0, tmp_path))
    other = collected_training(_call(False, 1.0, tmp_path, aggregation="PoE"))
    with pytest.raises(ValueError, match="cannot be one program"):
        train_together([one, other], progress=False)


def test_collecting_outside_a_training_is_an_error():
    with pytest.raises(RuntimeError, match="without offering"):
        collected_training(lambda: None)


def test_streaming_beta_rows_together_equal_their_separate_trainings(tmp_path):
    """MNIST-SVHN-Text's beta rows of one configuration (same seed and data: the same batches,
    text and keys) as one program: each equal to its own training to float rounding, cached
    under its own entry, with KL warm-up (per-member weights)."""
    from test_device_data import _mst, _tiny

    from mmvae_nb.training.streaming import train_streaming
    from mmvae_nb.training.streaming_together import train_streaming_together

    data = _mst()

    def call(beta):
        optim = OptimConfig(schedule="cosine", final_learning_rate=5e-4, kl_warmup_steps=5)
        config = TrainConfig(bound="ours", beta=beta, epochs=3, batch_size=16, seed=4, optim=optim)
        return lambda **more: train_streaming(
            _tiny,
            data,
            config,
            cache_key=f"beta={beta}",
            cache_dir=tmp_path,
            progress=False,
            **more,
        )

    calls = [call(1.0), call(0.25)]
    trainings = [collected_training(c) for c in calls]
    assert len({t.program_key for t in trainings}) == 1
    together = train_streaming_together(trainings, checkpoint_seconds=None)
    alone = [c(force_retrain=True, data_on_device=True) for c in calls]
    for grouped, single in zip(together, alone, strict=True):
        _assert_same_models(grouped, single, rtol=2e-5)
    assert not np.allclose(alone[0].loss_history, alone[1].loss_history)  # betas matter
    assert all(c().from_cache for c in calls)
