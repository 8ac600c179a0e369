"""Non-linear identifiable models (Section 5.2): data generators, decoders, masking, training."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.data.identifiable import (
    apply_mlp,
    invert_mlp,
    label_model_log_likelihood,
    mcar_mask,
    mlp_jacobian,
    sample_auxiliary_label,
    sample_five_modalities,
)
from mmvae_nb.evaluation.likelihood import importance_sampled_log_likelihood
from mmvae_nb.experiments.base import run_grid
from mmvae_nb.experiments.checks import STATUSES
from mmvae_nb.experiments.identifiable.claims import claims
from mmvae_nb.experiments.identifiable.experiment import (
    ROWS,
    IdentifiableExperiment,
    section_tables,
)
from mmvae_nb.models.aggregators import aggregator_spec
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.models.decoders import MLPDecoder
from mmvae_nb.objectives.bounds import masked_bound, mixture_bound


def test_label_model_has_uniform_labels_and_a_one_hot_label_modality():
    data = sample_auxiliary_label(0, 20_000)
    freq = np.bincount(data.labels, minlength=5) / 20_000
    np.testing.assert_allclose(freq, 0.2, atol=0.01)
    np.testing.assert_array_equal(data.xs[1].argmax(axis=1), data.labels)
    assert data.xs[1].sum(axis=1).max() == 1 and data.likelihoods == ("gaussian", "categorical")
    # x_1 - f_1(z) is the N(0, 0.1^2) observation noise
    residual = data.xs[0] - apply_mlp(data.decoder_weights[0], data.z)
    np.testing.assert_allclose(residual.std(axis=0), 0.1, rtol=0.03)


def test_cluster_latents_follow_their_label_parameters():
    data = sample_auxiliary_label(1, 40_000)
    for c in range(5):
        z = data.z[data.labels == c]
        assert np.all((z.mean(axis=0) > -5.2) & (z.mean(axis=0) < 5.2))
        assert np.all((z.var(axis=0) > 0.4) & (z.var(axis=0) < 3.2))  # Lambda_c in (0.5, 3)
        np.testing.assert_allclose(z.var(axis=0), data.cluster_variances[c], rtol=0.1)


def test_official_cluster_scale_squares_the_same_lambda():
    """``cluster_scale="std"`` (the official code) draws the same Lambda_c and uses it as a
    standard deviation: z | c has variance Lambda_c^2, recorded as the cluster variances that
    the true log-likelihood uses."""
    paper, official = (
        sample_auxiliary_label(1, 40_000),
        sample_auxiliary_label(1, 40_000, cluster_scale="std"),
    )
    np.testing.assert_array_equal(official.cluster_means, paper.cluster_means)
    np.testing.assert_allclose(official.cluster_variances, paper.cluster_variances**2)
    for c in range(5):
        z = official.z[official.labels == c]
        np.testing.assert_allclose(z.var(axis=0), official.cluster_variances[c], rtol=0.1)


@pytest.mark.parametrize(
    "make", [lambda: sample_auxiliary_label(2, 500), lambda: sample_five_modalities(2, 500)]
)
def test_decoders_are_injective_full_rank_maps(make):
    data = make()
    for weights in data.decoder_weights:
        jac = mlp_jacobian(weights, data.z)
        assert np.linalg.matrix_rank(jac).min() == data.latent_dim
        # the Jacobian is the derivative of apply_mlp (finite differences)
        eps = 1e-6
        step = np.zeros_like(data.z[:3])
        step[:, 0] = eps
        fd = (apply_mlp(weights, data.z[:3] + step) - apply_mlp(weights, data.z[:3] - step)) / (
            2 * eps
        )
        np.testing.assert_allclose(fd, jac[:3, :, 0], rtol=1e-5, atol=1e-8)


def test_missing_rate_and_same_points_for_every_eta():
    full, half = sample_five_modalities(3, 4000, eta=0.0), sample_five_modalities(3, 4000, eta=0.5)
    assert full.present.all()
    assert abs(half.present.mean() - 0.5) < 0.02
    assert abs((~half.present).all(axis=1).mean() - 0.5**5) < 0.01
    for a, b in zip(full.xs, half.xs):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        sample_five_modalities(3, 50, eta=0.5).xs[2], sample_five_modalities(3, 50, eta=0.5).xs[2]
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mcar_mask(np.random.default_rng(0), 3, 2, 1.0), "eta must be in"),
        (lambda: sample_five_modalities(0, 10, modality_dim=5), "modality_dim >= latent_dim"),
        (lambda: sample_auxiliary_label(0, 10, noise_std=0.0), "noise_std > 0"),
        (lambda: sample_five_modalities(0, 10, cluster_scale="sd"), "unknown cluster_scale"),
    ],
)
def test_bad_generator_arguments_raise_clear_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_categorical_and_learned_scale_decoders():
    z = jnp.asarray(np.random.default_rng(0).normal(size=(4, 2)))
    label = MLPDecoder(2, 5, rngs=nnx.Rngs(0), likelihood="categorical")
    onehot = jnp.eye(5)[jnp.array([0, 3, 1, 4])]
    logits = label.net(z)
    expected = jnp.sum(onehot * jax.nn.log_softmax(logits), axis=-1)
    np.testing.assert_allclose(label.log_prob(onehot, z), expected, rtol=1e-12)
    np.testing.assert_allclose(label.mean(z).sum(axis=-1), 1.0, rtol=1e-12)
    gauss = MLPDecoder(2, 3, rngs=nnx.Rngs(0))
    assert isinstance(gauss.log_scale, nnx.Param)  # learned, initial sigma = 1 + 1e-3
    x = jnp.zeros((4, 3))
    var = (1.0 + 1e-3) ** 2
    direct = -0.5 * jnp.sum(jnp.log(2 * jnp.pi * var) + (x - gauss.net(z)) ** 2 / var, axis=-1)
    np.testing.assert_allclose(gauss.log_prob(x, z), direct, rtol=1e-12)
    with pytest.raises(ValueError, match="unknown likelihood 'poisson'"):
        MLPDecoder(2, 3, rngs=nnx.Rngs(0), likelihood="poisson")


def _label_model(aggregation, prior):
    spec = aggregator_spec(aggregation)
    embedding = None if spec.expert_embedding else 8
    kwargs = {} if spec.expert_embedding else {"hidden_dim": 8}
    if spec.mixture_output and "num_components" in spec.options:
        kwargs["num_components"] = 3
    return mlp_vae(
        (2, 5),
        2,
        aggregation,
        rngs=nnx.Rngs(1),
        encoder_hidden=(8, 8),
        embedding_dim=embedding,
        aggregator_options=kwargs,
        decoder="mlp",
        likelihoods=("gaussian", "categorical"),
        noise_std=0.1,
        prior=prior,
        prior_components=3,
    )


# one row per aggregation family and prior (expert product, expert mixture, pooled with the
# GMM prior, pooled mixture output)
MISSING_ROWS = [
    ("PoE", "standard"),
    ("MoE", "standard"),
    ("SumPooling", "gmm"),
    ("SelfAttentionMixture", "gmm"),
]
assert set(MISSING_ROWS) <= set(ROWS)


@pytest.mark.parametrize("aggregation, prior", MISSING_ROWS)
def test_all_missing_example_contributes_only_the_prior_term(aggregation, prior, key):
    """An example that observes nothing has bound 0 = log p(x_{}) and IS log-likelihood 0,
    whatever its (NaN) data, and the others' values do not depend on it."""
    model = _label_model(aggregation, prior)
    data = sample_auxiliary_label(0, 4)
    xs = [jnp.asarray(x) for x in data.xs]
    present = jnp.array([[True, True], [False, False], [True, False], [False, True]])
    nan_xs = [x.at[1].set(jnp.nan) for x in xs]

    # one compiled program per bound (eager, each primitive compiles on its own)
    @nnx.jit(static_argnums=3)
    def values_and_grads(model, xs, nan_xs, bound):
        values = bound(model, nan_xs, present, key, 1.0)
        grads = nnx.grad(lambda m: bound(m, nan_xs, present, key, 1.0).sum())(model)
        return values, bound(model, xs, present, key, 1.0), grads

    for bound in (masked_bound, mixture_bound):
        values, clean, grads = values_and_grads(model, xs, nan_xs, bound)
        assert values[1] == 0.0 and np.all(np.isfinite(values))
        np.testing.assert_allclose(values, clean, rtol=1e-12)
        assert all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads))
    llh = nnx.jit(lambda m, xs: importance_sampled_log_likelihood(m, xs, present, key, 8, 4))(
        model, nan_xs
    )
    assert llh[1] == 0.0 and np.all(np.isfinite(llh))


