"""MNIST-SVHN-Text data (App. O): IDX and .mat round trips, vendored MNIST, MoPoE text, the
pairing, the triples, the synthetic SVHN stand-in, download checks."""

import numpy as np
import pytest

from mmvae_nb.data.mnist_svhn_text import (
    ALPHABET,
    DATASET_NAMES,
    DIGIT_WORDS,
    SVHN_FILES,
    decode_text,
    encode_text,
    encode_texts,
    load_mnist,
    load_mnist_svhn_text,
    load_svhn,
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
    # the same n examples of each side in every repetition, each used once per repetition
    for label, n in [(0, 2), (1, 3), (2, 1)]:
        rows = pairs[a[pairs[:, 0]] == label]
        assert len(np.unique(rows[:, 0])) == n and len(np.unique(rows[:, 1])) == n
    with pytest.raises(ValueError, match="no examples"):
        pair_indices(np.array([0, 3]), np.array([0, 0]))


def test_text_offsets_follow_mopoe():
    # MoPoE: start uniform in 0..8 - 1 - len(word): every string ends with a space
    texts = encode_texts(np.repeat(np.arange(10), 200), np.random.default_rng(1))
    strings = ["".join(ALPHABET[i] for i in t.argmax(-1)) for t in texts]
    for label, word in enumerate(DIGIT_WORDS):
        group = strings[200 * label : 200 * (label + 1)]
        assert all(s.strip() == word and s.endswith(" ") and len(s) == 8 for s in group)
        assert {s.index(word) for s in group} == set(range(8 - len(word)))


def test_triples_share_their_label_and_batches_are_model_inputs(tmp_path):
    data = load_mnist_svhn_text("test", svhn_size=300, dups=2, cache_dir=tmp_path)
    assert data.dataset == DATASET_NAMES["standin"] and data.split == "test"
    svhn_images, svhn_labels = load_svhn("test", size=300, cache_dir=tmp_path)
    _, mnist_labels = load_mnist("test")
    assert len(data) == 2 * sum(
        min(np.sum(mnist_labels == k), np.sum(svhn_labels == k)) for k in range(10)
    )
    np.testing.assert_array_equal(mnist_labels[data.pairs[:, 0]], data.labels)
    np.testing.assert_array_equal(svhn_labels[data.pairs[:, 1]], data.labels)
    xs, labels = data.batch(np.arange(64), np.random.default_rng(0))
    assert [x.shape for x in xs] == [(64, 784), (64, 3072), (64, 568)]
    assert all(x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1 for x in xs)
    words = [decode_text(t.reshape(8, 71)) for t in xs[2]]
    assert words == [DIGIT_WORDS[k] for k in labels]
    np.testing.assert_array_equal(xs[1][0].reshape(32, 32, 3) * 255, svhn_images[data.pairs[0, 1]])
    sizes = [len(y) for _, y in data.batches(500, np.random.default_rng(0))]
    assert sum(sizes) == len(data) and max(sizes) == 500
    assert len(data.subset(100)) == 100


def test_stand_in_is_cached_and_a_prefix_of_the_larger_one(tmp_path):
    small, small_labels = load_svhn("train", size=20, cache_dir=tmp_path)
    large, large_labels = load_svhn("train", size=40, cache_dir=tmp_path)
    np.testing.assert_array_equal(small, large[:20])
    np.testing.assert_array_equal(small_labels, large_labels[:20])
    again, _ = load_svhn("train", size=20, cache_dir=tmp_path)
    np.testing.assert_array_equal(again, small)
    assert len(list((tmp_path / "data").glob("street_numbers_*.npz"))) == 2


def test_real_svhn_loads_a_verified_file(tmp_path, monkeypatch):
    from scipy.io import savemat

    from mmvae_nb.data import mnist_svhn_text

    images = np.random.default_rng(0).integers(0, 256, size=(5, 32, 32, 3), dtype=np.uint8)
    path = tmp_path / "svhn" / "test_32x32.mat"
    path.parent.mkdir()
    savemat(path, {"X": np.moveaxis(images, 0, -1), "y": np.array([[10], [1], [2], [3], [4]])})
    with pytest.raises(ValueError, match="corrupt or different file"):
        load_svhn("test", "real", data_dir=tmp_path)
    url, _ = SVHN_FILES["test_32x32.mat"]
    files = {**SVHN_FILES, "test_32x32.mat": (url, mnist_svhn_text._md5(path))}
    monkeypatch.setattr(mnist_svhn_text, "SVHN_FILES", files)
    x, y = load_svhn("test", "real", data_dir=tmp_path)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, [0, 1, 2, 3, 4])
    with pytest.raises(ValueError, match="unknown svhn source"):
        load_svhn("test", "svhn")


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
