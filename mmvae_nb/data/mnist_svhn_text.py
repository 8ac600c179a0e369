"""MNIST-SVHN-Text (Section 5.3, App. O): loaders, the MoPoE pairing and the text modality.

* MNIST is real and complete offline: the 60,000 training images as 20 PNG sheets (784 x 3000
  px, one image per row) and the 10,000 test images as gzipped IDX files, vendored under
  ``mmvae_nb/datasets/mnist`` (sources and licences in ``mmvae_nb/datasets/SOURCES.md``).
* SVHN (``svhn="real"``) is downloaded to a cache directory and checked against its md5; offline,
  ``svhn="standin"`` uses the synthetic street numbers of ``street_numbers`` instead.
* Text (MoPoE, Sutter et al. 2021): the digit's English word at a random offset in a string of
  length 8 padded with spaces, one-hot over MoPoE's 71-character alphabet, redrawn at every
  access.
* Pairing (MoPoE protocol): for each label, random MNIST and SVHN indices of that label are
  matched, repeated ``dups`` = 20 times (about 1.12 M training and 200 k test triples with real
  SVHN); only index pairs are kept, never the images of the triples.

``load_mnist_svhn_text`` returns an ``MnistSvhnText`` whose batches are the model's inputs: a
list of flat float32 arrays [MNIST (B, 784), SVHN (B, 3072, HWC order), text (B, 8 x 71)] with
pixels in [0, 1], and the labels. They are assembled on the host (``batches``) or, bit for bit
the same, on the device from the uint8 images put there once and the host's random draws
(``device_arrays``, ``epoch_draws``, ``device_batch``; the streaming trainer's choice).
"""

from __future__ import annotations

import gzip
import io
import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jax.numpy as jnp
import numpy as np

from mmvae_nb.storage import atomic_write_bytes, cache_root
from mmvae_nb.storage import data_dir as storage_data_dir

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"\\/|_@#$%^&*~`+-=<>()[]{} \n"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEXT_LENGTH = 8
SPACE = ALPHABET.index(" ")

_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """An array from an IDX file (optionally gzipped): magic 0x0000TTNN, NN big-endian sizes."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype_code not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (magic {data[:4].hex()})")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    dtype = np.dtype(_IDX_TYPES[dtype_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    body = data[4 + 4 * ndim :]
    if len(body) != expected:
        raise ValueError(f"{path}: IDX header says {expected} bytes of data, found {len(body)}")
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(array, path) -> None:
    """Write ``array`` as an IDX file (gzipped when ``path`` ends in .gz)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder(">").str: k for k, v in _IDX_TYPES.items()}
    key = np.dtype(array.dtype).newbyteorder(">").str
    if array.dtype == np.uint8:
        code = 0x08
    elif key in codes:
        code = codes[key]
    else:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    body = array.astype(np.dtype(_IDX_TYPES[code])).tobytes()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as f:
        f.write(header + body)


def _mnist_dir() -> Path:
    return Path(str(resources.files("mmvae_nb.datasets").joinpath("mnist")))


def _png_sheet(path) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(path)).reshape(-1, 28, 28)


def load_mnist(split: str = "train", folder=None):
    """Real MNIST from the vendored files: (images (n, 28, 28) uint8, labels (n,) int64)."""
    folder = Path(folder) if folder else _mnist_dir()
    if split == "train":
        images = np.concatenate([_png_sheet(folder / f"mnist_batch_{i}.png") for i in range(20)])
        text = (folder / "mnist_labels.js").read_text()
        labels = np.array(text[text.index("[") + 1 : text.rindex("]")].split(","), dtype=np.int64)
        return images, labels[:60_000]
    if split == "test":
        images = read_idx(folder / "t10k-images-idx3-ubyte.gz")
        labels = read_idx(folder / "t10k-labels-idx1-ubyte.gz").astype(np.int64)
        return images, labels
    raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")


def text_offsets(labels, rng, length: int = TEXT_LENGTH) -> np.ndarray:
    """Each digit's word's random offset in its string, the only draw of ``encode_texts``: as
    MoPoE's ``create_text_from_label_mnist``, uniform in 0..length - 1 - len(word), so every
    string ends with at least one space."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    word_lengths = np.array([len(w) for w in DIGIT_WORDS])[labels]
    if word_lengths.size and word_lengths.max() >= length:
        raise ValueError(f"length {length} is too short for the words (need > 5)")
    return rng.integers(0, length - word_lengths)  # exclusive high: length - len(word) - 1


def encode_texts(labels, rng, length: int = TEXT_LENGTH) -> np.ndarray:
    """One-hot (n, length, |alphabet|) float32 strings of the digits' words, each at a random
    offset in spaces (``text_offsets``)."""
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    starts = text_offsets(labels, rng, length)
    chars = np.full((labels.size, length), SPACE, dtype=np.int64)
    for label, word in enumerate(DIGIT_WORDS):
        rows = np.flatnonzero(labels == label)
        codes = np.array([ALPHABET.index(c) for c in word])
        chars[rows[:, None], starts[rows, None] + np.arange(len(word))] = codes
    return np.eye(len(ALPHABET), dtype=np.float32)[chars]


def encode_text(label: int, rng, length: int = TEXT_LENGTH) -> np.ndarray:
    """One-hot (length, |alphabet|) of one digit's word at a random offset (``encode_texts``)."""
    return encode_texts([label], rng, length)[0]


