"""The MoPoE modality classifiers: architectures, learning the stand-in, the cache."""

import numpy as np
import optax
import pytest
from flax import nnx

from mmvae_nb.data.mnist_svhn_text import MODALITY_DIMS, load_mnist_svhn_text
from mmvae_nb.evaluation.classifiers import (
    CLASSIFIERS,
    SVHNClassifier,
    modality_sets,
    mst_classifiers,
    predict,
    train_classifier,
)
from mmvae_nb.experiments.mnist_svhn_text.config import MNIST_SVHN_TEXT

SMOKE_DATA = MNIST_SVHN_TEXT["smoke"].data  # 6,000 training and 500 test triples


def _smoke_sets():
    """Flat single-modality (inputs, labels) of the smoke profile's train and test triples."""
    kwargs = {"dups": SMOKE_DATA.dups}
    train = load_mnist_svhn_text("train", svhn_size=SMOKE_DATA.svhn_size, **kwargs)
    test = load_mnist_svhn_text("test", svhn_size=SMOKE_DATA.svhn_test_size, **kwargs)
    return train, test


@pytest.mark.parametrize("modality", list(CLASSIFIERS))
def test_classifiers_map_flat_inputs_to_ten_logits(modality):
    dim = MODALITY_DIMS[list(CLASSIFIERS).index(modality)]
    model = CLASSIFIERS[modality](rngs=nnx.Rngs(0))
    model.eval()
    x = np.random.default_rng(0).random((3, dim), dtype=np.float32)
    logits = model(x)
    assert logits.shape == (3, 10)
    # evaluation mode is deterministic (no dropout, running batch statistics)
    np.testing.assert_array_equal(logits, model(x))


@pytest.mark.parametrize(("modality", "threshold"), [("MNIST", 0.8), ("Text", 0.9)])
def test_mnist_and_text_classifiers_learn_in_one_epoch(modality, threshold):
    """train_classifier (dropout on, Adam) on the smoke profile's images: one epoch is enough;
    chance is ~0.1-0.2 (the most frequent digit)."""
    train, test = _smoke_sets()
    (x, y), (x_test, y_test) = modality_sets(train, 0)[modality], modality_sets(test, 1)[modality]
    trained = train_classifier(modality, x, y, x_test, y_test, epochs=1)
    assert trained.test_accuracy > threshold and trained.train_seconds > 0


def test_svhn_architecture_learns_the_stand_in_without_dropout():
    """MoPoE's SVHN net with dropout after every convolution stays at chance level for its first
    ~300 Adam steps (the quick profile trains it for 5 epochs: >= 90 %); with its dropout off,
    80 steps of batch 64 take it well above chance (0.68 measured), so the convolutions, batch
    norms and the HWC layout of the flat inputs learn."""
    train, test = _smoke_sets()
    (x, y), (x_test, y_test) = modality_sets(train, 0)["SVHN"], modality_sets(test, 1)["SVHN"]
    model = SVHNClassifier(rngs=nnx.Rngs(0))
    optimizer = nnx.Optimizer(model, optax.adam(1e-3), wrt=nnx.Param)
    model.train()
    model.dropout.deterministic = True

    @nnx.jit
    def step(model, optimizer, x, y):
        def loss_fn(model):
            return optax.softmax_cross_entropy_with_integer_labels(model(x), y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    rng = np.random.default_rng(0)
    for _ in range(80):
        index = rng.choice(len(x), 64, replace=False)
        step(model, optimizer, x[index], y[index])
    accuracy = np.mean(predict(model, x_test) == y_test)
    assert accuracy > 0.45, accuracy  # chance is ~0.2 (the most frequent digit, 1)


def test_classifiers_are_cached_by_data_and_settings(tmp_path):
    """A second call loads the three classifiers (no training) with the same predictions; other
    training data is another cache entry."""
    train, test = _smoke_sets()
    # two Adam steps of batch 128 per classifier: the cache, not learning, is under test
    small, tiny_test = train.subset(256), test.subset(100)
    first = mst_classifiers(small, tiny_test, epochs=1, cache_dir=tmp_path)
    again = mst_classifiers(small, tiny_test, epochs=1, cache_dir=tmp_path)
    xs, _ = tiny_test.batch(np.arange(50), np.random.default_rng(0))
    for m, x in zip(CLASSIFIERS, xs):
        assert first[m].train_seconds > 0 and again[m].train_seconds == 0.0
        assert again[m].test_accuracy == first[m].test_accuracy
        np.testing.assert_array_equal(again[m].predict(x), first[m].predict(x))
    other = mst_classifiers(train.subset(256, seed=1), tiny_test, epochs=1, cache_dir=tmp_path)
    assert all(c.train_seconds > 0 for c in other.values())
    # an unreadable entry (data only: a truncated archive) is named, retrained and replaced
    (entry, _) = sorted((tmp_path / "classifiers").glob("*.npz"), key=lambda p: p.stat().st_mtime)
    entry.write_bytes(entry.read_bytes()[:100])
    with pytest.warns(UserWarning, match=f"unreadable cache entry, retraining: {entry}"):
        retrained = mst_classifiers(small, tiny_test, epochs=1, cache_dir=tmp_path)
    for m, x in zip(CLASSIFIERS, xs):
        assert retrained[m].train_seconds > 0
        np.testing.assert_array_equal(retrained[m].predict(x), first[m].predict(x))


def test_bad_classifier_arguments_are_clear_errors():
    x, y = np.zeros((4, 784), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="unknown modality"):
        train_classifier("Audio", x, y, x, y)
    with pytest.raises(ValueError, match="differ in length"):
        train_classifier("MNIST", x, y[:3], x, y)
