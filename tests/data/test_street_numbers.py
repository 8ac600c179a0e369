"""The synthetic street-number stand-in for SVHN: format, determinism, label frequencies."""

import numpy as np
import pytest

from mmvae_nb.data.street_numbers import (
    SVHN_CLASS_COUNTS,
    make_street_numbers,
    render_street_number,
    street_number_labels,
)


def test_images_are_svhn_shaped_and_vary():
    images, labels = make_street_numbers("test", 30)
    assert images.shape == (30, 32, 32, 3) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and labels.shape == (30,)
    assert np.all(images.std(axis=(1, 2, 3)) > 5)  # not blank
    assert len({img.tobytes() for img in images}) == 30


def test_each_image_depends_only_on_seed_split_and_index():
    first, _ = make_street_numbers("train", 5)
    again, _ = make_street_numbers("train", 8)
    np.testing.assert_array_equal(first, again[:5])
    other, _ = make_street_numbers("test", 5)
    assert not np.array_equal(first, other)
    rng = np.random.default_rng([0, 0, 3])
    np.testing.assert_array_equal(
        render_street_number(street_number_labels("train")[3], rng), first[3]
    )


def test_labels_follow_svhn_class_counts():
    for split, counts in SVHN_CLASS_COUNTS.items():
        labels = street_number_labels(split)
        np.testing.assert_array_equal(np.bincount(labels, minlength=10), counts)
    assert sum(SVHN_CLASS_COUNTS["train"]) == 73_257 and sum(SVHN_CLASS_COUNTS["test"]) == 26_032


def test_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match="unknown split"):
        street_number_labels("valid")
    with pytest.raises(ValueError, match="size must be in 1..26032"):
        street_number_labels("test", 10**6)