def decode_text(onehot) -> str:
    """The string of a one-hot (or logits) (length, |alphabet|) array, stripped of spaces."""
    return "".join(ALPHABET[i] for i in np.argmax(onehot, axis=-1)).strip()


def pair_indices(labels_a, labels_b, dups: int = 20, seed=0, max_per_label: int = 10_000):
    """MoPoE's ``rand_match_on_idx``: for each label, n = min(#a, #b, ``max_per_label``)
    examples of each side, matched by ``dups`` independent random permutations -> (n_total, 2)
    index pairs with equal labels. MoPoE keeps the first n of each side in label-sorted order;
    here the n are a random (seeded) choice."""
    if dups <= 0:
        raise ValueError(f"dups must be positive, got {dups}")
    rng = np.random.default_rng(seed)
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    pairs = []
    for label in np.unique(labels_a):
        a = np.flatnonzero(labels_a == label)
        b = np.flatnonzero(labels_b == label)
        if len(b) == 0:
            raise ValueError(f"label {label} has no examples in the second data set")
        n = min(len(a), len(b), max_per_label)
        a, b = rng.choice(a, n, replace=False), rng.choice(b, n, replace=False)
        for _ in range(dups):
            pairs.append(np.stack([rng.permutation(a), rng.permutation(b)], axis=1))
    return np.concatenate(pairs)


# ---------------------------------------------------------------------- SVHN
SVHN_FILES = {
    # name: (url, md5) of the cropped-digit files (Netzer et al., 2011). Not checked against a
    # download here (this project's machines cannot reach ufldl.stanford.edu); the same md5s
    # are what torchvision's SVHN and several independent loaders that verify their own
    # downloads check (found by searching public code), so a real download that
    # matches them is the files everyone uses
    "train_32x32.mat": (
        "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
        "e26dedcc434d2e4c54c9b2d4a06d8373",
    ),
    "test_32x32.mat": (
        "http://ufldl.stanford.edu/housenumbers/test_32x32.mat",
        "eb5a983be6a315427106f1b164d9cef3",
    ),
}


def load_svhn_mat(path):
    """(images (n, 32, 32, 3) uint8, labels (n,) int64 in 0..9) from an SVHN .mat file, in the
    official layout (X (32, 32, 3, n) uint8, y (n, 1) with 10 for the digit 0) or the vendored
    sample's (X (n, 32, 32, 3) floats k / 255, y (1, n) already 0..9)."""
    from scipy.io import loadmat

    data = loadmat(path)
    x, y = data["X"], np.asarray(data["y"]).reshape(-1).astype(np.int64)
    if x.shape[:3] == (32, 32, 3) and x.shape[-1] == y.size:
        x = np.moveaxis(x, -1, 0)
    if x.dtype != np.uint8:
        x = np.round(np.asarray(x, np.float64) * 255).astype(np.uint8)
    return x, np.where(y == 10, 0, y)


def _md5(path) -> str:
    import hashlib

    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def svhn_path(name: str, data_dir=None, download: bool = True) -> Path:
    """The path of a verified SVHN file under ``data_dir`` (or ``storage.data_dir()``:
    ``$MMVAE_NB_DATA``, else the cache's ``data``), downloading it when missing. Raises a clear
    error when the file is missing and cannot be downloaded, or when its checksum does not
    match."""
    if name not in SVHN_FILES:
        raise ValueError(f"unknown SVHN file {name!r}; choose one of {sorted(SVHN_FILES)}")
    url, md5 = SVHN_FILES[name]
    root = Path(data_dir) if data_dir else storage_data_dir()
    path = root / "svhn" / name
    if not path.exists():
        if not download:
            raise FileNotFoundError(f"{path} is missing; download {url} to that path")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            from urllib.request import urlretrieve

            tmp = path.with_suffix(".part")
            urlretrieve(url, tmp)
            tmp.replace(path)
        except OSError as error:
            raise FileNotFoundError(
                f"could not download {url} ({error}); this machine seems offline. Download it "
                f"elsewhere and put it at {path} (or set MMVAE_NB_DATA), or use the offline "
                "stand-in: svhn='standin' (notebook 04: -p svhn standin)"
            ) from error
    actual = _md5(path)
    if actual != md5:
        raise ValueError(
            f"{path} has md5 {actual}, expected {md5}: a corrupt or different file; delete it "
            f"and download {url} again"
        )
    return path


