"""The shared loss / Adam step of both trainers, and the streaming trainer's cosine schedule."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.objectives.bounds import get_bound
from mmvae_nb.training import optim, streaming
from mmvae_nb.training.optim import OptimConfig
from mmvae_nb.training.step import (
    cosine_schedule,
    loss_fn,
    make_optimizer,
    train_step,
)
from mmvae_nb.training.trainer import TrainConfig


def _tiny_model(key=0):
    return mlp_vae((3, 4), 2, "PoE", rngs=nnx.Rngs(key), encoder_hidden=(4,))


def _batch(n=6):
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.normal(size=(n, d)), jnp.float32) for d in (3, 4)]
    present = jnp.asarray([[True, True], [True, False], [False, True]] * (n // 3))
    return xs, present


@pytest.mark.parametrize("bound", ["ours", "mixture"])
def test_loss_is_minus_the_mean_bound(bound):
    model = _tiny_model()
    xs, present = _batch()
    key, beta = jax.random.key(3), jnp.float32(0.5)
    graphdef, params, consts = nnx.split(model, nnx.Param, ...)
    expected = -np.mean(np.asarray(get_bound(bound)(model, xs, present, key, beta)))
    loss = loss_fn(params, consts, graphdef, bound, xs, present, key, beta)
    np.testing.assert_allclose(loss, expected, rtol=1e-6)


def test_train_step_is_the_same_jitted_or_not_and_returns_the_pre_update_loss():
    graphdef, params, consts = nnx.split(_tiny_model(), nnx.Param, ...)
    xs, present = _batch()
    key, beta = jax.random.key(1), jnp.float32(1.0)
    optimizer = make_optimizer(100.0, 1e-2)
    opt_state = optimizer.init(params)
    static = dict(graphdef=graphdef, bound="ours", optimizer=optimizer)
    eager = train_step(params, opt_state, consts, xs, present, key, beta, **static)
    jitted = jax.jit(lambda *a: train_step(*a, **static))(
        params, opt_state, consts, xs, present, key, beta
    )
    for a, b in zip(jax.tree.leaves(eager), jax.tree.leaves(jitted)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    new_params, _, loss = eager
    np.testing.assert_allclose(
        loss, loss_fn(params, consts, graphdef, "ours", xs, present, key, beta), rtol=1e-6
    )
    assert np.isfinite(loss)
    moved = [
        not np.array_equal(a, b)
        for a, b in zip(jax.tree.leaves(params), jax.tree.leaves(new_params))
    ]
    assert all(moved)  # Adam moves every parameter by about the learning rate
    assert jax.tree.structure(new_params) == jax.tree.structure(params)


class _Counted:
    """50 pairs, batches of any size in order; counts the full batches it hands out."""

    def __init__(self, n=50):
        rng = np.random.default_rng(0)
        self.n, self.full_batches = n, 0
        self.xs = [rng.normal(size=(n, d)).astype(np.float32) for d in (3, 4)]

    def __len__(self):
        return self.n

    def batches(self, batch_size, rng):
        order = rng.permutation(self.n)
        for start in range(0, self.n, batch_size):
            rows = order[start : start + batch_size]
            self.full_batches += len(rows) == batch_size
            yield [x[rows] for x in self.xs], None


def test_streaming_cosine_schedule_ends_at_the_final_rate_when_batches_do_not_divide_n(
    monkeypatch, tmp_path
):
    """N = 50, B = 16: 3 steps per epoch are taken (the batch of 2 is skipped); the schedule must
    span exactly those steps, so the last step uses ``final_learning_rate`` (it spanned
    ceil(50 / 16) = 4 per epoch before, ending at lr ~ 2.1e-3 instead of 1e-3)."""
    built = []
    original = optim.SCHEDULES["cosine"]

    def recording(settings, total_steps):
        built.append((settings.learning_rate, settings.final_learning_rate, total_steps))
        assert settings.warmup_steps == 0
        return original(settings, total_steps)

    monkeypatch.setitem(optim.SCHEDULES, "cosine", recording)
    data = _Counted()
    cosine = OptimConfig(learning_rate=5e-3, schedule="cosine", final_learning_rate=1e-3)
    config = TrainConfig(epochs=2, batch_size=16, optim=cosine)
    run = streaming.train_streaming(
        lambda k: _tiny_model(k),
        data,
        config,
        progress=False,
        cache_dir=tmp_path,
    )
    assert run.loss_history.shape == (1, 2) and np.all(np.isfinite(run.loss_history))
    assert data.full_batches == 2 * 3 == config.epochs * streaming.steps_per_epoch(50, 16)
    # built by the trainer, and again by the compiled step when it is traced: one schedule
    [(initial, final, total_steps)] = set(built)
    assert total_steps == data.full_batches
    schedule = cosine_schedule(initial, final, total_steps)
    rates = np.asarray([schedule(t) for t in range(data.full_batches)])
    # step t uses schedule(t): the first step the initial rate, the last (t = 5) the final one
    np.testing.assert_allclose(rates[0], 5e-3, rtol=1e-6)
    np.testing.assert_allclose(rates[-1], 1e-3, rtol=1e-6)
    assert np.all(np.diff(rates) < 0)  # decaying at every step taken


def test_warmup_schedule_rises_then_decays_and_zero_warmup_is_the_plain_decay():
    """``warmup_steps`` raises the rate linearly from 0 to the peak, then decays it to the final
    rate at the last step; without warm-up the schedule is the plain cosine decay."""
    peak, final, total, warmup = 1e-3, 2e-4, 50, 10
    schedule = cosine_schedule(peak, final, total, warmup)
    rates = np.asarray([schedule(t) for t in range(total)])
    np.testing.assert_allclose(rates[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(rates[warmup], peak, rtol=1e-6)
    np.testing.assert_allclose(rates[-1], final, rtol=1e-6)
    assert np.all(np.diff(rates[: warmup + 1]) > 0) and np.all(np.diff(rates[warmup:]) < 0)
    np.testing.assert_allclose(rates[1:warmup], peak * np.arange(1, warmup) / warmup, rtol=1e-6)
    plain = cosine_schedule(peak, final, total)
    assert [float(cosine_schedule(peak, final, total, 0)(t)) for t in range(total)] == [
        float(plain(t)) for t in range(total)
    ]
    with pytest.raises(ValueError, match="warmup_steps"):
        cosine_schedule(peak, final, total, total - 1)


def _official_updates(params, summed_loss, steps, clip_value, learning_rate):
    """The official code's optimiser on the batch-summed loss (gaussian_simulations.py:263)."""
    official = optax.chain(optax.zero_nans(), optax.clip(clip_value), optax.adam(learning_rate))
    state = official.init(params)
    for _ in range(steps):
        updates, state = official.update(jax.grad(summed_loss)(params), state, params)
        params = optax.apply_updates(params, updates)
    return params


