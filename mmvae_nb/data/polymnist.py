"""PolyMNIST, vanilla and extended (the relational model's data; Sutter & Vogt, Section 5).

**Vanilla** (Sutter et al. 2021, MoPoE's ``make_polymnist``): M = 5 modalities; tuple i carries
one digit label, and modality m shows an MNIST image of that label drawn by an independent
permutation, per label and modality, of that label's MNIST images (the modalities share only the
digit class). The digit is binarised at > 128; the modality's image is a random 28 x 28 crop of
its own background photograph, inverted (1 - crop) at the digit's pixels. MoPoE's script parses a
seed and never uses it; here every draw comes from ``seed`` and the split.

**Backgrounds, offline**: the original PolyMNIST photographs are not available offline, so the
five backgrounds are real photographs that ship inside installed packages (``BACKGROUNDS``), each
resized so that its shorter side is 128 pixels (a 28 x 28 crop then holds texture rather than one
flat patch). Every table and figure made with them says so (``DATASET_NAMES``).

**Extended** (Section 5: "digit information in two corners of every modality; every corner digit
is shared between two modalities only"). Our pairing is a ring: the pair (m, m + 1 mod M) has its
own corner label, independent of the main label and of the other pairs; modality m shows the label
of pair (m - 1, m) in its top-left corner and that of pair (m, m + 1) in its top-right corner, each
as a 12 x 12 MNIST digit of that label (drawn independently per modality, like the main digit).
The main digit is vanilla's; the digit mask is the union of the main and corner masks (they
overlap at the main digit's upper corners, which MNIST leaves almost empty). So in extended data
the subsets that share information are the full set (main label) and the five ring pairs
(``shared_subsets``); every other pair and every triple shares nothing beyond the main label.

Images are (n, 28, 28, 3) float32 in [0, 1] (channels last, as ``models.conv``). Batches are
gathered on the host (``batches``) or, the same, on the device from the images put there once
and the host's permutation (``device_arrays``, ``epoch_draws``, ``device_batch``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from mmvae_nb.data.mnist_svhn_text import load_mnist

NUM_MODALITIES = 5
IMAGE_SHAPE = (28, 28, 3)
CORNER_SIZE = 12
BACKGROUND_SIDE = 128  # shorter side of each background after resizing
VARIANTS = ("vanilla", "extended")
DATASET_NAMES = {
    "vanilla": "PolyMNIST (packaged photographs as backgrounds, not the original ones)",
    "extended": "extended PolyMNIST (ring corners; packaged photographs as backgrounds)",
}
# name -> (where it ships, how to load it): real photographs inside installed wheels
BACKGROUNDS = {
    "astronaut": "scikit-image skimage/data/astronaut.png (Eileen Collins, NASA, public domain)",
    "coffee": "scikit-image skimage/data/coffee.png (Rachel Michetti, CC0)",
    "chelsea": "scikit-image skimage/data/chelsea.png (Stefan van der Walt's cat, CC0)",
    "rocket": "scikit-image skimage/data/rocket.jpg (DSCOVR launch, SpaceX, public domain)",
    "grace_hopper": "matplotlib mpl-data/sample_data/grace_hopper.jpg (US Navy, public domain)",
}
_SPLIT_SEEDS = {"train": 0, "test": 1}


@cache
def background(name: str) -> np.ndarray:
    """Background photograph ``name`` (``BACKGROUNDS``) as float32 RGB in [0, 1], resized so
    that its shorter side is ``BACKGROUND_SIDE`` pixels (anti-aliased)."""
    from skimage.transform import resize

    if name not in BACKGROUNDS:
        raise ValueError(f"unknown background {name!r}; choose from {list(BACKGROUNDS)}")
    if name == "grace_hopper":
        from matplotlib import cbook
        from PIL import Image

        image = np.asarray(Image.open(cbook.get_sample_data("grace_hopper.jpg")))
    else:
        from skimage import data

        image = getattr(data, name)()
    h, w = image.shape[:2]
    scale = BACKGROUND_SIDE / min(h, w)
    size = (round(h * scale), round(w * scale))
    return resize(image[..., :3], size, anti_aliasing=True).astype(np.float32)


def ring_pairs(num_modalities: int = NUM_MODALITIES) -> tuple[tuple[int, int], ...]:
    """The extended data's corner pairs: (m, m + 1 mod M) for every modality m."""
    return tuple(tuple(sorted((m, (m + 1) % num_modalities))) for m in range(num_modalities))


def shared_subsets(variant: str, num_modalities: int = NUM_MODALITIES) -> tuple[frozenset, ...]:
    """The subsets of modalities that truly share a digit: the full set (main digit), and in
    extended data also the ring pairs (corner digits)."""
    check_variant(variant)
    full = (frozenset(range(num_modalities)),)
    if variant == "vanilla":
        return full
    return full + tuple(frozenset(p) for p in ring_pairs(num_modalities))


def check_variant(variant: str) -> None:
    if variant not in VARIANTS:
        raise ValueError(f"unknown PolyMNIST variant {variant!r}; choose from {list(VARIANTS)}")