def test_expert_aggregators_need_a_two_d_embedding():
    with pytest.raises(ValueError, match="PoE needs embedding_dim = 2 x latent = 4"):
        mlp_vae((2, 5), 2, "PoE", rngs=nnx.Rngs(0), embedding_dim=8, decoder="mlp")


TINY = dict(
    repetitions=2,
    n_train=60,
    n_test=30,
    epochs=2,
    batch_size=30,
    hidden_experts=8,
    hidden_pooling=8,
    llh_particles=4,
    eval_samples=2,
)


def test_experiment_trains_every_condition_and_summarises(tmp_path, monkeypatch):
    """Repetitions x betas are one program; the tables have the paper's keys; same seed, same
    numbers (from the cache on the second call)."""
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path))
    experiment = IdentifiableExperiment("aux_label", "smoke", overrides=TINY)
    assert [c.beta for c in experiment.conditions] == [1.0, 1.0, 0.1, 0.1]
    rows = [("PoE", "standard"), ("SumPoolingMixture", "gmm")]
    runs = run_grid(experiment, experiment.grid(rows, ("ours",)), progress=False)
    examples = dict(experiment.examples)
    again = run_grid(experiment, experiment.grid(rows, ("ours",)), progress=False)
    assert again["from_cache"].all()
    np.testing.assert_allclose(runs["llh"], again["llh"], rtol=1e-6)
    assert np.isfinite(runs[["llh", "lower_bound", "mcc"]].to_numpy()).all()
    table = section_tables(runs, "aux_label")["table07_aux_label"]
    assert set(table["block"]) == {"standard_prior", "mixture_prior"}
    assert set(table.loc[table["metric"] == "llh", "beta"]) == {1.0}
    assert set(table.loc[table["metric"] == "mcc", "beta"]) == {1.0, 0.1}
    assert examples["PoE", "standard", "ours"]["z_mean"].shape == (30, 2)
    verdicts = claims(runs, "aux_label")
    assert len(verdicts) > 0 and set(verdicts["status"]) <= set(STATUSES)


