"""PolyMNIST classifiers: per modality, the main digit and (extended data) both corner digits.

**choice**: one network per modality with one 10-way head per digit it shows (main; top-left
and top-right corners on extended data): two 4 x 4 stride-2 convolutions (32, 64 channels,
SAME, ReLU), Dense 3136 -> 128 (ReLU), dropout 0.5, Dense 128 -> 10 per head. Trained on the
training split's images of that modality, tested on the test split's; cached on disk (data only).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import jax
import numpy as np
import pandas as pd
from flax import nnx

from mmvae_nb.data.polymnist import IMAGE_SHAPE, PolyMNIST
from mmvae_nb.evaluation.classifiers import fit_classifier, predict
from mmvae_nb.models.conv import StridedConv
from mmvae_nb.storage import cache_root

HEADS = {"vanilla": ("main",), "extended": ("main", "top-left", "top-right")}


class PolyMNISTClassifier(nnx.Module):
    """Flat (B, 2352) images -> logits (B, heads, 10)."""

    def __init__(self, heads: int, *, rngs: nnx.Rngs):
        self.convs = nnx.List([StridedConv(3, 32, rngs=rngs), StridedConv(32, 64, rngs=rngs)])
        self.hidden = nnx.Linear(7 * 7 * 64, 128, rngs=rngs)
        self.dropout = nnx.Dropout(0.5, rngs=rngs)
        self.out = nnx.Linear(128, 10 * heads, rngs=rngs)
        self.heads = heads

    def features(self, x):
        """The 128 hidden features (before dropout): the FID feature space (``fid``)."""
        h = x.reshape(-1, *IMAGE_SHAPE)
        for conv in self.convs:
            h = jax.nn.relu(conv(h))
        return jax.nn.relu(self.hidden(h.reshape(h.shape[0], -1)))

    def __call__(self, x):
        return self.out(self.dropout(self.features(x))).reshape(-1, self.heads, 10)


@dataclass
class ModalityClassifier:
    """One modality's classifier and its test accuracy per head."""

    model: PolyMNISTClassifier
    test_accuracy: dict[str, float]
    train_seconds: float

    def predict(self, x) -> np.ndarray:
        """(n, heads) predicted digits."""
        return predict(self.model, x)


def targets(data: PolyMNIST, m: int) -> np.ndarray:
    """(n, heads) the digits modality m shows: main, and on extended data its two corners."""
    if data.variant == "vanilla":
        return data.labels[:, None]
    return np.concatenate([data.labels[:, None], data.modality_corner_labels(m)], axis=1)


def polymnist_classifiers(
    train: PolyMNIST,
    test: PolyMNIST,
    *,
    epochs: int = 2,
    seed: int = 0,
    cache_dir=None,
    force_retrain: bool = False,
    progress: bool = False,
) -> list[ModalityClassifier]:
    """One classifier per modality (cached by the data and settings)."""
    from mmvae_nb.training.cache import config_hash, load_cached

    fingerprint = [hashlib.sha256(d.images[0][:64].tobytes()).hexdigest() for d in (train, test)]
    key = config_hash(
        "polymnist-classifiers", train.variant, len(train), len(test), fingerprint, epochs, seed
    )
    path = cache_root(cache_dir) / "classifiers" / f"{key}.npz"
    heads = HEADS[train.variant]
    cached = None if force_retrain else load_cached(path, lambda p: _load(p, heads))
    if cached is not None:
        return cached
    out = []
    for m in range(len(train.images)):
        model = PolyMNISTClassifier(len(heads), rngs=nnx.Rngs(seed + m))
        model, seconds = fit_classifier(
            model,
            train.flat(m),
            targets(train, m),
            epochs=epochs,
            seed=seed,
            progress=progress,
            description=f"modality {m} classifier",
        )
        correct = predict(model, test.flat(m)) == targets(test, m)
        accuracy = dict(zip(heads, map(float, correct.mean(axis=0))))
        out.append(ModalityClassifier(model, accuracy, seconds))
    _save(path, out)
    return out


_SAVED = (nnx.Param,)


def _save(path, classifiers: list[ModalityClassifier]) -> None:
    from mmvae_nb.training.cache import save_arrays, state_arrays

    arrays = {}
    for m, c in enumerate(classifiers):
        arrays.update(state_arrays(nnx.state(c.model, _SAVED), prefix=f"{m}/"))
    save_arrays(path, arrays, {"test_accuracy": [c.test_accuracy for c in classifiers]})


def _load(path, heads) -> list[ModalityClassifier]:
    from mmvae_nb.training.cache import UnreadableEntry, load_arrays, restore_state

    header, arrays = load_arrays(path)
    accuracies = header.get("test_accuracy")
    if not isinstance(accuracies, list):
        raise UnreadableEntry(f"{path}: no test accuracies")
    out = []
    for m, accuracy in enumerate(accuracies):
        model = PolyMNISTClassifier(len(heads), rngs=nnx.Rngs(0))
        state = nnx.state(model, _SAVED)
        restore_state(state, arrays, prefix=f"{m}/", where=str(path))
        nnx.update(model, state)
        out.append(ModalityClassifier(model, accuracy, 0.0))
    return out


def accuracy_table(classifiers: list[ModalityClassifier], dataset: str) -> pd.DataFrame:
    """Test accuracy per modality and head (one row each)."""
    rows = [
        (dataset, f"x_{m}", head, acc)
        for m, c in enumerate(classifiers)
        for head, acc in c.test_accuracy.items()
    ]
    return pd.DataFrame(rows, columns=["dataset", "modality", "digit", "test_accuracy"])


@nnx.jit
def _features(model, x):
    return model.features(x)


def features(classifier: ModalityClassifier, images, batch_size: int = 1000) -> np.ndarray:
    """(n, 128) hidden features of flat images (the FID feature space)."""
    classifier.model.eval()
    x = np.asarray(images, np.float32)
    chunks = [
        _features(classifier.model, x[i : i + batch_size]) for i in range(0, len(x), batch_size)
    ]
    return np.concatenate([np.asarray(c) for c in chunks])
