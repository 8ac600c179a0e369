"""The paper profile's trainings as programs: what each costs, compiled and run on this device
(issue 37), without its data or its hours.

For every training ``make reproduce`` launches (``launch.jobs``), ``step_program(job)`` builds
the job's section at the paper profile with only its data counts cut (``CAPTURE_OVERRIDES``:
MNIST-SVHN-Text on the offline stand-in, a few hundred tuples) and captures the optimisation
step its trainer would run (``training.programs``): the paper's widths, batch size, replicas,
bound and aggregator, so XLA's FLOP count, its compiled memory and the step's seconds are those
of the paper's training. ``paper_steps(job)`` is how many such steps the paper's training takes.
Trainings that differ only in beta, data values or seed share a ``cost_class``.
"""

from __future__ import annotations

import functools

import numpy as np

from mmvae_nb.launch import Job
from mmvae_nb.sections import config as section_configs
from mmvae_nb.training.programs import StepProgram, capture_training
from mmvae_nb.training.streaming import steps_per_epoch

PAPER_CONFIGS = {
    "linear": section_configs.LINEAR,
    "aux_label": section_configs.AUX_LABEL,
    "five_modalities": section_configs.FIVE_MODALITIES,
    "mnist_svhn_text": section_configs.MNIST_SVHN_TEXT,
    "relational": section_configs.RELATIONAL,
}
# data counts cut so that a paper-shaped step can be built offline in seconds (each at least
# one paper batch); the synthetic sections generate their paper data sets as they are
CAPTURE_OVERRIDES = {
    "mnist_svhn_text": {
        "svhn": "standin",
        "svhn_size": 3000,
        "svhn_test_size": 500,
        "dups": 1,
        "train_size": 600,
    },
    "relational": {"train_size": 600, "test_size": 100, "selection_size": 50},
}


@functools.cache
def paper_mst_triples(dups: int = 20, max_per_label: int = 10_000) -> int:
    """Training triples of the paper profile: ``dups`` x sum over labels of
    min(#MNIST, #SVHN, ``max_per_label``), as ``pair_indices`` matches them (the label counts
    of the real SVHN training split, ``street_numbers.SVHN_CLASS_COUNTS``)."""
    from mmvae_nb.data.mnist_svhn_text import load_mnist
    from mmvae_nb.data.street_numbers import SVHN_CLASS_COUNTS

    mnist = np.bincount(load_mnist("train")[1], minlength=10)
    return dups * int(
        sum(min(a, b, max_per_label) for a, b in zip(mnist, SVHN_CLASS_COUNTS["train"]))
    )


def cost_class(job: Job) -> str:
    """What sets a training's cost: section, aggregation, prior, bound, private latents, and for
    the linear section's equivariant models their setting (dense and sparse data have the same
    shapes; beta changes no shape)."""
    run = job.run
    setting = job.setting if "equivariant" in run.aggregation else ""
    parts = (job.section, setting, run.aggregation, run.prior, run.bound)
    return "/".join(p for p in parts if p) + ("/private" if run.private else "")


def paper_steps(job: Job) -> int:
    """Adam steps of ``job`` at the paper's settings (from the paper profile's configuration)."""
    config = PAPER_CONFIGS[job.section]["paper"]
    training = config.training
    if job.section == "mnist_svhn_text":
        return training.epochs * steps_per_epoch(paper_mst_triples(), training.batch_size)
    if job.section == "relational":
        return training.epochs * steps_per_epoch(config.data.train_size, training.batch_size)
    return training.epochs * (config.data.n_train // training.batch_size)


def paper_section(section: str, setting: str = "", overrides: dict | None = None):
    """The section object of the paper profile with ``overrides``."""
    overrides = overrides or {}
    if section == "linear":
        from mmvae_nb.sections.linear import LinearExperiment

        return LinearExperiment(profile="paper", sparse=setting != "dense", overrides=overrides)
    if section == "mnist_svhn_text":
        from mmvae_nb.sections.mnist_svhn_text import MSTExperiment

        return MSTExperiment("paper", 0, overrides, progress=False)
    if section == "relational":
        from mmvae_nb.sections.relational import RelationalExperiment

        return RelationalExperiment("paper", setting, 0, overrides, progress=False)
    from mmvae_nb.sections.identifiable import IdentifiableExperiment

    return IdentifiableExperiment(section, "paper", 0, overrides)


@functools.cache
def _capture_section(section: str, setting: str):
    return paper_section(section, setting, CAPTURE_OVERRIDES.get(section, {}))


def step_program(job: Job) -> StepProgram:
    """The optimisation step of ``job``'s training at the paper's shapes (not compiled yet)."""
    section = _capture_section(job.section, job.setting)
    return capture_training(lambda: section.train(job.run, force_retrain=True, progress=False))
