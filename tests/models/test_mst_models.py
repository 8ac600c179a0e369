"""MNIST-SVHN-Text models (Section 5.3): every row trains, private latents are equivariant,
the streaming trainer learns and caches."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from mmvae_nb.data.mnist_svhn_text import MODALITY_DIMS
from mmvae_nb.experiments.mnist_svhn_text.experiment import (
    PRIVATE_ROWS,
    SHARED_ROWS,
    make_mst_model,
)
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.objectives.bounds import get_bound
from mmvae_nb.training.optim import OptimConfig
from mmvae_nb.training.streaming import train_streaming
from mmvae_nb.training.trainer import TrainConfig

# every aggregator (the shared ones, and the permutation-equivariant ones of the private rows),
# each with one bound, both bounds covered; PoE+ / MoE+ change the encoders, not the aggregator
# (their structure: test_mst_nets); notebook 04's smoke test trains PoE and private SumPooling
CONFIGS = [
    ("PoE", False, "mixture"),
    ("MoE", False, "mixture"),
    ("SumPooling", False, "ours"),
    ("SelfAttention", False, "mixture"),
    ("PoE+", True, "ours"),
    ("SumPooling", True, "mixture"),
    ("SelfAttention", True, "ours"),
]
assert {(r, p) for r, p, _ in CONFIGS} == {(r, False) for r in SHARED_ROWS if "+" not in r} | {
    (r, True) for r in PRIVATE_ROWS
}


@pytest.mark.parametrize("row,private,bound", CONFIGS, ids=[f"{r}-{p}-{b}" for r, p, b in CONFIGS])
def test_a_few_adam_steps_decrease_the_loss_of_every_aggregator(row, private, bound):
    """Four jitted Adam steps (lr 1e-4) on one batch of 8 triples, same subsets and noise each
    step (one compilation, ~8 s at the test processes' XLA optimisation level; run op by op,
    the first step alone took 60 s)."""
    model = make_mst_model(row, rngs=nnx.Rngs(0), private=private)
    optimizer = nnx.Optimizer(model, optax.adam(1e-4), wrt=nnx.Param)
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.random((8, d)), jnp.float32) for d in MODALITY_DIMS]
    xs[2] = jnp.asarray(np.eye(71)[rng.integers(0, 71, (8, 8))].reshape(8, -1), jnp.float32)
    present, key = jnp.ones((8, 3), bool), jax.random.key(0)

    @nnx.jit
    def step(model, optimizer):
        def loss(model):
            return -jnp.mean(get_bound(bound)(model, xs, present, key))

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    losses = [float(step(model, optimizer)) for _ in range(5)]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0], losses


@pytest.mark.parametrize("row", PRIVATE_ROWS)
def test_private_mst_encoders_permute_their_private_outputs_with_the_modalities(row):
    """log q(z', z~_perm | h_perm) == log q(z', z~ | h): the MST private-latent aggregators
    (D_E = 128, or 2 (D' + D~) for PoE+) are permutation-equivariant (App. F)."""
    model = make_mst_model(row, rngs=nnx.Rngs(0), private=True)
    rng = np.random.default_rng(1)
    width = 40 if row == "PoE+" else 128
    h = jnp.asarray(rng.normal(size=(4, 3, width)), jnp.float32)
    mask = jnp.asarray([[1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 1, 0]], bool)
    perm = np.array([2, 0, 1])
    z = rng.normal(size=(4, 1, 40)).astype(np.float32)
    z_private = z[..., 10:].reshape(4, 1, 3, 10)
    z_perm = np.concatenate([z[..., :10], z_private[:, :, perm].reshape(4, 1, 30)], axis=-1)
    agg = model.aggregator
    log_q = agg.pool(agg.tokens(h), mask).log_prob(jnp.asarray(z))
    log_q_perm = agg.pool(agg.tokens(h[:, perm]), mask[:, perm]).log_prob(jnp.asarray(z_perm))
    np.testing.assert_allclose(log_q, log_q_perm, rtol=1e-4, atol=1e-3)


class _Pairs:
    """A tiny streamed data set: two linear-Gaussian modalities, 200 examples."""

    def __init__(self):
        rng = np.random.default_rng(0)
        z = rng.normal(size=(200, 2))
        self.xs = [z @ rng.normal(size=(2, d)) + 0.1 * rng.normal(size=(200, d)) for d in (3, 4)]

    def __len__(self):
        return 200

    def batches(self, batch_size, rng):
        order = rng.permutation(200)
        for start in range(0, 200, batch_size):
            index = order[start : start + batch_size]
            yield [x[index].astype(np.float32) for x in self.xs], None


def test_streaming_trainer_learns_caches_and_checks_its_arguments(tmp_path):
    def make(key):
        return mlp_vae([3, 4], 2, "PoE", rngs=nnx.Rngs(key), noise_std=0.1)

    cosine = OptimConfig(learning_rate=1e-2, schedule="cosine", final_learning_rate=1e-3)
    config = TrainConfig(epochs=30, batch_size=64, optim=cosine)
    run = train_streaming(
        make,
        _Pairs(),
        config,
        cache_key="k",
        cache_dir=tmp_path,
        progress=False,
    )
    history = run.loss_history[0]
    assert history.shape == (30,) and history[-1] < 0.5 * history[0]
    again = train_streaming(make, _Pairs(), config, cache_key="k", cache_dir=tmp_path)
    assert again.from_cache
    for a, b in zip(
        jax.tree.leaves(nnx.state(run.model(0))), jax.tree.leaves(nnx.state(again.model(0)))
    ):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="single float"):
        train_streaming(make, _Pairs(), TrainConfig(beta=(1.0, 0.1)))
    with pytest.raises(ValueError, match="exceeds the 200 examples"):
        train_streaming(make, _Pairs(), TrainConfig(batch_size=500))
