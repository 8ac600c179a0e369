"""MNIST-SVHN-Text data (work in progress, issue 5): IDX round trips, vendored MNIST, text,
pairing."""

import numpy as np
import pytest

from mmvae_nb.data.mnist_svhn_text import (
    ALPHABET,
    decode_text,
    encode_text,
    load_mnist,
    load_svhn_mat,
    load_svhn_sample,
    pair_indices,
    read_idx,
    svhn_path,
    write_idx,
)


@pytest.mark.parametrize("suffix", [".idx", ".idx.gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int32, np.float32])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(2 * 3 * 4) % 200).reshape(2, 3, 4).astype(dtype)
    write_idx(array, tmp_path / f"a{suffix}")
    out = read_idx(tmp_path / f"a{suffix}")
    assert out.dtype == array.dtype and out.shape == array.shape
    np.testing.assert_array_equal(out, array)


def test_truncated_idx_is_a_clear_error(tmp_path):
    write_idx(np.zeros((4, 5), np.uint8), tmp_path / "a.idx")
    data = (tmp_path / "a.idx").read_bytes()
    (tmp_path / "b.idx").write_bytes(data[:-3])
    with pytest.raises(ValueError, match="header says 20 bytes"):
        read_idx(tmp_path / "b.idx")


def test_vendored_mnist_has_the_documented_counts():
    images, labels = load_mnist("test")
    assert images.shape == (10_000, 28, 28) and images.dtype == np.uint8
    np.testing.assert_array_equal(
        np.bincount(labels), [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    )
    train_images, train_labels = load_mnist("train")
    assert train_images.shape == (60_000, 28, 28)
    np.testing.assert_array_equal(
        np.bincount(train_labels), [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    )
    np.testing.assert_allclose(train_images.mean(), 33.32, atol=0.01)


def test_text_encodes_and_decodes_the_word():
    rng = np.random.default_rng(0)
    assert len(ALPHABET) == 71
    for label, word in enumerate(["zero", "one", "two", "three", "four", "five", "six", "seven"]):
        onehot = encode_text(label, rng)
        assert onehot.shape == (8, 71) and np.all(onehot.sum(axis=1) == 1)
        assert decode_text(onehot) == word


def test_pairing_matches_labels_and_counts():
    a = np.array([0, 1, 0, 1, 1, 2])
    b = np.array([1, 0, 2, 1, 1, 0, 0])
    pairs = pair_indices(a, b, dups=3)
    np.testing.assert_array_equal(a[pairs[:, 0]], b[pairs[:, 1]])
    # per label min(count_a, count_b) pairs, repeated dups times: 0: 2, 1: 3, 2: 1
    assert len(pairs) == 3 * (2 + 3 + 1)


def test_svhn_mat_round_trip_in_the_official_layout(tmp_path):
    from scipy.io import savemat

    images = np.random.default_rng(0).integers(0, 256, size=(6, 32, 32, 3), dtype=np.uint8)
    labels = np.array([10, 1, 2, 3, 9, 10])
    savemat(tmp_path / "x.mat", {"X": np.moveaxis(images, 0, -1), "y": labels[:, None]})
    x, y = load_svhn_mat(tmp_path / "x.mat")
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, [0, 1, 2, 3, 9, 0])


def test_vendored_svhn_sample():
    x, y = load_svhn_sample()
    assert x.shape == (50, 32, 32, 3) and x.dtype == np.uint8 and set(y) <= set(range(10))


def test_checksum_mismatch_and_missing_file_are_clear_errors(tmp_path):
    path = tmp_path / "svhn" / "test_32x32.mat"
    path.parent.mkdir()
    path.write_bytes(b"not svhn")
    with pytest.raises(ValueError, match="expected eb5a983b"):
        svhn_path("test_32x32.mat", tmp_path)
    with pytest.raises(FileNotFoundError, match="train_32x32.mat is missing; download"):
        svhn_path("train_32x32.mat", tmp_path, download=False)
