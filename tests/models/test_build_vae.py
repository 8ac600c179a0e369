"""``builders.build_vae``: a multi-modal VAE from parts. The embedding width is derived from the
aggregator's registry entry, inconsistent parts are refused before anything is built, the
``mlp_vae`` preset is ``build_vae`` with MLP parts (same key, same parameters), and a built
model's aggregation is permutation invariant."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.models.aggregators import AGGREGATORS, make_aggregator
from mmvae_nb.models.builders import (
    AggregatorConfig,
    LatentLayout,
    PriorConfig,
    build_vae,
    embedding_width,
    linear_decoders,
    mlp_decoders,
    mlp_encoders,
    mlp_vae,
)
from mmvae_nb.models.decoders import LinearGaussianDecoder
from mmvae_nb.models.nets import MLP
from mmvae_nb.models.priors import make_prior
from mmvae_nb.models.vae import MultimodalVAE

DIMS = (3, 4, 5)
EXPERTS = [name for name, spec in AGGREGATORS.items() if spec.expert_embedding]
LEARNED = [name for name, spec in AGGREGATORS.items() if not spec.expert_embedding]


def _layout(name, shared=2, private=1):
    """Shared latents, plus private ones where the entry is permutation-equivariant (App. F)."""
    return LatentLayout(shared, private if AGGREGATORS[name].private_latents else 0)


def _options(name, hidden=8):
    spec = AGGREGATORS[name]
    options = {"hidden_dim": hidden} if "hidden_dim" in spec.options else {}
    if spec.mixture_output and "num_components" in spec.options:
        options["num_components"] = 2
    return options


def _spy(calls, tag, build):
    """``build``, recording (tag, width) of every call."""

    def spied(width, *, rngs):
        calls.append((tag, width))
        return build(width, rngs=rngs)

    return spied


def _parts(calls):
    encoders = [_spy(calls, "encoder", b) for b in mlp_encoders(DIMS, (4,))]
    decoders = [_spy(calls, "decoder", b) for b in linear_decoders(DIMS)]
    return encoders, decoders


@pytest.mark.parametrize("name", EXPERTS)
@pytest.mark.parametrize("pooling_width", [None, 7])
def test_expert_aggregators_take_twice_the_latent_width(name, pooling_width):
    """PoE/MoE/MoPoE embeddings are Gaussian experts (mean, log-std): 2 (D' + D~) wide, whatever
    pooling width the configuration names (a grid's rows can share one configuration)."""
    latents = _layout(name, shared=3, private=2)
    expected = 2 * (latents.shared + latents.private)
    aggregator = AggregatorConfig(name, _options(name), pooling_width)
    assert embedding_width(aggregator, latents) == expected
    calls = []
    model = build_vae(*_parts(calls), aggregator, latents, rngs=nnx.Rngs(0))
    assert calls == [("encoder", expected)] * 3 + [("decoder", latents.decoder_dim)] * 3
    assert model.latent_dim == latents.total(len(DIMS)) == 3 + 3 * latents.private


@pytest.mark.parametrize("name", LEARNED)
@pytest.mark.parametrize("width", [None, 7])
def test_learned_aggregators_take_the_configured_width(name, width):
    latents = _layout(name)
    expected = latents.expert_width if width is None else width
    aggregator = AggregatorConfig(name, _options(name), pooling_width=width)
    assert embedding_width(aggregator, latents) == expected
    calls = []
    model = build_vae(*_parts(calls), aggregator, latents, rngs=nnx.Rngs(0))
    assert [w for tag, w in calls if tag == "encoder"] == [expected] * len(DIMS)
    h = model.encoders[0](jnp.zeros((2, DIMS[0])))
    assert h.shape == (2, expected)


BAD_PARTS = {
    "private latents, shared-latent aggregator": (
        dict(aggregator=AggregatorConfig("SumPooling"), latents=LatentLayout(2, 1)),
        "'SumPooling' is not a private-latent aggregator",
    ),
    "shared latents, equivariant aggregator": (
        dict(aggregator=AggregatorConfig("PoE (equivariant)"), latents=LatentLayout(2)),
        "not a shared-latent aggregator",
    ),
    "unknown aggregator": (dict(aggregator=AggregatorConfig("Mean")), "unknown aggregator"),
    "unknown option": (
        dict(aggregator=AggregatorConfig("PoE", {"hidden_dim": 4})),
        r"PoE takes no option\(s\) \['hidden_dim'\]",
    ),
    "one mixture component": (
        dict(aggregator=AggregatorConfig("SumPoolingMixture", {"num_components": 1})),
        "num_components must be >= 2",
    ),
    "too few decoders": (dict(decoders=slice(0, 2)), "2 decoders for 3 encoders"),
    "no modalities": (dict(encoders=slice(0, 0), decoders=slice(0, 0)), "no encoders"),
    "likelihood weights": (dict(likelihood_weights=(1.0, 2.0)), "need 3 positive"),
    "unknown prior": (dict(prior=PriorConfig("vamp")), "unknown prior 'vamp'"),
    "empty mixture prior": (dict(prior=PriorConfig("gmm", 0)), "num_components must be >= 1"),
    "mixture prior, private latents": (
        dict(
            aggregator=AggregatorConfig("SumPooling (equivariant)"),
            latents=LatentLayout(2, 1),
            prior=PriorConfig("gmm"),
        ),
        "Gaussian-mixture prior with private latents",
    ),
}


@pytest.mark.parametrize("case", BAD_PARTS)
def test_inconsistent_parts_are_refused_before_anything_is_built(case):
    changes, message = BAD_PARTS[case]
    calls = []
    encoders, decoders = _parts(calls)
    parts = {
        "encoders": encoders[changes.pop("encoders", slice(None))],
        "decoders": decoders[changes.pop("decoders", slice(None))],
        "aggregator": AggregatorConfig("PoE"),
        "latents": LatentLayout(2),
        **changes,
    }
    rngs = nnx.Rngs(0)
    with pytest.raises(ValueError, match=message):
        build_vae(rngs=rngs, **parts)
    assert calls == []  # no builder ran
    assert rngs.default.count[...] == 0  # nothing drew a key


def test_mlp_vae_refuses_an_expert_embedding_override_before_anything_is_built():
    rngs = nnx.Rngs(0)
    with pytest.raises(ValueError, match="PoE needs embedding_dim = 2 x latent = 4, got 8"):
        mlp_vae(DIMS, 2, "PoE", rngs=rngs, embedding_dim=8)
    assert rngs.default.count[...] == 0  # nothing drew a key
    model = mlp_vae(DIMS, 2, "PoE", rngs=rngs, embedding_dim=4)
    assert model.latent_dim == 2


@pytest.mark.parametrize(("shared", "private"), [(0, 0), (2, -1)])
def test_a_latent_layout_has_positive_dimensions(shared, private):
    with pytest.raises(ValueError, match="latent dimensions must be positive"):
        LatentLayout(shared, private)


def _structure(model) -> str:
    """The graph's modules and static attributes, without the addresses of the functions in it
    (``MLPDecoder`` makes its activation per instance, so two builds never compare equal)."""
    return re.sub(r" at 0x[0-9a-f]+", "", repr(nnx.graphdef(model)))


def _assert_same_model(a, b):
    assert _structure(a) == _structure(b)
    leaves_a, tree_a = jax.tree.flatten(nnx.state(a))
    leaves_b, tree_b = jax.tree.flatten(nnx.state(b))
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b, strict=True):
        assert x.dtype == y.dtype and np.array_equal(x, y)


PRESETS = {
    "linear, PoE": dict(
        mlp=dict(aggregator="PoE", noise_std=(0.5, 1.0, 2.0)),
        parts=lambda: (
            linear_decoders(DIMS, (0.5, 1.0, 2.0)),
            AggregatorConfig("PoE"),
            LatentLayout(2),
            PriorConfig(),
        ),
    ),
    "linear, masked features, equivariant SumPooling": dict(
        mlp=dict(
            aggregator="SumPooling (equivariant)",
            aggregator_options={"hidden_dim": 6},
            embedding_dim=10,
            private_latent_dim=1,
            feature_masks=[jnp.arange(d) < 2 for d in DIMS],
        ),
        parts=lambda: (
            linear_decoders(DIMS, 1.0, [jnp.arange(d) < 2 for d in DIMS]),
            AggregatorConfig("SumPooling (equivariant)", {"hidden_dim": 6}, 10),
            LatentLayout(2, 1),
            PriorConfig(),
        ),
    ),
    "MLP decoders, mixture aggregator and prior": dict(
        mlp=dict(
            aggregator="SelfAttentionMixture",
            aggregator_options={"hidden_dim": 8, "num_components": 3},
            embedding_dim=6,
            decoder="mlp",
            likelihoods=("gaussian", "laplace", "categorical"),
            noise_std=None,
            prior="gmm",
            prior_components=3,
        ),
        parts=lambda: (
            mlp_decoders(DIMS, ("gaussian", "laplace", "categorical"), None),
            AggregatorConfig("SelfAttentionMixture", {"hidden_dim": 8, "num_components": 3}, 6),
            LatentLayout(2),
            PriorConfig("gmm", 3),
        ),
    ),
}


@pytest.mark.parametrize("preset", PRESETS)
def test_mlp_vae_is_build_vae_with_mlp_parts(preset):
    """Same parts and key: the same modules, drawn in the same order (identical parameters)."""
    case = PRESETS[preset]
    kwargs = dict(case["mlp"])
    aggregator = kwargs.pop("aggregator")
    preset_model = mlp_vae(DIMS, 2, aggregator, rngs=nnx.Rngs(3), encoder_hidden=(5,), **kwargs)
    decoders, aggregator_config, latents, prior = case["parts"]()
    built = build_vae(
        mlp_encoders(DIMS, (5,)),
        decoders,
        aggregator_config,
        latents,
        rngs=nnx.Rngs(3),
        prior=prior,
    )
    _assert_same_model(preset_model, built)


def test_build_vae_draws_in_a_fixed_order():
    """Encoders, aggregator, decoders, prior, from one ``rngs``: the order that fixes every
    initial parameter (committed results regenerate only if it never changes)."""
    latents = LatentLayout(2, 1)
    aggregator = AggregatorConfig("SelfAttention (equivariant)", {"hidden_dim": 8}, 8)
    built = build_vae(
        mlp_encoders(DIMS, (4,)), linear_decoders(DIMS), aggregator, latents, rngs=nnx.Rngs(5)
    )
    rngs = nnx.Rngs(5)
    by_hand = MultimodalVAE(
        [MLP(d, [4], 8, rngs=rngs) for d in DIMS],
        make_aggregator(
            "SelfAttention (equivariant)", 2, 8, rngs=rngs, private_dim=1, hidden_dim=8
        ),
        [LinearGaussianDecoder(3, d, 1.0, rngs=rngs) for d in DIMS],
        make_prior("standard", 2 + 3 * 1, rngs=rngs),
    )
    _assert_same_model(built, by_hand)


@pytest.mark.parametrize("name", ["PoE", "SumPooling", "SelfAttention"])
def test_a_built_models_aggregation_is_permutation_invariant(name):
    """q(z | x_S) from the tokens of the modalities does not depend on their order (Section 3,
    Examples 6-7), in float64."""
    model = build_vae(
        mlp_encoders(DIMS, (4,)),
        linear_decoders(DIMS),
        AggregatorConfig(name, _options(name, hidden=8), None if name == "PoE" else 8),
        LatentLayout(2),
        rngs=nnx.Rngs(2),
    )
    graph, state = nnx.split(model)
    model = nnx.merge(graph, jax.tree.map(lambda a: a.astype(jnp.float64), state))
    gen = np.random.default_rng(0)
    xs = [jnp.asarray(gen.normal(size=(4, d))) for d in DIMS]
    mask = jnp.asarray([[1, 1, 1], [1, 0, 1], [0, 1, 1], [1, 1, 0]], bool)
    tokens = model.embed(xs, mask)
    q = model.aggregator.pool(tokens, mask)
    order = jnp.asarray([2, 0, 1])
    permuted = model.aggregator.pool(tokens[:, order], mask[:, order])
    np.testing.assert_allclose(permuted.mean, q.mean, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(permuted.var, q.var, rtol=1e-12)
