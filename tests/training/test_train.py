"""Models and training: shapes, padding equivalence, determinism, caching, clear errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.evaluation.likelihood import linear_gaussian_log_likelihood
from mmvae_nb.experiments.base import Run
from mmvae_nb.experiments.linear.experiment import LinearExperiment
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.training.trainer import TrainConfig, train_replicas

TINY = dict(
    num_datasets=2,
    n_train=40,
    n_test=20,
    latent_dim=6,
    dim_low=6,
    dim_high=8,
    epochs=3,
    batch_size=20,
    hidden_experts=8,
    hidden_pooling=8,
    hidden_private=8,
    private_latent_dim=2,
    eval_samples=2,
)


def _tiny(sparse=False, **extra):
    return LinearExperiment(profile="smoke", sparse=sparse, overrides={**TINY, **extra})


def test_padded_decoder_likelihood_equals_unpadded():
    """Zero-padding a modality and masking its features changes nothing."""
    model = mlp_vae((5,), 2, "PoE", rngs=nnx.Rngs(0), encoder_hidden=(4,))
    padded = mlp_vae((7,), 2, "PoE", rngs=nnx.Rngs(0), encoder_hidden=(4,))
    dec, pdec = model.decoders[0], padded.decoders[0]
    pdec.linear.kernel.set_value(jnp.pad(dec.linear.kernel[...], ((0, 0), (0, 2))) + 0.0)
    pdec.linear.bias.set_value(jnp.pad(dec.linear.bias[...], (0, 2)))
    pdec.feature_mask.set_value(jnp.arange(7) < 5)
    x = jnp.asarray(np.random.default_rng(0).normal(size=(3, 5)))
    z = jnp.ones((3, 1, 2))
    np.testing.assert_allclose(
        pdec.log_prob(jnp.pad(x, ((0, 0), (0, 2)), constant_values=123.0), z), dec.log_prob(x, z)
    )


def test_model_likelihood_matches_the_exact_linear_gaussian():
    """Monte-Carlo log p(x) of a random linear model = the closed form (importance sampling
    from the prior is exact in expectation; checked loosely)."""
    model = mlp_vae((3, 2), 2, "PoE", rngs=nnx.Rngs(1), encoder_hidden=(4,), noise_std=1.5)
    pairs = model.loading_matrices()
    xs = [jnp.ones((1, 3)), -jnp.ones((1, 2))]
    z = jax.random.normal(jax.random.key(0), (1, 200_000, 2))
    log_lik = model.log_likelihood(xs, z, jnp.ones((1, 2), bool))
    estimate = jax.scipy.special.logsumexp(log_lik) - np.log(200_000)
    exact = linear_gaussian_log_likelihood(
        [np.asarray(x) for x in xs],
        [np.asarray(w) for w, _ in pairs],
        [np.asarray(b) for _, b in pairs],
        1.5,
    )
    np.testing.assert_allclose(estimate, exact[0], atol=0.02)


# the linear models the notebook smoke test does not train (01_linear trains PoE, SumPooling and
# SumPooling (equivariant) with our bound), each with one bound, both bounds covered (the mixture
# bound only here); every aggregator x prior x bound takes a step in test_model_combinations.py
UNTRAINED_BY_THE_SMOKE_NOTEBOOK = [
    ("MoE", "ours"),
    ("SelfAttention", "mixture"),
    ("PoE (equivariant)", "mixture"),
    ("SelfAttention (equivariant)", "ours"),
]


@pytest.mark.parametrize(("aggregation", "bound"), UNTRAINED_BY_THE_SMOKE_NOTEBOOK)
def test_every_model_trains_and_evaluates(aggregation, bound, tmp_path):
    exp = _tiny(sparse=True, epochs=12)
    xs, present = exp.stacked("train")
    trained = train_replicas(
        exp.model_factory(aggregation),
        xs,
        present,
        exp.train_config(bound),
        replica_args=exp.replica_args(),
        progress=False,
        cache_dir=tmp_path,
    )
    assert trained.loss_history.shape == (2, 12)
    assert np.all(trained.loss_history[:, -3:].mean(1) < trained.loss_history[:, :3].mean(1))
    frame = exp.evaluate(trained, Run(aggregation, bound))
    assert np.all(np.isfinite(frame[["llh_gap", "bound_gap", "mcc"]].to_numpy(float)))


def test_same_seed_same_result_and_the_cache_is_used(tmp_path):
    exp = _tiny()

    def run(**kwargs):
        return train_replicas(
            exp.model_factory("SumPooling"),
            *exp.stacked("train"),
            exp.train_config("ours"),
            replica_args=exp.replica_args(),
            progress=False,
            cache_dir=tmp_path,
            **kwargs,
        )

    first, second = run(), run()
    np.testing.assert_array_equal(first.loss_history, second.loss_history)
    trained, loaded = run(cache_key="k"), run(cache_key="k")
    assert loaded.from_cache and not trained.from_cache
    assert loaded.train_seconds == trained.train_seconds > 0
    for a, b in zip(jax.tree.leaves(loaded.state), jax.tree.leaves(trained.state)):
        np.testing.assert_array_equal(a, b)
    assert not run(cache_key="k", force_retrain=True).from_cache


def test_bad_inputs_raise_before_training(tmp_path):
    exp = _tiny()
    xs, present = exp.stacked("train")
    make, args = exp.model_factory("PoE"), exp.replica_args()
    with pytest.raises(ValueError, match="unknown bound 'elbo'"):
        TrainConfig(bound="elbo")
    with pytest.raises(ValueError, match="NaN"):
        bad = [xs[0].at[0, 0, 0].set(jnp.nan), *xs[1:]]
        train_replicas(make, bad, present, exp.train_config("ours"), replica_args=args)
    with pytest.raises(ValueError, match="shape"):
        train_replicas(
            make, [xs[0][:, :10], *xs[1:]], present, exp.train_config("ours"), replica_args=args
        )
    with pytest.raises(ValueError, match="unknown aggregator"):
        mlp_vae((3,), 2, "Mean", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="empty"):
        mlp_vae((), 2, "PoE", rngs=nnx.Rngs(0))
    with pytest.raises(ValueError, match="unknown profile"):
        LinearExperiment(profile="fast")
    with pytest.raises(ValueError, match="unknown settings"):
        LinearExperiment(profile="smoke", overrides={"epoch": 3})


def test_the_evaluation_split_changes_the_points_not_the_model(tmp_path):
    """``eval_split="train"`` (the official code's choice) evaluates the same cached model on the
    training points: the reference MLE log-likelihood is the training split's, and there no
    learned decoder beats it (for the sigma_ML the decoders share, the MLE's W and b maximise the
    training likelihood)."""
    held_out, on_train = _tiny(), _tiny(eval_split="train")
    config = held_out.train_config("ours")
    assert held_out.cache_key("PoE", config) == on_train.cache_key("PoE", config)
    trained = train_replicas(
        held_out.model_factory("PoE"),
        *held_out.stacked("train"),
        config,
        replica_args=held_out.replica_args(),
        progress=False,
        cache_dir=tmp_path,
    )
    test_rows = held_out.evaluate(trained, Run("PoE", "ours"))
    train_rows = on_train.evaluate(trained, Run("PoE", "ours"))
    for r, (data, mle) in enumerate(zip(on_train.train_data, on_train.mle)):
        expected = linear_gaussian_log_likelihood(data.xs, *mle).mean()
        np.testing.assert_allclose(train_rows["llh_mle"][r], expected, rtol=1e-12)
    assert not np.allclose(train_rows["llh_mle"], test_rows["llh_mle"])
    assert np.all(train_rows["llh_gap"] > 0)
    with pytest.raises(ValueError, match="unknown eval_split 'validation'"):
        _tiny(eval_split="validation")
    # the official code's "bound": minus the last epoch's mean training loss, same model
    from_loss = _tiny(eval_split="train", bound_source="training_loss")
    assert from_loss.cache_key("PoE", config) == held_out.cache_key("PoE", config)
    loss_rows = from_loss.evaluate(trained, Run("PoE", "ours"))
    np.testing.assert_array_equal(loss_rows["bound_value"], -trained.loss_history[:, -1])
    np.testing.assert_array_equal(loss_rows["llh_gap"], train_rows["llh_gap"])
    assert not np.allclose(loss_rows["bound_value"], train_rows["bound_value"])
    with pytest.raises(ValueError, match="unknown bound_source 'running'"):
        _tiny(bound_source="running")