def load_svhn_sample():
    """The 50 real SVHN crops vendored for comparison with the offline stand-in."""
    folder = Path(str(resources.files("mmvae_nb.datasets").joinpath("svhn_sample")))
    return load_svhn_mat(folder / "svhn_subset9.mat")


# ---------------------------------------------------------------------- triples
MODALITIES = ("MNIST", "SVHN", "Text")
MODALITY_SHAPES = ((28, 28), (32, 32, 3), (TEXT_LENGTH, len(ALPHABET)))
MODALITY_DIMS = tuple(int(np.prod(shape)) for shape in MODALITY_SHAPES)  # 784, 3072, 568
# App. Q: "we re-weight the log-likelihoods for different modalities relative to their
# dimensions", as MoPoE's ``set_rec_weights``: w_s = |SVHN| / |x_s| with |SVHN| = 3072 and, for
# text, MoPoE's data size of the sequence length 8 (not 8 x 71): w = (3.92, 1, 384).
LIKELIHOOD_WEIGHTS = (3072 / 784, 1.0, 3072 / TEXT_LENGTH)
DATASET_NAMES = {
    "real": "MNIST-SVHN-Text",
    "standin": "MNIST-SVHN-Text (synthetic SVHN stand-in)",
}
_SPLIT_SEEDS = {"train": 0, "test": 1}


# the float32 value of every uint8 pixel as ``MnistSvhnText.batch`` computes it (x / 255.0)
_PIXEL_VALUES = np.arange(256, dtype=np.uint8).astype(np.float32) / 255.0
# each digit's word padded with spaces to the string length, as alphabet indices
_WORD_CODES = np.array(
    [[ALPHABET.index(c) for c in word.ljust(TEXT_LENGTH)] for word in DIGIT_WORDS], np.int32
)


def _device_texts(labels, starts):
    """``encode_texts``'s one-hot strings (flat (B, 568)) of ``labels`` at the offsets
    ``starts`` (traceable): position j holds the word's character j - start, a space before."""
    shift = jnp.arange(TEXT_LENGTH) - starts[:, None]
    chars = jnp.where(
        shift >= 0, jnp.asarray(_WORD_CODES)[labels[:, None], jnp.maximum(shift, 0)], SPACE
    )
    onehot = chars[..., None] == jnp.arange(len(ALPHABET))
    return onehot.astype(jnp.float32).reshape(len(labels), -1)


