"""PolyMNIST generators (``data.polymnist``): the vanilla protocol, the extended ring corners,
determinism, and clear errors."""

import numpy as np
import pytest

from mmvae_nb.data import polymnist
from mmvae_nb.data.mnist_svhn_text import load_mnist


@pytest.fixture(scope="module")
def extended():
    return polymnist.make_polymnist("extended", "test", 300, seed=3)


def test_shapes_and_range(extended):
    assert len(extended.images) == polymnist.NUM_MODALITIES
    for x in extended.images:
        assert x.shape == (300, *polymnist.IMAGE_SHAPE) and x.dtype == np.float32
        assert 0.0 <= x.min() and x.max() <= 1.0


def test_deterministic_under_seed(extended):
    again = polymnist.make_polymnist("extended", "test", 300, seed=3)
    other = polymnist.make_polymnist("extended", "test", 300, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip(extended.images, again.images))
    assert not np.array_equal(extended.images[0], other.images[0])


def test_full_vanilla_split_uses_every_label_once():
    data = polymnist.make_polymnist("vanilla", "test")
    _, labels = load_mnist("test")
    assert np.array_equal(np.bincount(data.labels), np.bincount(labels))
    assert (data.corner_labels == -1).all()


def test_ring_corners_are_shared_by_neighbours_only(extended):
    m = polymnist.NUM_MODALITIES
    for j in range(m):
        right = extended.modality_corner_labels(j)[:, 1]
        left_of_next = extended.modality_corner_labels((j + 1) % m)[:, 0]
        assert np.array_equal(right, left_of_next)
    # a modality's two corners come from different pairs: independent labels
    corners = extended.modality_corner_labels(0)
    assert (corners[:, 0] != corners[:, 1]).mean() > 0.8
    assert set(polymnist.shared_subsets("extended")) == {
        frozenset(range(m)),
        *(frozenset({j, (j + 1) % m}) for j in range(m)),
    }


@pytest.fixture
def flat_backgrounds(monkeypatch):
    """Every background a flat grey of 0.2: a pixel is 0.8 exactly where a digit is drawn."""
    monkeypatch.setattr(polymnist, "background", lambda name: np.full((40, 50, 3), 0.2, np.float32))


def ink(images):
    assert np.all(np.isclose(images, 0.2) | np.isclose(images, 0.8))
    return np.isclose(images[..., 0], 0.8)


def test_digit_is_the_binarised_mnist_digit_inverted(flat_backgrounds):
    """Vanilla: modality m's ink is an MNIST image of the tuple's label binarised at > 128."""
    data = polymnist.make_polymnist("vanilla", "test", 200, seed=0)
    mnist, labels = load_mnist("test")
    binary = (mnist > 128).reshape(len(mnist), -1)
    for m in range(polymnist.NUM_MODALITIES):
        drawn = ink(data.images[m]).reshape(200, -1)
        match = (drawn[:, None, :] == binary[None]).all(-1)  # (200, 10000)
        assert match.any(1).all()
        assert all(labels[np.flatnonzero(row)[0]] == y for row, y in zip(match, data.labels))
    # the modalities show different images of the label (independent permutations)
    assert (ink(data.images[0]) != ink(data.images[1])).any((1, 2)).mean() > 0.9


def test_extended_adds_ink_in_the_top_corners_only(flat_backgrounds):
    vanilla = polymnist.make_polymnist("vanilla", "test", 300, seed=3)
    extended = polymnist.make_polymnist("extended", "test", 300, seed=3)
    k = polymnist.CORNER_SIZE
    for m in range(polymnist.NUM_MODALITIES):
        plain, cornered = ink(vanilla.images[m]), ink(extended.images[m])
        assert cornered[:, :k, :k].mean() > plain[:, :k, :k].mean() + 0.1
        assert cornered[:, :k, -k:].mean() > plain[:, :k, -k:].mean() + 0.1
        assert abs(cornered[:, -k:, :].mean() - plain[:, -k:, :].mean()) < 0.02


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"variant": "poly"}, "unknown PolyMNIST variant"),
        ({"size": 0}, "size must be"),
        ({"size": 10_001, "split": "test"}, "size must be"),
        ({"backgrounds": ("coffee",)}, "at least two"),
        ({"backgrounds": ("coffee", "moon")}, "unknown background"),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        polymnist.make_polymnist(**{"split": "test", "size": 10, **kwargs})
