"""The relational model on PolyMNIST (Sutter & Vogt, Section 5; notebook 05).

``RelationalExperiment`` trains, per PolyMNIST variant (vanilla, extended), the rows of
``ROWS``: mrVAE with its ELBO (eq. 4, ``models.relational``), MoPoE with MoPoE's objective (the
seed's baseline) and, beyond the seed, this project's aggregators with the masked bound (MoPoE
with it, SumPooling, and SumPooling with permutation-equivariant private latents, App. F), all
with the same encoders and decoders (``models.polymnist_nets``). Each training keeps the epoch
with the lowest test loss (App. E.3: "we evaluated the model at the point in training which
leads to the lowest test loss"), on ``selection_size`` test tuples.

Evaluation on ``eval_size`` test tuples, as tidy rows (``metric``, ``target``, ``inputs``,
``value``; ``block`` is the variant):

* ``coherence`` of the generated x_0's main digit (target ``x_0``) from the input sets of the
  seed's Tables 1 and 2, and on extended data of its corner digits (``x_0 top-left``: shared
  with x_4, ``x_0 top-right``: shared with x_1), read by the per-modality classifiers;
* ``FID_METRIC``: the Fréchet distance between the generated and the real x_0 in the features
  of our PolyMNIST classifier of x_0 trained on *vanilla* data, for both variants, so that the
  seed's vanilla-vs-extended comparison (Table 2a vs 2b) is made in one feature space
  (``evaluation.fid``; the seed's Inception FID cannot be computed offline, and numbers in
  different feature spaces are not comparable, orderings are);
* with ``inception_weights`` (the path of pytorch-fid's Inception weights, which a user supplies),
  also ``INCEPTION_FID_METRIC``: the seed's FID itself, in Inception-v3 pool features
  (``evaluation.inception``), which joins the seed's Table 2 cell by cell (on substitute
  backgrounds and ``eval_size`` images: FID is biased upwards at small sample sizes);
* for mrVAE, ``subspace_size``: the mean most probable n_A (target: the subset A) given every
  modality, against ``data.polymnist.shared_subsets`` (which subsets truly share a digit).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property, partial

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from flax import nnx

from mmvae_nb.data.polymnist import (
    BACKGROUNDS,
    DATASET_NAMES,
    NUM_MODALITIES,
    PolyMNIST,
    check_variant,
    make_polymnist,
    shared_subsets,
)
from mmvae_nb.evaluation.coherence import vae_generator
from mmvae_nb.evaluation.fid import frechet_distance
from mmvae_nb.evaluation.inception import InceptionFeatures
from mmvae_nb.evaluation.polymnist_classifiers import (
    HEADS,
    accuracy_table,
    features,
    polymnist_classifiers,
)
from mmvae_nb.experiments.base import Experiment, Run, diverged_row
from mmvae_nb.experiments.relational.config import get_config
from mmvae_nb.experiments.table_specs import TableSpec
from mmvae_nb.models.aggregators import aggregator_spec
from mmvae_nb.models.builders import AggregatorConfig, LatentLayout, build_vae
from mmvae_nb.models.hypergeometric import get_subspace_size_prior
from mmvae_nb.models.polymnist_nets import PolyMNISTDecoder, PolyMNISTEncoder
from mmvae_nb.models.relational import RelationalVAE
from mmvae_nb.objectives.bounds import get_bound
from mmvae_nb.training.streaming import train_streaming


@dataclass(frozen=True)
class Row:
    """A row of the relational tables: the model (an aggregator of the registry, or mrVAE),
    the objective it trains, and whether its latents are shared + private."""

    aggregation: str
    bound: str
    private: bool = False

    @property
    def run(self) -> Run:
        return Run(self.aggregation, self.bound, private=self.private)


MRVAE = "mrVAE"
ROWS = {
    MRVAE: Row(MRVAE, "relational"),
    "MoPoE": Row("MoPoE", "mopoe"),
    "MoPoE (our bound)": Row("MoPoE", "ours"),
    "SumPooling": Row("SumPooling", "ours"),
    "SumPooling (private)": Row("SumPooling (equivariant)", "ours", private=True),
}
FID_METRIC = "fid_polymnist_features"  # Fréchet distance in our classifier's features
INCEPTION_FID_METRIC = "fid"  # the seed's FID, in Inception features (weights supplied)
# the seed's input sets: Table 1 (coherence of x_0) and Table 2 (FID of x_0)
COHERENCE_INPUTS = ((0,), (0, 1), (0, 1, 2))
FID_INPUTS = ((0,), (1,), (1, 2))
EVALUATED_INPUTS = tuple(dict.fromkeys(COHERENCE_INPUTS + FID_INPUTS))


def subset_label(subset) -> str:
    """(0, 1) -> "x_0+x_1", the seed's X_{0,1}."""
    return "+".join(f"x_{m}" for m in subset)


