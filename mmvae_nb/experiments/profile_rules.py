"""What a profile may change relative to ``paper``: the rule "profiles change sizes, never logic",
as data (DESIGN.md, Profiles; issue 37).

Every setting of every section's configuration (``experiments.configs``) falls in one class:

* ``COUNTS``: how much is done: steps, data sizes, test points, particles, batch size. The
  ``rehearse`` profile cuts only these, so that it runs every program, grid row and evaluation
  path of ``paper`` in minutes on a CPU;
* ``REPLICAS``: how often a configuration is repeated (data sets, seeds);
* ``WIDTHS``: the shapes of the data and the networks;
* ``GRID``: which rows, betas, missing rates and variants are trained;
* everything else is *logic* (bounds, samplers, priors, clipping, temperatures, ...): no
  profile changes it, except through a named entry of ``STABILISERS`` (quick and smoke) or
  ``OFFLINE`` (every profile but paper).

``profile_differences`` lists what a profile changes; ``check_profile`` raises on a change the
profile's class does not allow (tests/experiments/test_profile_rules.py runs it on every section and
profile).
"""

from __future__ import annotations

import dataclasses

COUNTS = frozenset(
    {
        # training
        "epochs",
        "batch_size",
        # data sizes
        "n_train",
        "n_test",
        "train_size",
        "test_size",
        "svhn_size",
        "svhn_test_size",
        "dups",
        # evaluation sizes
        "eval_samples",
        "llh_particles",
        "particles_per_chunk",
        "classifier_epochs",
        "eval_size",
        "latent_train_size",
        "selection_size",
    }
)
REPLICAS = frozenset({"num_datasets", "repetitions"})
WIDTHS = frozenset(
    {
        "latent_dim",
        "num_modalities",
        "dim_low",
        "dim_high",
        "modality_dim",
        "num_labels",
        "hidden_experts",
        "hidden_pooling",
        "hidden_private",
        "private_latent_dim",
        "prior_components",
        "mixture_components",
        "subspace_dim",
        "private_dim",
        "relation_hidden",
        "pooling_hidden",
        "conv_channels",
    }
)
GRID = frozenset({"betas", "etas", "rows", "private_rows", "beta_rows", "variants"})

# settings that quick and smoke change beyond sizes, each with why: few steps need them
STABILISERS = {
    "learning_rate": "a larger learning rate: the quick profile takes 1-10 % of the paper's steps",
    "final_learning_rate": "the end of the cosine decay, scaled with the larger learning rate",
    "warmup_steps": "a linear learning-rate warm-up (MST: SumPooling's posterior scale blew up "
    "in its first steps; scripts/results/diagnose_mst_quick.txt)",
    "kl_warmup_steps": "KL annealing (PolyMNIST: without it every row collapses to the prior; "
    "scripts/results/diagnose_collapse_quick.txt)",
    "global_selections": "mrVAE's selections as learned input-independent scores (its generated "
    "x_0 stayed at chance with eq. 36-38's selections at quick sizes)",
}
# settings that need the network: every profile but paper uses an offline stand-in
OFFLINE = {
    "svhn": "the synthetic street-number stand-in: real SVHN is downloaded by the paper profile "
    "only (labelled in every table and figure)",
}

ALLOWED = {
    "paper": frozenset(),
    "rehearse": COUNTS | frozenset(OFFLINE),
    "quick": COUNTS | REPLICAS | WIDTHS | GRID | frozenset(STABILISERS) | frozenset(OFFLINE),
    "smoke": COUNTS | REPLICAS | WIDTHS | GRID | frozenset(STABILISERS) | frozenset(OFFLINE),
}


def flat_settings(config) -> dict:
    """Every setting of ``config`` (a ``ExperimentConfig``) by its flat name."""
    return {
        f.name: getattr(getattr(config, group), f.name)
        for group in ("data", "model", "training", "evaluation", "grid")
        for f in dataclasses.fields(getattr(config, group))
    }


def profile_differences(config, paper) -> dict:
    """``{name: (paper's value, this profile's value)}`` for every setting that differs."""
    mine, theirs = flat_settings(config), flat_settings(paper)
    return {k: (theirs[k], v) for k, v in mine.items() if v != theirs[k]}


def check_profile(profiles: dict, profile: str) -> None:
    """Raise a ``ValueError`` naming each setting that ``profiles[profile]`` changes relative to
    ``profiles["paper"]`` beyond what ``ALLOWED[profile]`` lets it."""
    changed = profile_differences(profiles[profile], profiles["paper"])
    bad = {k: v for k, v in changed.items() if k not in ALLOWED[profile]}
    if bad:
        raise ValueError(
            f"profile {profile!r} changes {sorted(bad)} (paper -> {profile}: {bad}); it may "
            f"change only {sorted(ALLOWED[profile])}"
        )


def stabilisers_used(profiles: dict, profile: str) -> dict:
    """The ``STABILISERS`` and ``OFFLINE`` entries ``profile`` uses: ``{name: why}``."""
    changed = profile_differences(profiles[profile], profiles["paper"])
    listed = STABILISERS | OFFLINE
    return {k: listed[k] for k in changed if k in listed}
