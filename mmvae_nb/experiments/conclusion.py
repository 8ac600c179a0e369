"""The paper's conclusion (Section 6) as ``Claim`` records, resting on several sections' numbers.

One registry (``CLAIMS``); the scorecard reads it, on the tables and figure numbers that the
notebooks of Sections 5.1 and 5.3 write.
"""

from __future__ import annotations

from mmvae_nb.experiments.checks import Better
from mmvae_nb.experiments.claims import ALL, Claim
from mmvae_nb.experiments.linear.claims import TRAINING_TIME

_OURS, _MIXTURE = {"bound": "ours"}, {"bound": "mixture"}
_CROSS_FIGURES = (
    "fig03_linear_dense_rate_distortion",
    "fig04_linear_sparse_rate_distortion",
    "fig05_linear_sparse_equivariant_beta",
    "fig02_mst_rate_distortion",
)

CLAIMS = [
    Claim(
        "6-mixture-for-cross-reconstruction",
        "6",
        (
            'Section 6 (Limitations): "Mixture-based bounds might be preferred if one'
            ' is interested primarily in cross-modal reconstructions."'
        ),
        tuple(Better(f, "cross_reconstruction", _MIXTURE, _OURS) for f in _CROSS_FIGURES),
        ALL,
        scope=("cross reconstruction, mixture vs ours, every scheme pooled, Figures 3, 4, 5 and 2"),
    ),
    Claim(
        "6-our-bound-costlier-step",
        "6",
        (
            'Section 6 (Limitations): "A drawback of our bound is that computing a '
            "gradient step is more expensive as it requires drawing samples from two "
            'encoding distributions."'
        ),
        (Better(TRAINING_TIME, "train_seconds", _OURS, _MIXTURE),),
        scope="training seconds of the linear models, every scheme pooled",
    ),
    Claim(
        "6-learnable-costlier",
        "6",
        (
            'Section 6 (Limitations): "Similarly, learning aggregation functions is '
            'more computationally expensive compared to fixed schemes."'
        ),
        (
            Better(
                TRAINING_TIME,
                "train_seconds",
                {"aggregation": ("SumPooling", "SelfAttention")},
                {"aggregation": ("PoE", "MoE")},
            ),
        ),
        scope=(
            "training seconds of the linear models, SumPooling/SelfAttention vs "
            "PoE/MoE, both bounds pooled"
        ),
    ),
]
