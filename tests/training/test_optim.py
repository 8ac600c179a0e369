"""The optimisation settings both trainers take (``training.optim.OptimConfig``) and the
lifecycle around their loops (``training.lifecycle``)."""

import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.training.cache import run_path
from mmvae_nb.training.checkpoints import checkpoint_dir
from mmvae_nb.training.lifecycle import Lifecycle
from mmvae_nb.training.optim import SCHEDULES, OptimConfig
from mmvae_nb.training.step import cosine_schedule, make_optimizer
from mmvae_nb.training.trainer import TrainConfig, train_replicas


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        (dict(learning_rate=0.0), "learning_rate"),
        (dict(schedule="linear"), "schedule"),
        (dict(schedule="cosine", final_learning_rate=-1e-4), "final_learning_rate"),
        (dict(schedule="cosine", warmup_steps=-1), "warmup_steps"),
        (dict(kl_warmup_steps=-1), "kl_warmup_steps"),
        (dict(final_learning_rate=1e-4), "final_learning_rate"),  # a constant rate has none
        (dict(warmup_steps=10), "warmup_steps"),
        (dict(clip_value=0.0), "clip_value"),
        (dict(clip_on="sum"), "clip_on"),
    ],
)
def test_bad_settings_are_refused_naming_the_field(settings, field):
    with pytest.raises(ValueError, match=field):
        OptimConfig(**settings)


def test_the_schedules_are_a_constant_rate_and_the_cosine_decay():
    assert set(SCHEDULES) == {"constant", "cosine"}
    assert OptimConfig(learning_rate=3e-3).learning_rates(100) == 3e-3
    cosine = OptimConfig(5e-4, "cosine", final_learning_rate=1e-4, warmup_steps=5)
    reference = cosine_schedule(5e-4, 1e-4, 100, 5)
    rates = cosine.learning_rates(100)
    assert [float(rates(t)) for t in range(100)] == [float(reference(t)) for t in range(100)]
    flat = OptimConfig(5e-4, "cosine").learning_rates(100)  # no final rate: no decay
    np.testing.assert_allclose([flat(t) for t in (0, 50, 99)], 5e-4, rtol=1e-7)


def test_the_optimiser_is_make_optimizer_with_these_settings():
    clipping = dict(clip_on="batch_sum", zero_nan_gradients=True)
    settings = OptimConfig(1e-2, clip_value=0.5, **clipping)
    ours = settings.optimizer(8, settings.learning_rates(10))
    reference = make_optimizer(0.5, 1e-2, batch_size=8, **clipping)
    params = {"w": jnp.asarray([1.0, -2.0, 3.0])}
    grads = {"w": jnp.asarray([0.01, jnp.nan, -1.0])}
    a, _ = ours.update(grads, ours.init(params), params)
    b, _ = reference.update(grads, reference.init(params), params)
    np.testing.assert_array_equal(a["w"], b["w"])


def test_the_replica_trainer_refuses_a_schedule_and_kl_warm_up_before_training():
    xs = [np.zeros((1, 20, d), np.float32) for d in (3, 4)]
    present = np.ones((1, 20, 2), bool)

    def make(key, _):
        return mlp_vae((3, 4), 2, "PoE", rngs=nnx.Rngs(key), encoder_hidden=(4,))

    for optim in (OptimConfig(schedule="cosine"), OptimConfig(kl_warmup_steps=5)):
        config = TrainConfig(epochs=1, batch_size=10, optim=optim)
        with pytest.raises(ValueError, match="constant learning rate without KL warm-up"):
            train_replicas(make, xs, present, config, progress=False)


def test_the_lifecycle_resumes_with_the_seconds_spent_and_cleans_up(tmp_path):
    entry = run_path(tmp_path, "k", "digest")
    initial = {"x": np.zeros(3), "epochs_done": np.asarray(0)}
    run = Lifecycle(entry, tmp_path, checkpoint_seconds=0.0)
    assert run.resume(initial)["seconds"] == 0.0 and run.due()
    run.save_progress({"x": np.ones(3), "epochs_done": np.asarray(2)})
    resumed = Lifecycle(entry, tmp_path, checkpoint_seconds=0.0)
    state = resumed.resume(initial)
    np.testing.assert_array_equal(state["x"], np.ones(3))
    assert int(state["epochs_done"]) == 2 and resumed.seconds >= float(state["seconds"]) > 0
    fresh = Lifecycle(entry, tmp_path, checkpoint_seconds=0.0, restart=True)
    assert int(fresh.resume(initial)["epochs_done"]) == 0
    assert not Lifecycle(entry, tmp_path, checkpoint_seconds=None).due()  # never checkpoints
    assert resumed.finish([], []) == [] and not checkpoint_dir(entry).exists()