@dataclass(frozen=True)
class PolyMNIST:
    """``images[m]``: modality m, (n, 28, 28, 3) float32; ``labels``: main digit (n,);
    ``corner_labels``: (n, M) label of ring pair (m, m + 1) (extended; -1 in vanilla)."""

    variant: str
    split: str
    images: tuple[np.ndarray, ...]
    labels: np.ndarray
    corner_labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def dataset(self) -> str:
        return DATASET_NAMES[self.variant]

    def flat(self, m: int) -> np.ndarray:
        """Modality m as flat (n, 2352) HWC pixels (a view), as encoders and decoders take it."""
        return self.images[m].reshape(len(self), -1)

    def subset(self, size: int) -> PolyMNIST:
        """The first ``size`` tuples (already in random order)."""
        images = tuple(x[:size] for x in self.images)
        return PolyMNIST(
            self.variant, self.split, images, self.labels[:size], self.corner_labels[:size]
        )

    def modality_corner_labels(self, m: int) -> np.ndarray:
        """(n, 2) labels of modality m's top-left and top-right corner digits."""
        num = len(self.images)
        return np.stack([self.corner_labels[:, (m - 1) % num], self.corner_labels[:, m]], axis=1)

    def batches(self, batch_size: int, rng, shuffle: bool = True):
        """(list of M flat (B, 2352) arrays, main labels) per batch, as the streaming trainer
        expects."""
        order = rng.permutation(len(self)) if shuffle else np.arange(len(self))
        for start in range(0, len(self), batch_size):
            rows = order[start : start + batch_size]
            yield [self.flat(m)[rows] for m in range(len(self.images))], self.labels[rows]

    def device_arrays(self) -> dict[str, tuple[np.ndarray, ...]]:
        """What ``device_batch`` gathers from, to be put on the device once: every modality's
        flat images, float32 as they are (the backgrounds are anti-aliased photographs, not
        multiples of 1 / 255, so uint8 would lose them; 2.8 GB for 60,000 tuples)."""
        return {"images": tuple(self.flat(m) for m in range(len(self.images)))}

    def epoch_draws(self, batch_size: int, rng) -> dict[str, np.ndarray]:
        """What ``batches(batch_size, rng)`` draws for one epoch (the permutation), for its full
        batches: ``rows`` (len(self) // batch_size, batch_size) int32."""
        order = rng.permutation(len(self))
        full = len(self) // batch_size
        return {"rows": order[: full * batch_size].reshape(full, batch_size).astype(np.int32)}

    @staticmethod
    def device_batch(arrays, draw) -> list:
        """The batch ``batches`` yields for the rows ``draw["rows"]``, gathered on the device
        from ``device_arrays()`` (traceable)."""
        return [x[draw["rows"]] for x in arrays["images"]]


def _permuted_within_labels(labels: np.ndarray, targets: np.ndarray, rng) -> np.ndarray:
    """For each target label, an index of an MNIST image of that label: a random permutation of
    the label's images, cycled when more targets than images ask for it."""
    out = np.empty(len(targets), np.int64)
    for label in np.unique(targets):
        pool = rng.permutation(np.flatnonzero(labels == label))
        where = np.flatnonzero(targets == label)
        out[where] = pool[np.arange(len(where)) % len(pool)]
    return out


def _corner_digits(digits: np.ndarray) -> np.ndarray:
    """MNIST digits (n, 28, 28) uint8 -> binary (n, 10, 10) corner masks (area-averaged)."""
    from skimage.transform import resize

    small = resize(digits.astype(np.float32) / 255.0, (len(digits), CORNER_SIZE, CORNER_SIZE))
    return small > 0.35


def make_polymnist(
    variant: str = "vanilla",
    split: str = "train",
    size: int | None = None,
    seed: int = 0,
    backgrounds: tuple[str, ...] = tuple(BACKGROUNDS),
) -> PolyMNIST:
    """PolyMNIST of ``variant`` from the vendored MNIST ``split``: ``size`` tuples (None: one per
    MNIST image, 60,000 / 10,000 as the original), deterministic in ``(seed, split)``."""
    check_variant(variant)
    if len(backgrounds) < 2:
        raise ValueError("PolyMNIST needs at least two modalities (backgrounds)")
    mnist, mnist_labels = load_mnist(split)
    size = len(mnist_labels) if size is None else size
    if not 0 < size <= len(mnist_labels):
        raise ValueError(f"size must be in 1..{len(mnist_labels)} for {split!r}, got {size}")
    rng = np.random.default_rng([seed, _SPLIT_SEEDS[split]])
    num = len(backgrounds)
    # the tuples' main labels: MNIST's own labels in a random order (vanilla: every image once)
    labels = mnist_labels[rng.permutation(len(mnist_labels))[:size]]
    corner_labels = (
        rng.integers(0, 10, size=(size, num)) if variant == "extended" else np.full((size, num), -1)
    )
    images = []
    for m, name in enumerate(backgrounds):
        digit = mnist[_permuted_within_labels(mnist_labels, labels, rng)] > 128
        if variant == "extended":
            for corner, pair in (
                (slice(None, CORNER_SIZE), (m - 1) % num),
                (slice(-CORNER_SIZE, None), m),
            ):
                index = _permuted_within_labels(mnist_labels, corner_labels[:, pair], rng)
                digit[:, :CORNER_SIZE, corner] |= _corner_digits(mnist[index])
        images.append(_on_background(digit, background(name), rng))
    return PolyMNIST(variant, split, tuple(images), labels.astype(np.int64), corner_labels)


def _on_background(digit: np.ndarray, photo: np.ndarray, rng) -> np.ndarray:
    """Random 28 x 28 crops of ``photo``, inverted (1 - crop) where ``digit`` is set."""
    n = len(digit)
    h, w = photo.shape[:2]
    rows = rng.integers(0, h - 28 + 1, n)
    cols = rng.integers(0, w - 28 + 1, n)
    grid = np.arange(28)
    crops = photo[(rows[:, None] + grid)[:, :, None], (cols[:, None] + grid)[:, None, :]]
    return np.where(digit[..., None], 1.0 - crops, crops).astype(np.float32)
