"""``EXPERIMENTS``: the one list of the project's experiments, and what each is made of.

Every part of the project that needs the experiments reads this registry: the Makefile (through
``python -m mmvae_nb list``), the launcher (``jobs.jobs``), the GPU plan (``planning``), the
table lookup (``reporting.tables.table_spec``), the scorecard's claims and
``python -m mmvae_nb run``. An experiment has one name everywhere: its registry key, its
notebook ``notebooks/NN_<name>.ipynb``, its Makefile target, its launcher jobs, the files of its
outputs.

An entry (``Experiment``) holds the experiment's configurations per profile, how to build the
experiment object of a profile, seed and setting (``base.Experiment``: linear's dense or sparse
decoders, relational's PolyMNIST variant), the trainings its notebook runs (``trainings``: the
launcher trains exactly these, so that the notebook finds them in the cache), its paper tables,
figures and claims.

The two experiments of Section 5.2 (``aux_label``, ``five_modalities``) share one
implementation, ``experiments.identifiable`` (the same models, trainer and evaluation on two
data generators, App. N).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from mmvae_nb.experiments import conclusion
from mmvae_nb.experiments import identifiable as _identifiable
from mmvae_nb.experiments import linear as _linear
from mmvae_nb.experiments import mnist_svhn_text as _mst
from mmvae_nb.experiments import relational as _relational
from mmvae_nb.experiments.base import Run
from mmvae_nb.experiments.configs import PROFILES, ExperimentConfig, profile_config

# the papers, in the scorecard's order: Hirt et al.'s claims, its conclusion's, then the
# relational paper's (Sutter & Vogt)
PERMUTATION_INVARIANT, RELATIONAL = "hirt2024", "sutter2024"


def _one_setting(config: ExperimentConfig) -> tuple[str, ...]:
    return ("",)


def _grids(experiments: Mapping[str, object]) -> list[tuple[str, Run]]:
    """Each setting's experiment's default grid (``Experiment.grid()``), setting by setting."""
    return [(setting, run) for setting, e in experiments.items() for run in e.grid()]


@dataclass(frozen=True)
class ExperimentSpec:
    """One experiment of the registry (module docstring)."""

    name: str
    title: str
    paper: str  # PERMUTATION_INVARIANT or RELATIONAL
    paper_sections: str  # where the paper describes it
    notebook: str  # file under notebooks/
    profiles: Mapping[str, ExperimentConfig]  # the configuration of each profile
    # (profile, seed, setting, **options) -> the experiment object (``base.Experiment``)
    build: Callable[..., object]
    tables: Mapping[str, object]  # paper table name -> ``table_specs.TableSpec``
    figures: Mapping[str, object]  # figure name -> ``figure_specs.FigureSpec``
    claims: Sequence = ()  # ``claims.Claim`` records about its tables and figures
    # the settings one notebook run covers (one experiment object each)
    settings: Callable[[ExperimentConfig], tuple[str, ...]] = _one_setting
    # {setting: experiment object} -> the (setting, run) trainings of the notebook's defaults
    grids: Callable[[Mapping[str, object]], list[tuple[str, Run]]] = _grids
    # what splits a cost class's trainings into several programs (``planning.programs``)
    program_per: str = ""
    # make's order of the notebooks when two run side by side (Makefile ``sections``): the
    # convolutional ones (multi-threaded) never beside each other
    make_rank: int = 0

    def config(self, profile: str, **overrides) -> ExperimentConfig:
        return profile_config(self.profiles, profile, **overrides)

    def experiments(self, profile: str, seed: int = 0, build=None) -> dict[str, object]:
        """The experiment object of every setting of ``profile``, by setting, made by
        ``build`` (default: ``self.build``; the launcher passes its per-process cache)."""
        build = build or self.build
        return {s: build(profile, seed, s) for s in self.settings(self.config(profile))}

    def trainings(self, profile: str, seed: int = 0, build=None) -> list[tuple[str, Run]]:
        """Every (setting, run) its notebook trains at ``profile`` with its defaults."""
        return self.grids(self.experiments(profile, seed, build))


EXPERIMENTS: dict[str, ExperimentSpec] = {
    e.name: e
    for e in (
        ExperimentSpec(
            "linear",
            "Linear multi-modal VAEs",
            PERMUTATION_INVARIANT,
            "Section 5.1, App. M",
            "01_linear.ipynb",
            _linear.PROFILES,
            _linear.build,
            _linear.TABLES,
            _linear.FIGURES,
            _linear.CLAIMS,
            settings=_linear.settings,
            grids=_linear.trainings,
            make_rank=1,
        ),
        ExperimentSpec(
            "aux_label",
            "Identifiable models: a continuous modality and its label",
            PERMUTATION_INVARIANT,
            "Section 5.2, App. N.1",
            "02_aux_label.ipynb",
            _identifiable.AUX_LABEL,
            _identifiable.builder("aux_label"),
            _identifiable.tables_of("aux_label"),
            {},
            _identifiable.claims_of("aux_label"),
            make_rank=2,
        ),
        ExperimentSpec(
            "five_modalities",
            "Identifiable models: five modalities, missing at random",
            PERMUTATION_INVARIANT,
            "Section 5.2, App. N.2",
            "03_five_modalities.ipynb",
            _identifiable.FIVE_MODALITIES,
            _identifiable.builder("five_modalities"),
            _identifiable.tables_of("five_modalities"),
            _identifiable.FIGURES,
            _identifiable.claims_of("five_modalities"),
            make_rank=4,
        ),
        ExperimentSpec(
            "mnist_svhn_text",
            "MNIST-SVHN-Text",
            PERMUTATION_INVARIANT,
            "Section 5.3, App. O-Q",
            "04_mnist_svhn_text.ipynb",
            _mst.PROFILES,
            _mst.build,
            _mst.TABLES,
            _mst.FIGURES,
            _mst.CLAIMS,
            program_per="repetition",
            make_rank=3,
        ),
        ExperimentSpec(
            "relational",
            "The Multimodal Relational VAE on PolyMNIST",
            RELATIONAL,
            "Sutter & Vogt, Section 5, App. E",
            "05_relational.ipynb",
            _relational.PROFILES,
            _relational.build,
            _relational.TABLES,
            _relational.FIGURES,
            _relational.CLAIMS,
            settings=_relational.settings,
            program_per="setting",
            make_rank=0,
        ),
    )
}


def experiment(name: str) -> ExperimentSpec:
    """The registry entry ``name``; an unknown name raises, listing the known ones."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; choose from {list(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def check_names(names: Sequence[str]) -> list[str]:
    """``names`` checked against the registry (all of them when empty)."""
    unknown = sorted(set(names) - set(EXPERIMENTS))
    if unknown:
        raise ValueError(f"unknown experiments {unknown}; choose from {list(EXPERIMENTS)}")
    return list(names) or list(EXPERIMENTS)


def table_spec(name: str):
    """The ``TableSpec`` of paper table ``name``, from whichever experiment makes it."""
    for entry in EXPERIMENTS.values():
        if name in entry.tables:
            return entry.tables[name]
    raise ValueError(f"no experiment makes a table named {name!r}")


def paper_claims() -> list:
    """Every claim, in the scorecard's order: the first paper's experiments, its conclusion
    (``conclusion.CLAIMS``, which rests on several), then the relational paper's."""
    first = [c for e in EXPERIMENTS.values() if e.paper == PERMUTATION_INVARIANT for c in e.claims]
    second = [c for e in EXPERIMENTS.values() if e.paper == RELATIONAL for c in e.claims]
    return [*first, *conclusion.CLAIMS, *second]


__all__ = [
    "EXPERIMENTS",
    "PROFILES",
    "ExperimentSpec",
    "check_names",
    "experiment",
    "paper_claims",
    "table_spec",
]