def make_relational_model(row: str, config, *, rngs: nnx.Rngs):
    """The model of ``row`` (``ROWS``) with the PolyMNIST encoders and decoders."""
    if row not in ROWS:
        raise ValueError(f"unknown relational row {row!r}; choose one of {list(ROWS)}")
    spec, m = ROWS[row], NUM_MODALITIES
    encoder = partial(PolyMNISTEncoder, channels=config.conv_channels)
    decoder = partial(PolyMNISTDecoder, channels=config.conv_channels)
    if spec.aggregation == MRVAE:
        d = config.subspace_dim
        decoder_dim = d * 2 ** (m - 1)
        return RelationalVAE(
            [encoder(2 * d, rngs=rngs) for _ in range(m)],
            [decoder(decoder_dim, rngs=rngs) for _ in range(m)],
            d,
            rngs=rngs,
            hidden=config.relation_hidden,
            temperature=config.temperature,
            learned_selection_reverse=config.learned_selection_reverse,
            size_prior=config.size_prior,
            global_selections=config.global_selections,
        )
    private = config.private_dim if spec.private else 0
    learnable = aggregator_spec(spec.aggregation).learnable
    options = {"hidden_dim": config.pooling_hidden} if learnable else {}
    return build_vae(
        [encoder] * m,
        [decoder] * m,
        AggregatorConfig(spec.aggregation, options, config.pooling_hidden),
        LatentLayout(config.latent_dim, private),
        rngs=rngs,
    )


def _row_name(run: Run) -> str:
    for name, row in ROWS.items():
        if row.run == run:
            return name
    raise ValueError(f"{run} is not a row of the relational grid ({list(ROWS)})")


@nnx.jit(static_argnames="bound")
def _objective(model, xs, key, bound):
    present = jnp.ones((xs[0].shape[0], len(xs)), bool)
    return jnp.mean(get_bound(bound)(model, xs, present, key))


def _check_rows(names) -> None:
    unknown = sorted(set(names) - set(ROWS))
    if unknown:
        raise ValueError(f"unknown relational rows {unknown}; choose from {list(ROWS)}")


@nnx.jit
def _relational_generate(model, xs, inputs, key):
    return model.generate(xs, inputs, key)


def _generator(model):
    """``generate(xs, mask, key)`` -> every decoder's mean: mrVAE's own, or the multi-modal
    VAE's (``coherence.vae_generator``)."""
    if isinstance(model, RelationalVAE):
        return lambda xs, inputs, key: _relational_generate(model, xs, inputs, key)
    return vae_generator(model)


@nnx.jit
def _sizes(model, xs, key):
    present = jnp.ones((xs[0].shape[0], len(xs)), bool)
    sample, _ = model.sample_structure(xs, present, key, hard=True)
    return sample.sizes


def _batches(data: PolyMNIST, batch_size: int):
    for start in range(0, len(data), batch_size):
        yield [
            jnp.asarray(data.flat(m)[start : start + batch_size]) for m in range(len(data.images))
        ]