def test_batch_sum_clipping_is_the_official_optimiser_on_the_summed_loss():
    with jax.enable_x64(True):
        rng = np.random.default_rng(0)
        x = jnp.asarray(rng.normal(size=(40, 3)))
        params = {"w": jnp.asarray(rng.normal(size=(3,))), "b": jnp.asarray(0.5)}

        def per_example(p):
            return (x @ p["w"] + p["b"] - 7.0) ** 2

        mean_loss = lambda p: jnp.mean(per_example(p))  # noqa: E731 (what loss_fn returns)
        summed_loss = lambda p: jnp.sum(per_example(p))  # noqa: E731 (the official loss)
        grad_sum = jax.grad(summed_loss)(params)
        assert np.abs(np.asarray(grad_sum["w"])).max() > 100.0  # clip(100) binds on the sum...
        assert np.abs(np.asarray(jax.grad(mean_loss)(params)["w"])).max() < 100.0  # not mean
        expected = _official_updates(params, summed_loss, 5, 100.0, 1e-2)

        ours = make_optimizer(
            100.0, 1e-2, clip_on="batch_sum", batch_size=40, zero_nan_gradients=True
        )
        mine, state = params, ours.init(params)
        for _ in range(5):
            updates, state = ours.update(jax.grad(mean_loss)(mine), state, mine)
            mine = optax.apply_updates(mine, updates)
        for a, b in zip(jax.tree.leaves(mine), jax.tree.leaves(expected)):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)

        # clipping the mean's gradient at the same threshold (it never binds here) is a
        # different optimiser: Adam's first step is sign(g) x lr either way, later ones differ
        unclipped = make_optimizer(100.0, 1e-2, clip_on="batch_mean")
        other, state = params, unclipped.init(params)
        for _ in range(5):
            updates, state = unclipped.update(jax.grad(mean_loss)(other), state, other)
            other = optax.apply_updates(other, updates)
        assert not np.allclose(other["w"], expected["w"], rtol=1e-6)


def test_nan_gradients_are_zeroed_only_when_asked():
    params = {"w": jnp.ones(3)}
    grads = {"w": jnp.asarray([1.0, jnp.nan, -1.0])}
    zeroing = make_optimizer(100.0, 0.1, zero_nan_gradients=True)
    updates, _ = zeroing.update(grads, zeroing.init(params), params)
    assert np.all(np.isfinite(updates["w"])) and updates["w"][1] == 0.0
    keeping = make_optimizer(100.0, 0.1)
    updates, _ = keeping.update(grads, keeping.init(params), params)
    assert np.isnan(updates["w"][1])


def test_an_unknown_clip_reduction_is_refused_before_training():
    with pytest.raises(ValueError, match="unknown clip_on 'sum'.*batch_sum"):
        OptimConfig(clip_on="sum")
    with pytest.raises(ValueError, match="unknown clip_on"):
        make_optimizer(1.0, clip_on="per_example")
