"""Modality classifiers for conditional coherence (App. L), as in the MoPoE reference code.

The coherence of generated data is judged by pre-trained classifiers clf_s : X_s -> {0..9}; they
must be accurate for coherence to mean anything. Architectures follow MoPoE's
``mnistsvhntext/networks`` (Sutter et al., 2021), which the paper's MST code uses:

* MNIST (``ClfImg``): three 4x4 stride-2 convolutions (32, 64, 128 channels, no padding, ReLU)
  taking 28 -> 13 -> 5 -> 1, dropout 0.5, Dense(128 -> 10).
* SVHN (``ClfImgSVHN``): four 4x4 stride-2 convolutions (32, 64, 64, 128 channels; padding
  1, 1, 1, 0) each followed by dropout 0.5, batch norm and ReLU, taking 32 -> 16 -> 8 -> 4 -> 1,
  then Dense(128 -> 10).
* Text (``ClfText``, ``dim`` = 64): a 1-wide Conv1d(71 -> 128), two residual blocks
  (128 -> 192, k4 s2 p1; 192 -> 128, k4 s2 p0) taking the length 8 -> 4 -> 1, dropout 0.5,
  Dense(128 -> 10).

MoPoE ends each net with a sigmoid and trains it with binary cross-entropy; here the nets output
logits trained with softmax cross-entropy (the argmax, hence coherence, is unaffected by the
monotone sigmoid). They are trained on the single-modality images of the data in use (real or
stand-in SVHN; text drawn from random labels), cached on disk, and their test accuracies kept.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import jax
import numpy as np
import optax
from flax import nnx
from tqdm.auto import tqdm

from mmvae_nb.data.mnist_svhn_text import MODALITIES, MODALITY_SHAPES, encode_texts
from mmvae_nb.storage import cache_root


class MNISTClassifier(nnx.Module):
    """MoPoE's MNIST classifier (``ClfImg``) on flat (B, 784) pixels in [0, 1] -> logits."""

    def __init__(self, *, rngs: nnx.Rngs):
        widths = (1, 32, 64, 128)
        self.convs = nnx.List(
            [
                nnx.Conv(a, b, (4, 4), strides=2, padding="VALID", rngs=rngs)
                for a, b in zip(widths[:-1], widths[1:])
            ]
        )
        self.dropout = nnx.Dropout(0.5, rngs=rngs)
        self.linear = nnx.Linear(128, 10, rngs=rngs)

    def __call__(self, x):
        h = x.reshape(-1, 28, 28, 1)
        for conv in self.convs:
            h = jax.nn.relu(conv(h))
        return self.linear(self.dropout(h.reshape(h.shape[0], -1)))


class SVHNClassifier(nnx.Module):
    """MoPoE's SVHN classifier (``ClfImgSVHN``) on flat (B, 3072) HWC pixels -> logits."""

    def __init__(self, *, rngs: nnx.Rngs):
        widths, pads = (3, 32, 64, 64, 128), (1, 1, 1, 0)
        self.convs = nnx.List(
            [
                nnx.Conv(a, b, (4, 4), strides=2, padding=((p, p), (p, p)), rngs=rngs)
                for a, b, p in zip(widths[:-1], widths[1:], pads)
            ]
        )
        self.norms = nnx.List([nnx.BatchNorm(b, momentum=0.9, rngs=rngs) for b in widths[1:]])
        self.dropout = nnx.Dropout(0.5, rngs=rngs)
        self.linear = nnx.Linear(128, 10, rngs=rngs)

    def __call__(self, x):
        h = x.reshape(-1, 32, 32, 3)
        for conv, norm in zip(self.convs, self.norms):
            h = jax.nn.relu(norm(self.dropout(conv(h))))
        return self.linear(h.reshape(h.shape[0], -1))


class ResidualBlock1d(nnx.Module):
    """MoPoE's ``ResidualBlockEncoder``: x' + 0.3 conv2(relu(bn2(conv1(relu(bn1(x)))))) with
    x' = bn(conv(x)) when the block changes the shape (its ``downsample``)."""

    def __init__(self, c_in, c_out, kernel, stride, padding, *, rngs):
        self.bn1 = nnx.BatchNorm(c_in, momentum=0.9, rngs=rngs)
        self.conv1 = nnx.Conv(c_in, c_in, (1,), rngs=rngs)
        self.bn2 = nnx.BatchNorm(c_in, momentum=0.9, rngs=rngs)
        pad = ((padding, padding),)
        self.conv2 = nnx.Conv(c_in, c_out, (kernel,), strides=stride, padding=pad, rngs=rngs)
        self.down_conv = nnx.Conv(c_in, c_out, (kernel,), strides=stride, padding=pad, rngs=rngs)
        self.down_bn = nnx.BatchNorm(c_out, momentum=0.9, rngs=rngs)

    def __call__(self, x):
        out = self.conv1(jax.nn.relu(self.bn1(x)))
        out = self.conv2(jax.nn.relu(self.bn2(out)))
        return self.down_bn(self.down_conv(x)) + 0.3 * out