@dataclass(frozen=True)
class MnistSvhnText:
    """The triples of one split, kept as indices into the MNIST and SVHN images.

    ``pairs[i] = (j, k)`` is the triple (MNIST ``mnist[j]``, SVHN ``svhn[k]``, text of
    ``labels[i]``); the text is drawn anew by every ``batch`` call.
    """

    mnist: np.ndarray  # (n_mnist, 28, 28) uint8
    svhn: np.ndarray  # (n_svhn, 32, 32, 3) uint8
    pairs: np.ndarray  # (n, 2) int64
    labels: np.ndarray  # (n,) int64
    dataset: str  # a DATASET_NAMES value: says whether SVHN is real
    split: str

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, index, rng) -> tuple[list[np.ndarray], np.ndarray]:
        """The triples ``index``: ([MNIST (B, 784), SVHN (B, 3072), text (B, 568)], labels)."""
        index = np.asarray(index)
        pairs, labels = self.pairs[index], self.labels[index]
        mnist = self.mnist[pairs[:, 0]].reshape(len(index), -1).astype(np.float32) / 255.0
        svhn = self.svhn[pairs[:, 1]].reshape(len(index), -1).astype(np.float32) / 255.0
        text = encode_texts(labels, rng).reshape(len(index), -1)
        return [mnist, svhn, text], labels

    def batches(self, batch_size: int, rng, shuffle: bool = True):
        """Minibatches over one epoch (the last one may be smaller)."""
        order = rng.permutation(len(self)) if shuffle else np.arange(len(self))
        for start in range(0, len(self), batch_size):
            yield self.batch(order[start : start + batch_size], rng)

    def device_arrays(self) -> dict[str, np.ndarray]:
        """What ``device_batch`` gathers from, to be put on the device once: the uint8 images and
        the triples' indices and labels as int32 (285 MB with real SVHN and 1.12 M triples)."""
        return {
            "mnist": self.mnist,
            "svhn": self.svhn,
            "pairs": self.pairs.astype(np.int32),
            "labels": self.labels.astype(np.int32),
        }

    def epoch_draws(self, batch_size: int, rng) -> dict[str, np.ndarray]:
        """What ``batches(batch_size, rng)`` draws for one epoch, in its order (the permutation,
        then each batch's ``text_offsets``, the last, smaller batch's included, so that ``rng``
        ends where ``batches`` leaves it), for its full batches: ``rows`` and ``starts``, both
        (len(self) // batch_size, batch_size) int32."""
        order = rng.permutation(len(self))
        full = len(self) // batch_size
        starts = [
            text_offsets(self.labels[order[start : start + batch_size]], rng)
            for start in range(0, len(self), batch_size)
        ]
        return {
            "rows": order[: full * batch_size].reshape(full, batch_size).astype(np.int32),
            "starts": np.asarray(starts[:full], np.int32).reshape(full, batch_size),
        }

    @staticmethod
    def device_batch(arrays, draw) -> list:
        """The batch ``batch(rows, rng)`` returns, bit for bit, built on the device (traceable)
        from ``device_arrays()`` and one batch of ``epoch_draws``: the pixels through a table
        of the 256 values k / 255 that ``batch`` computes, the text from the drawn offsets."""
        rows = draw["rows"]
        pairs, labels = arrays["pairs"][rows], arrays["labels"][rows]
        pixels = jnp.asarray(_PIXEL_VALUES)
        mnist = pixels[arrays["mnist"][pairs[:, 0]]].reshape(len(rows), -1)
        svhn = pixels[arrays["svhn"][pairs[:, 1]]].reshape(len(rows), -1)
        return [mnist, svhn, _device_texts(labels, draw["starts"])]

    def subset(self, size: int, seed: int = 0) -> MnistSvhnText:
        """A random subset of ``size`` triples (same images), e.g. an evaluation set."""
        if not 0 < size <= len(self):
            raise ValueError(f"size must be in 1..{len(self)}, got {size}")
        keep = np.sort(np.random.default_rng(seed).choice(len(self), size, replace=False))
        return MnistSvhnText(
            self.mnist, self.svhn, self.pairs[keep], self.labels[keep], self.dataset, self.split
        )


def load_street_numbers(split: str, size: int | None = None, cache_dir=None, progress=False):
    """The synthetic SVHN stand-in of ``split`` (first ``size`` images), rendered once and cached
    as ``.npz`` under ``<cache>/data`` (atomic write)."""
    from mmvae_nb.data.street_numbers import make_street_numbers, street_number_labels

    n = len(street_number_labels(split, size))
    path = cache_root(cache_dir) / "data" / f"street_numbers_v1_{split}_{n}.npz"
    if path.exists():
        with np.load(path) as stored:
            return stored["images"], stored["labels"]
    images, labels = make_street_numbers(split, n, progress=progress)
    buffer = io.BytesIO()
    np.savez(buffer, images=images, labels=labels)
    atomic_write_bytes(buffer.getvalue(), path)
    return images, labels


def load_svhn(
    split: str, svhn: str = "standin", size=None, data_dir=None, cache_dir=None, progress=False
):
    """SVHN images and labels: the real cropped digits (``svhn="real"``, downloaded and
    verified) or the synthetic stand-in (``"standin"``); ``size`` keeps the first images."""
    if split not in _SPLIT_SEEDS:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    if svhn == "real":
        images, labels = load_svhn_mat(svhn_path(f"{split}_32x32.mat", data_dir))
        return images[:size], labels[:size]
    if svhn == "standin":
        return load_street_numbers(split, size, cache_dir, progress)
    raise ValueError(f"unknown svhn source {svhn!r}; choose one of {sorted(DATASET_NAMES)}")


def load_mnist_svhn_text(
    split: str,
    svhn: str = "standin",
    *,
    dups: int = 20,
    svhn_size: int | None = None,
    seed: int = 0,
    data_dir=None,
    cache_dir=None,
    progress: bool = False,
) -> MnistSvhnText:
    """The MNIST-SVHN-Text triples of ``split`` with real or stand-in SVHN (App. O).

    ``dups`` is MoPoE's number of random matchings per label (20); ``svhn_size`` keeps only the
    first SVHN images (smaller, faster data for the quick and smoke profiles); ``seed`` seeds the
    pairing (the test split uses a different stream than the training split).
    """
    mnist, mnist_labels = load_mnist(split)
    svhn_images, svhn_labels = load_svhn(split, svhn, svhn_size, data_dir, cache_dir, progress)
    pairs = pair_indices(mnist_labels, svhn_labels, dups, seed=[seed, _SPLIT_SEEDS[split]])
    return MnistSvhnText(
        mnist, svhn_images, pairs, mnist_labels[pairs[:, 0]], DATASET_NAMES[svhn], split
    )
