"""MNIST-SVHN-Text (Section 5.3, App. O): loaders, the MoPoE pairing and the text modality.

Work in progress (issue 5): real MNIST offline (vendored under ``mmvae_nb/datasets/mnist``,
see its ``SOURCES.md``), the IDX format, the text modality and the index pairing. Still to do:
SVHN download/checksums, the synthetic street-number stand-in, classifiers and metrics.

* MNIST: the 60,000 training images come as 20 PNG sheets (784 x 3000 px, one image per row),
  the 10,000 test images as gzipped IDX files.
* Text (MoPoE, Sutter et al. 2021): the digit's English word at a random offset in a string of
  length 8 padded with spaces, one-hot over MoPoE's 71-character alphabet.
* Pairing (MoPoE protocol): for each label, random MNIST and SVHN indices of that label are
  matched, repeated ``dups`` = 20 times; only index pairs are kept, never images.
"""

from __future__ import annotations

import gzip
import struct
from importlib import resources
from pathlib import Path

import numpy as np

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789-,;.!?:'\"\\/|_@#$%^&*~`+-=<>()[]{} \n"
DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEXT_LENGTH = 8

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


def encode_text(label: int, rng, length: int = TEXT_LENGTH) -> np.ndarray:
    """One-hot (length, |alphabet|) of the digit's word at a random offset in spaces."""
    word = DIGIT_WORDS[int(label)]
    start = int(rng.integers(0, length - len(word) + 1))
    text = " " * start + word + " " * (length - start - len(word))
    onehot = np.zeros((length, len(ALPHABET)), dtype=np.float32)
    onehot[np.arange(length), [ALPHABET.index(c) for c in text]] = 1.0
    return onehot


def decode_text(onehot) -> str:
    """The string of a one-hot (or logits) (length, |alphabet|) array, stripped of spaces."""
    return "".join(ALPHABET[i] for i in np.argmax(onehot, axis=-1)).strip()


def pair_indices(labels_a, labels_b, dups: int = 20, seed: int = 0) -> np.ndarray:
    """MoPoE pairing: for each label, ``dups`` random permutations matching the indices of
    ``labels_a`` with randomly drawn indices of ``labels_b`` of the same label -> (n, 2)."""
    rng = np.random.default_rng(seed)
    labels_a, labels_b = np.asarray(labels_a), np.asarray(labels_b)
    pairs = []
    for label in np.unique(labels_a):
        a = np.flatnonzero(labels_a == label)
        b = np.flatnonzero(labels_b == label)
        if len(b) == 0:
            raise ValueError(f"label {label} has no examples in the second data set")
        n = min(len(a), len(b))
        for _ in range(dups):
            pairs.append(np.stack([rng.permutation(a)[:n], rng.permutation(b)[:n]], axis=1))
    return np.concatenate(pairs)


# ---------------------------------------------------------------------- SVHN
SVHN_FILES = {
    # name: (url, md5) of the cropped-digit files (Netzer et al., 2011); md5 as torchvision's
    # SVHN dataset lists them (to re-check against a real download)
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
    """The path of a verified SVHN file under ``data_dir`` (or ``$MMVAE_NB_DATA``, or
    ``.cache/data``), downloading it when missing. Raises a clear error when the file is
    missing and cannot be downloaded, or when its checksum does not match."""
    import os

    if name not in SVHN_FILES:
        raise ValueError(f"unknown SVHN file {name!r}; choose one of {sorted(SVHN_FILES)}")
    url, md5 = SVHN_FILES[name]
    root = Path(data_dir or os.environ.get("MMVAE_NB_DATA") or Path(".cache") / "data")
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
                "stand-in (dataset='offline')"
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
