"""The shape every experiment follows, and the one grid runner.

An experiment (``linear.LinearExperiment``, ``identifiable.IdentifiableExperiment``,
``mnist_svhn_text.MSTExperiment``, ``relational.RelationalExperiment``, and any new one) is
built from a profile and a seed (``registry.ExperimentSpec.build``), holds its typed ``config``
(its package's ``config``, built on ``configs.ExperimentConfig``) and its data, and provides:

* ``grid(...)``: the profile's trainings as ``Run`` records (a table row with one model, bound,
  beta, latent layout and repetition), in the order the paper's tables list them;
* ``train(run)``: the trained replicas of one run (data sets, betas or missing rates vmapped
  into one program where the experiment allows), cached under ``cache_key(run, ...)``;
* ``evaluate(trained, run)``: tidy per-replica results (one row per replica, metrics as columns,
  or one row per number with ``metric`` / ``target`` / ``inputs`` / ``value``);
* ``run(run)``: ``train`` then ``evaluate``, with the training time and final loss added;

a replica that diverged (``TrainedModels.diverged_epoch``) is not evaluated: its row holds its
keys and ``diverged_epoch`` (``diverged_row``), so the tables average the other replicas
(``n_runs`` counts them) and ``diverged_runs`` lists it.

Its tables (``table_specs.TableSpec``), figures and claims (``claims.Claim``) are module-level
data of its package, listed in ``registry.EXPERIMENTS``. ``run_grid`` runs any experiment's
grid; ``table_specs.summarise`` turns its results into paper tables;
``reporting.tables.publish`` writes and shows them beside the paper's.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import pandas as pd
from tqdm.auto import tqdm

from mmvae_nb.storage import cache_root
from mmvae_nb.training.cache import config_hash, enable_compilation_cache
from mmvae_nb.writable import check_writable

# the columns that identify a diverged replica, where an experiment's results have them
DIVERGED_KEYS = (
    "block",
    "aggregation",
    "prior",
    "bound",
    "beta",
    "eta",
    "replica",
    "repetition",
    "diverged_epoch",
)


@dataclass(frozen=True)
class Run:
    """One training of an experiment's grid: the model (a row of the paper's table: an
    aggregation scheme of ``models.aggregators``, or another model such as mrVAE), a bound, the
    prior, beta, whether the latents are shared + private (App. F), and the repetition (a seed
    of its own, where an experiment repeats trainings one by one). Results keep the model in
    their ``aggregation`` column, the paper tables' row key."""

    model: str
    bound: str
    prior: str = "standard"
    beta: float = 1.0
    private: bool = False
    repetition: int = 0

    @property
    def label(self) -> str:
        parts = [self.model, self.bound]
        if self.prior != "standard":
            parts.append(self.prior)
        if self.beta != 1.0:
            parts.append(f"beta={self.beta:g}")
        if self.private:
            parts.append("private")
        label = "/".join(parts)
        return f"{label}#{self.repetition}" if self.repetition else label


class Experiment(ABC):
    """Base class of the experiments (module docstring)."""

    name: str  # its ``registry.EXPERIMENTS`` key
    seed: int
    config: object  # its profile's ``configs.ExperimentConfig``

    @abstractmethod
    def grid(self, *args, **kwargs) -> list[Run]:
        """The trainings of the profile (or of the given selection), in table order."""

    @abstractmethod
    def train(self, run: Run, *, force_retrain: bool = False, progress: bool = True):
        """The trained replicas of ``run`` (``training.trainer.TrainedModels``), cached."""

    @abstractmethod
    def evaluate(self, trained, run: Run) -> pd.DataFrame:
        """Tidy per-replica results of ``run``'s trained replicas."""

    def cache_key(self, run: Run, train_config, *data) -> str:
        """The results-cache key of ``run``: the experiment, what determines its trained models
        (``config.cache_parts()``: data, model and training settings), the seed, the run, the
        trainer's settings and ``data`` (facts of the experiment's data the settings do not
        name). An evaluation setting or the grid never enters it."""
        return config_hash(
            self.name, self.config.cache_parts(), self.seed, run, train_config, *data
        )

    def run(self, run: Run, *, force_retrain: bool = False, progress: bool = True):
        """``train`` then ``evaluate``; adds ``train_seconds`` (the training's wall time, kept
        in the cache), ``from_cache`` and each replica's ``final_loss`` (one row per replica;
        a single replica's on each of its rows)."""
        trained = self.train(run, force_retrain=force_retrain, progress=progress)
        frame = self.evaluate(trained, run)
        final_loss = trained.loss_history[:, -1]
        frame["train_seconds"] = trained.train_seconds
        frame["from_cache"] = trained.from_cache
        frame["final_loss"] = float(final_loss[0]) if trained.num_replicas == 1 else final_loss
        return frame


def run_grid(
    experiment: Experiment, runs=None, *, progress: bool = True, force_retrain: bool = False
) -> pd.DataFrame:
    """Train (or load from the cache) and evaluate every run of ``experiment`` (its ``grid()``
    by default): the concatenated per-replica results. The results cache and checkpoint
    folders are checked writable first (``writable.check_writable``). JAX's persistent
    compilation cache is on from the start, so that models loaded from the results cache
    (trained by the launcher) share their evaluation programs across repetitions, betas and
    re-runs."""
    runs = experiment.grid() if runs is None else list(runs)
    if not runs:
        raise ValueError("no runs to train: the grid is empty")
    check_writable([cache_root() / "results", cache_root() / "checkpoints"])
    enable_compilation_cache()
    frames = [
        experiment.run(run, force_retrain=force_retrain, progress=progress)
        for run in tqdm(runs, desc="models", disable=not progress)
    ]
    return pd.concat(frames, ignore_index=True)


def diverged_row(run: Run, epoch: int, **keys) -> dict:
    """The result row of a replica that diverged at ``epoch``: the run's model, bound and
    beta, the experiment's other ``keys`` (replica, condition, ...) and no metrics."""
    return {
        "aggregation": run.model,
        "bound": run.bound,
        "beta": run.beta,
        **keys,
        "diverged_epoch": epoch,
    }


def diverged_runs(per_run: pd.DataFrame) -> pd.DataFrame:
    """The replicas of ``run_grid``'s results that diverged, one row each with the epoch
    (empty when none did)."""
    if "diverged_epoch" not in per_run.columns:
        return pd.DataFrame(columns=["aggregation", "bound", "beta", "diverged_epoch"])
    rows = per_run[per_run["diverged_epoch"].notna()]
    keys = [c for c in DIVERGED_KEYS if c in rows.columns]
    return rows[keys].drop_duplicates().astype({"diverged_epoch": int}).reset_index(drop=True)
