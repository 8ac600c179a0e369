"""MNIST-SVHN-Text's data in use and its evaluation classifiers (Section 5.3, App. O).

``MSTSetup`` loads the triples of a profile (``config.get_config``), trains or loads the MoPoE
classifiers that judge coherence, and reports what the data are made of: MNIST is always real,
SVHN is real (``svhn="real"``) or the synthetic stand-in, and the text is synthetic by
construction (as in MoPoE).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from mmvae_nb.data.mnist_svhn_text import MODALITIES, MnistSvhnText, load_mnist_svhn_text
from mmvae_nb.evaluation.classifiers import mst_classifiers
from mmvae_nb.experiments.mnist_svhn_text.config import get_config


@dataclass
class MSTSetup:
    """The MNIST-SVHN-Text data and classifiers of one profile."""

    profile: str
    seed: int = 0
    overrides: dict = field(default_factory=dict)
    progress: bool = False

    def __post_init__(self):
        self.config = get_config(self.profile, **self.overrides)

    def _load(self, split: str, size) -> MnistSvhnText:
        cfg = self.config
        return load_mnist_svhn_text(
            split,
            cfg.data.svhn,
            dups=cfg.data.dups,
            svhn_size=size,
            seed=self.seed,
            progress=self.progress,
        )

    @cached_property
    def train_data(self) -> MnistSvhnText:
        return self._load("train", self.config.data.svhn_size)

    @cached_property
    def test_data(self) -> MnistSvhnText:
        return self._load("test", self.config.data.svhn_test_size)

    @property
    def dataset(self) -> str:
        return self.train_data.dataset

    def composition(self) -> pd.DataFrame:
        """How much of each split is real: images per modality and their source."""
        rows = []
        for data in (self.train_data, self.test_data):
            svhn_real = self.config.data.svhn == "real"
            rows += [
                (data.split, "MNIST", len(np.unique(data.pairs[:, 0])), "real (LeCun et al.)"),
                (
                    data.split,
                    "SVHN",
                    len(np.unique(data.pairs[:, 1])),
                    "real (Netzer et al.)" if svhn_real else "synthetic stand-in",
                ),
                (data.split, "Text", len(data), "synthetic (MoPoE protocol)"),
                (data.split, "triples", len(data), f"{self.config.data.dups} matchings per label"),
            ]
        return pd.DataFrame(rows, columns=["split", "modality", "distinct examples", "source"])

    def epoch_seconds(self, batch_size: int = 250) -> float:
        """Wall time of one pass of the data pipeline over the training triples (no model)."""
        rng = np.random.default_rng(self.seed)
        start = time.perf_counter()
        for _ in self.train_data.batches(batch_size, rng):
            pass
        return time.perf_counter() - start

    @cached_property
    def classifiers(self):
        return mst_classifiers(
            self.train_data,
            self.test_data,
            epochs=self.config.evaluation.classifier_epochs,
            seed=self.seed,
            progress=self.progress,
        )

    def classifier_table(self) -> pd.DataFrame:
        """Test accuracy of each modality classifier, with the data it was judged on."""
        return pd.DataFrame(
            [(self.dataset, m, self.classifiers[m].test_accuracy) for m in MODALITIES],
            columns=["dataset", "modality", "test_accuracy"],
        )