def test_five_modality_conditions_share_points_and_differ_in_masks():
    experiment = IdentifiableExperiment("five_modalities", "smoke", overrides=TINY)
    assert [(c.repetition, c.eta) for c in experiment.conditions] == [
        (0, 0.0),
        (1, 0.0),
        (0, 0.5),
        (1, 0.5),
    ]
    xs, present = experiment.stacked("train")
    np.testing.assert_array_equal(xs[0][0], xs[0][2])
    assert present[0].all() and not present[2].all()
    with pytest.raises(ValueError, match="unknown experiment .three_modalities.; choose one of"):
        IdentifiableExperiment("three_modalities", "smoke")


def test_true_label_model_log_likelihood_matches_brute_force():
    """The pre-image importance sampler agrees with plain Monte Carlo over the prior of z | c."""
    data = sample_auxiliary_label(4, 6)
    fast = label_model_log_likelihood(data, 40_000)
    rng = np.random.default_rng(0)
    for i in range(6):
        c = data.labels[i]
        z = data.cluster_means[c] + np.sqrt(data.cluster_variances[c]) * rng.normal(
            size=(1_000_000, 2)
        )
        resid = data.xs[0][i] - apply_mlp(data.decoder_weights[0], z)
        log_lik = -0.5 * np.sum(np.log(2 * np.pi * 0.01) + resid**2 / 0.01, axis=-1)
        top = log_lik.max()
        brute = top + np.log(np.mean(np.exp(log_lik - top))) - np.log(5)
        np.testing.assert_allclose(fast[i], brute, atol=0.05)
    np.testing.assert_allclose(
        invert_mlp(data.decoder_weights[0], apply_mlp(data.decoder_weights[0], data.z)),
        data.z,
        atol=1e-9,
    )
