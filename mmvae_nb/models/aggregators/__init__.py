"""Multi-modal aggregators (Section 3, 4.2, App. E, F): one registry, ``AGGREGATORS``.

Every entry declares what the rest of the code needs to know about it, so nothing parses a
label string:

* ``family``: PoE, MoE, SumPooling or SelfAttention (the paper's four schemes), or MoPoE (the
  mixture of products over subsets of Sutter et al. 2021, the relational model's baseline);
* ``expert_embedding``: the modality embeddings are Gaussian experts (mean, log-std), so the
  embedding width must be 2 x the latent dimension (PoE, MoE, MoPoE);
* ``private_latents``: the permutation-equivariant variants of App. F, for z = (z', z~_1..M);
* ``mixture_output``: q(z | x_S) is a Gaussian mixture (MoE, MoPoE, and the *Mixture* variants
  of Section 4.2, which learn its K components);
* ``options``: the keyword options the constructor accepts (anything else is refused).

``make_aggregator(name, ...)`` builds one and refuses an unknown name, an option the entry does
not accept, or a latent layout that does not fit it, with a ``ValueError`` naming the accepted
values; ``check_aggregator`` raises the same errors without building anything. Every
aggregator has one signature, ``aggregator(h, mask) -> Posterior`` (see ``shared.Aggregator``).
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass

from mmvae_nb.models.aggregators.equivariant import (
    PoEEquivariant,
    SelfAttentionEquivariant,
    SumPoolingEquivariant,
)
from mmvae_nb.models.aggregators.shared import (
    MoE,
    MoPoE,
    PoE,
    SelfAttention,
    SelfAttentionMixture,
    SumPooling,
    SumPoolingMixture,
    product_of_experts,
)

# the paper's four schemes, and MoPoE (Sutter et al. 2021), the relational model's baseline
FAMILIES = ("PoE", "MoE", "SumPooling", "SelfAttention", "MoPoE")
FIXED_FAMILIES = ("PoE", "MoE", "MoPoE")  # no learned aggregation parameters


@dataclass(frozen=True)
class AggregatorSpec:
    """A registry entry: the paper's name, the class, and its declared properties."""

    name: str
    cls: type
    family: str
    private_latents: bool
    mixture_output: bool
    paper: str  # where the paper defines it

    @property
    def expert_embedding(self) -> bool:
        """Embeddings are uni-modal Gaussian experts (mean, log-std): width 2 x latent."""
        return self.family in FIXED_FAMILIES

    @property
    def learnable(self) -> bool:
        """The aggregation itself has parameters (SumPooling, SelfAttention and variants)."""
        return self.family not in FIXED_FAMILIES

    @property
    def options(self) -> tuple[str, ...]:
        """Keyword options of the constructor (besides ``rngs``); ``num_components`` only for
        the entries whose output is a learned mixture (a plain SumPooling stays one Gaussian,
        so that ``mixture_output`` always tells the truth)."""
        params = inspect.signature(self.cls.__init__).parameters.values()
        names = [p.name for p in params if p.name != "rngs" and p.default is not p.empty]
        if not self.mixture_output:
            names = [n for n in names if n != "num_components"]
        return tuple(names)


AGGREGATORS: dict[str, AggregatorSpec] = {
    spec.name: spec
    for spec in (
        AggregatorSpec("PoE", PoE, "PoE", False, False, "Section 3, eq. (7)"),
        AggregatorSpec("MoE", MoE, "MoE", False, True, "Section 3"),
        AggregatorSpec("MoPoE", MoPoE, "MoPoE", False, True, "Sutter et al. 2021, Sec. 3"),
        AggregatorSpec("SumPooling", SumPooling, "SumPooling", False, False, "Example 6"),
        AggregatorSpec("SelfAttention", SelfAttention, "SelfAttention", False, False, "Example 7"),
        AggregatorSpec(
            "SumPoolingMixture", SumPoolingMixture, "SumPooling", False, True, "Section 4.2"
        ),
        AggregatorSpec(
            "SelfAttentionMixture", SelfAttentionMixture, "SelfAttention", False, True, "Sec. 4.2"
        ),
        AggregatorSpec("PoE (equivariant)", PoEEquivariant, "PoE", True, False, "Example 16"),
        AggregatorSpec(
            "SumPooling (equivariant)", SumPoolingEquivariant, "SumPooling", True, False, "Ex. 17"
        ),
        AggregatorSpec(
            "SelfAttention (equivariant)",
            SelfAttentionEquivariant,
            "SelfAttention",
            True,
            False,
            "Example 18",
        ),
    )
}


def aggregator_spec(name: str) -> AggregatorSpec:
    """The registry entry of ``name``; a ``ValueError`` listing the known names otherwise."""
    if name not in AGGREGATORS:
        raise ValueError(f"unknown aggregator {name!r}; choose one of {list(AGGREGATORS)}")
    return AGGREGATORS[name]


def check_aggregator(
    name: str, latent_dim: int, embedding_dim: int, *, private_dim: int = 0, **options
) -> AggregatorSpec:
    """The registry entry of ``name`` if ``make_aggregator`` accepts these arguments; otherwise
    the ``ValueError`` it would raise, here without creating anything."""
    spec = aggregator_spec(name)
    if spec.private_latents != (private_dim > 0):
        kind = "private-latent" if private_dim > 0 else "shared-latent"
        fitting = [n for n, s in AGGREGATORS.items() if s.private_latents == (private_dim > 0)]
        raise ValueError(
            f"{name!r} is not a {kind} aggregator (private_dim={private_dim}); "
            f"choose one of {fitting}"
        )
    accepted = [o for o in spec.options if o not in ("shared_dim", "private_dim")]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(f"{name} takes no option(s) {unknown}; accepted: {accepted}")
    if spec.mixture_output and options.get("num_components", 2) < 2:
        raise ValueError(f"{name} is a mixture: num_components must be >= 2, got {options}")
    expert_dim = 2 * (latent_dim + private_dim)
    if spec.expert_embedding and embedding_dim != expert_dim:
        raise ValueError(
            f"{name} needs embedding_dim = 2 x latent = {expert_dim}, got {embedding_dim}"
        )
    return spec


def make_aggregator(
    name: str, latent_dim: int, embedding_dim: int, *, rngs, private_dim: int = 0, **options
):
    """Build an aggregator by its paper name (``AGGREGATORS``).

    ``latent_dim`` is the (shared) latent dimension; ``private_dim > 0`` asks for shared +
    private latents, which only the permutation-equivariant entries provide (App. F).
    ``options`` go to the constructor and must be among the entry's ``options``.
    """
    spec = check_aggregator(name, latent_dim, embedding_dim, private_dim=private_dim, **options)
    if spec.private_latents:
        return spec.cls(latent_dim, private_dim, embedding_dim, rngs=rngs, **options)
    return spec.cls(latent_dim, embedding_dim, rngs=rngs, **options)


__all__ = [
    "AGGREGATORS",
    "FAMILIES",
    "AggregatorSpec",
    "aggregator_spec",
    "check_aggregator",
    "make_aggregator",
    "product_of_experts",
]