@dataclass
class RelationalExperiment(Experiment):
    """Trains and evaluates the relational rows on one PolyMNIST variant of one profile."""

    name = "relational"
    profile: str = "quick"
    variant: str = "vanilla"
    seed: int = 0
    overrides: dict = field(default_factory=dict)
    progress: bool = True
    force_retrain: bool = False
    batch_size_eval: int = 250
    inception_weights: str = ""  # pytorch-fid's Inception weights: adds the seed's own FID

    def __post_init__(self):
        check_variant(self.variant)
        self.config = get_config(self.profile, **self.overrides)
        _check_rows(self.config.grid.rows)
        get_subspace_size_prior(self.config.model.size_prior)  # an unknown prior fails here
        # loaded now, so that a wrong path or a missing library fails before any training
        weights = self.inception_weights
        self.inception = InceptionFeatures(weights) if weights else None

    # ------------------------------------------------------------------ data
    @cached_property
    def train_data(self) -> PolyMNIST:
        return make_polymnist(self.variant, "train", self.config.data.train_size, self.seed)

    @cached_property
    def test_data(self) -> PolyMNIST:
        return make_polymnist(self.variant, "test", self.config.data.test_size, self.seed)

    @property
    def dataset(self) -> str:
        return DATASET_NAMES[self.variant]

    @cached_property
    def classifiers(self):
        return polymnist_classifiers(
            self.train_data,
            self.test_data,
            epochs=self.config.evaluation.classifier_epochs,
            seed=self.seed,
            progress=self.progress,
        )

    @cached_property
    def feature_network(self):
        """The FID feature space: the classifier of x_0 on vanilla data of this profile's sizes
        (the same network for both variants; on vanilla data it is ``classifiers[0]``)."""
        if self.variant == "vanilla":
            return self.classifiers[0]
        size = self.config.data
        return polymnist_classifiers(
            make_polymnist("vanilla", "train", size.train_size, self.seed),
            make_polymnist("vanilla", "test", size.test_size, self.seed),
            epochs=self.config.evaluation.classifier_epochs,
            seed=self.seed,
            progress=self.progress,
        )[0]

    @cached_property
    def real_inception_features(self) -> np.ndarray:
        """Inception pool features of the evaluation tuples' x_0 (with ``inception_weights``)."""
        return self.inception(self.evaluation_data.flat(0))

    def classifier_table(self) -> pd.DataFrame:
        return accuracy_table(self.classifiers, self.variant)

    @cached_property
    def evaluation_data(self) -> PolyMNIST:
        return self.test_data.subset(min(self.config.evaluation.eval_size, len(self.test_data)))

    @cached_property
    def selection_data(self) -> PolyMNIST:
        size = min(self.config.evaluation.selection_size, len(self.test_data))
        return self.test_data.subset(size)

    # ------------------------------------------------------------------ training
    def grid(self, rows=None) -> list[Run]:
        """The rows of the profile (``config.grid.rows``) or the given ones, as runs."""
        names = self.config.grid.rows if rows is None else rows
        _check_rows(names)
        return [ROWS[name].run for name in names]

    def test_loss(self, bound: str, model) -> float:
        """The negative objective on the selection tuples, with a fixed key (App. E.3)."""
        key = jax.random.key(self.seed)
        values = [
            float(_objective(model, xs, jax.random.fold_in(key, i), bound))
            for i, xs in enumerate(_batches(self.selection_data, self.batch_size_eval))
        ]
        return -float(np.mean(values))

    def train(self, run: Run, *, force_retrain=False, progress=True):
        row = _row_name(run)
        cfg = self.config
        config = cfg.training.train_config(bound=run.bound, beta=run.beta, seed=self.seed)
        return train_streaming(
            lambda k: make_relational_model(row, cfg.model, rngs=nnx.Rngs(k)),
            self.train_data,
            config,
            cache_key=self.cache_key(run, config, self.variant, BACKGROUNDS),
            force_retrain=force_retrain or self.force_retrain,
            progress=progress and self.progress,
            description=f"{row} on {self.variant}",
            select_on=partial(self.test_loss, run.bound),
        )

    # ------------------------------------------------------------------ evaluation
    def generate(self, model, subset, key) -> list[np.ndarray]:
        """Every modality's decoder mean given the modalities ``subset`` of the evaluation
        tuples (flat images)."""
        out = [[] for _ in range(NUM_MODALITIES)]
        generate = _generator(model)
        for i, xs in enumerate(_batches(self.evaluation_data, self.batch_size_eval)):
            inputs = jnp.zeros((xs[0].shape[0], NUM_MODALITIES), bool).at[:, list(subset)].set(True)
            for m, x in enumerate(generate(xs, inputs, jax.random.fold_in(key, i))):
                out[m].append(np.asarray(x))
        return [np.concatenate(parts) for parts in out]

    def evaluate_model(self, model, key) -> pd.DataFrame:
        """Coherence and FID of the generated x_0 per input set; mrVAE's subspace sizes."""
        data, clf = self.evaluation_data, self.classifiers[0]
        truth = np.concatenate([data.labels[:, None], data.modality_corner_labels(0)], axis=1)
        targets = ["x_0", *(f"x_0 {h}" for h in HEADS["extended"][1:])]
        heads = len(HEADS[self.variant])
        network = self.feature_network
        real = features(network, data.flat(0))
        rows = []
        for s, subset in enumerate(EVALUATED_INPUTS):
            generated = self.generate(model, subset, jax.random.fold_in(key, s))[0]
            predicted = clf.predict(generated)
            inputs = subset_label(subset)
            for h in range(heads):
                value = float(np.mean(predicted[:, h] == truth[:, h]))
                rows.append(("coherence", targets[h], inputs, value))
            if subset in FID_INPUTS:
                distance = frechet_distance(features(network, generated), real)
                rows.append((FID_METRIC, "x_0", inputs, distance))
                if self.inception:
                    fake = self.inception(generated)  # sigmoid decoder means, in [0, 1]
                    fid = frechet_distance(fake, self.real_inception_features)
                    rows.append((INCEPTION_FID_METRIC, "x_0", inputs, fid))
        if isinstance(model, RelationalVAE):
            rows += self.subspace_sizes(model, jax.random.fold_in(key, 99))
        return pd.DataFrame(rows, columns=["metric", "target", "inputs", "value"])

    def subspace_sizes(self, model: RelationalVAE, key) -> list[tuple]:
        """The mean most probable n_A per subset A given every modality (``subspace_size``)."""
        sizes = np.concatenate(
            [
                np.asarray(_sizes(model, xs, jax.random.fold_in(key, i)))
                for i, xs in enumerate(_batches(self.evaluation_data, self.batch_size_eval))
            ]
        )
        labels = [subset_label(np.flatnonzero(a)) for a in model.subsets]
        return [("subspace_size", a, "", float(v)) for a, v in zip(labels, sizes.mean(0))]

    def evaluate(self, trained, run: Run) -> pd.DataFrame:
        keys = {"block": self.variant, "replica": 0}
        if (epoch := trained.diverged_epoch(0)) is not None:
            return pd.DataFrame([diverged_row(run, epoch, **keys)])
        metrics = self.evaluate_model(trained.model(0), jax.random.key(self.seed + 1))
        selected = (trained.selection or {}).get("epoch", trained.loss_history.shape[1])
        return metrics.assign(
            aggregation=run.model,
            bound=run.bound,
            beta=float(run.beta),
            prior=run.prior,
            private=run.private,
            selected_epoch=selected,
            **keys,
        )


def true_sharing(variant: str, num_modalities: int = NUM_MODALITIES) -> dict[str, bool]:
    """Per subset label: whether its modalities truly share a digit in ``variant``."""
    shared = set(shared_subsets(variant, num_modalities))
    out = {}
    for code in range(1, 2**num_modalities):
        members = frozenset(m for m in range(num_modalities) if code >> m & 1)
        out[subset_label(sorted(members))] = members in shared
    return out


TABLES = {
    "relational_table01_polymnist_coherence": TableSpec(
        1,
        "Coherence of the generated x_0 (main digit)",
        ("coherence",),
        {"target": "x_0", "inputs": tuple(subset_label(s) for s in COHERENCE_INPUTS)},
        None,
        columns=("block", "inputs"),
    ),
    "relational_table02_polymnist_fid": TableSpec(
        2,
        "Fréchet distance of the generated x_0 in our vanilla x_0 classifier's features "
        "(the paper: Inception FID; not comparable in value); metric fid, where present: "
        "Inception FID from supplied weights",
        (FID_METRIC, INCEPTION_FID_METRIC),
        {"inputs": tuple(subset_label(s) for s in FID_INPUTS)},
        None,
        columns=("block", "inputs"),
    ),
}
