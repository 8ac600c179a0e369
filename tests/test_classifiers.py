"""The MoPoE modality classifiers: architectures, training on the stand-in, the cache."""

import numpy as np
import pytest
from flax import nnx

from mmvae_nb.data.mnist_svhn_text import MODALITY_DIMS, load_mnist_svhn_text
from mmvae_nb.evaluation.classifiers import CLASSIFIERS, mst_classifiers, train_classifier
from mmvae_nb.sections.config import MNIST_SVHN_TEXT


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


@pytest.mark.xdist_group("04_mnist_svhn_text")
def test_classifiers_beat_chance_on_the_stand_in_and_are_cached():
    """The smoke profile's data and classifiers (6,000 training triples, 8 epochs: the SVHN net,
    with dropout after every convolution, needs ~300 steps to leave chance level), in the
    project's cache, which notebook 04's smoke run shares (same xdist group, so whichever runs
    second loads them); a cache hit returns the same predictions."""
    data, evaluation = MNIST_SVHN_TEXT["smoke"].data, MNIST_SVHN_TEXT["smoke"].evaluation
    train = load_mnist_svhn_text("train", svhn_size=data.svhn_size, dups=data.dups)
    test = load_mnist_svhn_text("test", svhn_size=data.svhn_test_size, dups=data.dups)
    first = mst_classifiers(train, test, epochs=evaluation.classifier_epochs)
    accuracy = {m: c.test_accuracy for m, c in first.items()}
    assert accuracy["MNIST"] > 0.8 and accuracy["Text"] > 0.9, accuracy
    assert accuracy["SVHN"] > 0.45, accuracy  # chance is ~0.2 (the most frequent digit, 1)
    again = mst_classifiers(train, test, epochs=evaluation.classifier_epochs)
    xs, _ = test.batch(np.arange(50), np.random.default_rng(0))
    for m, x in zip(CLASSIFIERS, xs):
        assert again[m].train_seconds == 0.0 and again[m].test_accuracy == accuracy[m]
        np.testing.assert_array_equal(again[m].predict(x), first[m].predict(x))


def test_bad_classifier_arguments_are_clear_errors():
    x, y = np.zeros((4, 784), np.float32), np.zeros(4, np.int64)
    with pytest.raises(ValueError, match="unknown modality"):
        train_classifier("Audio", x, y, x, y)
    with pytest.raises(ValueError, match="differ in length"):
        train_classifier("MNIST", x, y[:3], x, y)