class TextClassifier(nnx.Module):
    """MoPoE's text classifier (``ClfText``, dim 64) on flat (B, 8 x 71) one-hot -> logits."""

    def __init__(self, *, rngs: nnx.Rngs, dim: int = 64):
        length, alphabet = MODALITY_SHAPES[2]
        self.shape = (length, alphabet)
        self.conv = nnx.Conv(alphabet, 2 * dim, (1,), rngs=rngs)
        self.block1 = ResidualBlock1d(2 * dim, 3 * dim, 4, 2, 1, rngs=rngs)
        self.block2 = ResidualBlock1d(3 * dim, 2 * dim, 4, 2, 0, rngs=rngs)
        self.dropout = nnx.Dropout(0.5, rngs=rngs)
        self.linear = nnx.Linear(2 * dim, 10, rngs=rngs)

    def __call__(self, x):
        h = self.block2(self.block1(self.conv(x.reshape(-1, *self.shape))))
        return self.linear(self.dropout(h.reshape(h.shape[0], -1)))


CLASSIFIERS = dict(zip(MODALITIES, (MNISTClassifier, SVHNClassifier, TextClassifier)))


@nnx.jit
def _train_step(model, optimizer, x, y):
    def loss_fn(model):
        logits = model(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    loss, grads = nnx.value_and_grad(loss_fn)(model)
    optimizer.update(model, grads)
    return loss


@nnx.jit
def _logits(model, x):
    return model(x)


def predict(model, x, batch_size: int = 1000) -> np.ndarray:
    """The predicted labels (n,) of flat inputs ``x`` (n, D_s), in evaluation mode."""
    model.eval()
    x = np.asarray(x, np.float32)
    out = [
        np.argmax(_logits(model, x[i : i + batch_size]), -1) for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(out) if out else np.zeros((0,), np.int64)


@dataclass
class TrainedClassifier:
    """A classifier, its test accuracy and its training time (0 when loaded from the cache)."""

    model: nnx.Module
    test_accuracy: float
    train_seconds: float

    def predict(self, x) -> np.ndarray:
        return predict(self.model, x)


def train_classifier(
    modality: str,
    train_x,
    train_y,
    test_x,
    test_y,
    *,
    epochs: int = 3,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
) -> TrainedClassifier:
    """Train ``CLASSIFIERS[modality]`` with Adam and softmax cross-entropy on flat inputs
    (float32 in [0, 1] / one-hot) and report its accuracy on the test inputs."""
    if modality not in CLASSIFIERS:
        raise ValueError(f"unknown modality {modality!r}; choose one of {MODALITIES}")
    model = CLASSIFIERS[modality](rngs=nnx.Rngs(seed))
    model, seconds = fit_classifier(
        model,
        train_x,
        train_y,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
        progress=progress,
        description=f"{modality} classifier",
    )
    _check_lengths(test_x, test_y)
    accuracy = float(np.mean(predict(model, test_x) == np.asarray(test_y)))
    return TrainedClassifier(model, accuracy, seconds)


def _check_lengths(x, y) -> None:
    if len(x) != len(y):
        raise ValueError("inputs and labels differ in length")


def fit_classifier(
    model: nnx.Module,
    train_x,
    train_y,
    *,
    epochs: int,
    batch_size: int = 128,
    learning_rate: float = 1e-3,
    seed: int = 0,
    progress: bool = False,
    description: str = "classifier",
) -> tuple[nnx.Module, float]:
    """Adam on the mean softmax cross-entropy of ``model(x)`` logits (..., 10) against integer
    labels of the same leading shape (one label per head for multi-head nets): (model, seconds)."""
    _check_lengths(train_x, train_y)
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    rng = np.random.default_rng(seed)
    start = time.perf_counter()
    model.train()
    steps = epochs * (len(train_x) // batch_size)
    with tqdm(total=steps, desc=description, disable=not progress) as bar:
        for _ in range(epochs):
            order = rng.permutation(len(train_x))
            for i in range(len(train_x) // batch_size):
                index = order[i * batch_size : (i + 1) * batch_size]
                loss = _train_step(model, optimizer, train_x[index], train_y[index])
                bar.update()
            bar.set_postfix(loss=float(loss))
    return model, time.perf_counter() - start


def text_inputs(labels, seed: int = 0) -> np.ndarray:
    """Flat one-hot text inputs (n, 568) for ``labels``, words at random offsets."""
    return encode_texts(labels, np.random.default_rng(seed)).reshape(len(labels), -1)


_SAVED = (nnx.Param, nnx.BatchStat)  # what a cached classifier needs (not its dropout keys)


def save_classifiers(path, classifiers: dict[str, TrainedClassifier]) -> None:
    """Cache the classifiers' weights and batch statistics (data only: ``cache.save_arrays``)
    and their test accuracies, atomically."""
    from mmvae_nb.training.cache import save_arrays, state_arrays

    arrays = {}
    for m, classifier in classifiers.items():
        arrays.update(state_arrays(nnx.state(classifier.model, _SAVED), prefix=f"{m}/"))
    header = {"test_accuracy": {m: float(c.test_accuracy) for m, c in classifiers.items()}}
    save_arrays(path, arrays, header)


def load_classifiers(path) -> dict[str, TrainedClassifier]:
    """The classifiers ``save_classifiers`` wrote, rebuilt from this code's architectures;
    ``cache.UnreadableEntry`` if the entry cannot be read back."""
    from mmvae_nb.training.cache import UnreadableEntry, load_arrays, restore_state

    header, arrays = load_arrays(path)
    out = {}
    for m in MODALITIES:
        model = CLASSIFIERS[m](rngs=nnx.Rngs(0))
        state = nnx.state(model, _SAVED)
        restore_state(state, arrays, prefix=f"{m}/", where=str(path))
        nnx.update(model, state)
        try:
            out[m] = TrainedClassifier(model, header["test_accuracy"][m], 0.0)
        except (KeyError, TypeError) as error:
            raise UnreadableEntry(f"{path}: no test accuracy of {m}") from error
    return out


def modality_sets(data, text_seed: int):
    """Flat single-modality inputs and labels of a triples data set: its unique MNIST and SVHN
    images, and one text per MNIST label (a fresh offset each)."""
    mnist_labels = np.zeros(len(data.mnist), np.int64)
    mnist_labels[data.pairs[:, 0]] = data.labels
    svhn_labels = np.zeros(len(data.svhn), np.int64)
    svhn_labels[data.pairs[:, 1]] = data.labels
    mnist_used, svhn_used = np.unique(data.pairs[:, 0]), np.unique(data.pairs[:, 1])
    flat = lambda a: a.reshape(len(a), -1).astype(np.float32) / 255.0  # noqa: E731
    return {
        "MNIST": (flat(data.mnist[mnist_used]), mnist_labels[mnist_used]),
        "SVHN": (flat(data.svhn[svhn_used]), svhn_labels[svhn_used]),
        "Text": (text_inputs(mnist_labels[mnist_used], text_seed), mnist_labels[mnist_used]),
    }


def mst_classifiers(
    train,
    test,
    *,
    epochs: int = 3,
    seed: int = 0,
    cache_dir=None,
    force_retrain: bool = False,
    progress: bool = False,
) -> dict[str, TrainedClassifier]:
    """The MNIST, SVHN and text classifiers for the triples ``train`` / ``test``
    (``MnistSvhnText``): trained on the images the triples use, tested on the test split's,
    and cached on disk by the data and settings (a re-run loads them)."""
    from mmvae_nb.training.cache import config_hash, load_cached

    fingerprint = [hashlib.sha256(d.pairs.tobytes()).hexdigest() for d in (train, test)]
    key = config_hash("classifiers", train.dataset, fingerprint, epochs, seed)
    path = cache_root(cache_dir) / "classifiers" / f"{key}.npz"
    cached = None if force_retrain else load_cached(path, load_classifiers)
    if cached is not None:
        return cached
    train_sets, test_sets = modality_sets(train, seed), modality_sets(test, seed + 1)
    out = {
        m: train_classifier(
            m, *train_sets[m], *test_sets[m], epochs=epochs, seed=seed, progress=progress
        )
        for m in MODALITIES
    }
    save_classifiers(path, out)
    return out
