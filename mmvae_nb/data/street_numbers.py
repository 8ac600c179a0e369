"""Synthetic street numbers: the offline stand-in for SVHN's cropped digits (App. O).

SVHN (Netzer et al., 2011) cannot be downloaded at run time and only 50 real crops ship with the
project, so the quick and smoke profiles replace SVHN by rendered house numbers that mimic its
nuisance factors: a centred digit carrying the label, partly visible neighbouring digits on
either side, 14 typefaces (the DejaVu, STIX and Computer Modern fonts that matplotlib ships),
random size, stretch, rotation and shear, coloured backgrounds with gradients, low-frequency
texture and an occasional plate edge, foreground colours with a minimum luminance contrast,
blur, illumination and pixel noise. Images are 32 x 32 x 3 uint8, like SVHN's.

The stand-in's labels follow SVHN's per-class counts, so the MoPoE pairing with MNIST yields as
many triples as the real data would. Image ``i`` of a split depends only on ``(seed, split, i)``,
so a smaller stand-in is a prefix of the full one. It is easier than real SVHN (no real
photographs, no JPEG artefacts, a tighter digit placement); every table and figure made with it
says so (``DATASET_NAMES``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter, zoom

# SVHN's cropped-digit counts for the digits 0..9 (train 73,257; test 26,032 images)
SVHN_CLASS_COUNTS = {
    "train": (4948, 13861, 10585, 8497, 7458, 6882, 5727, 5595, 5045, 4659),
    "test": (1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595),
}
FONT_FILES = (
    "DejaVuSans.ttf",
    "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf",
    "DejaVuSansMono.ttf",
    "DejaVuSansMono-Bold.ttf",
    "DejaVuSerif.ttf",
    "DejaVuSerif-Bold.ttf",
    "DejaVuSerif-Italic.ttf",
    "STIXGeneral.ttf",
    "STIXGeneralBol.ttf",
    "cmr10.ttf",
    "cmss10.ttf",
    "cmtt10.ttf",
)
IMAGE_SIZE = 32
_CANVAS = 2 * IMAGE_SIZE  # glyphs are drawn at twice the resolution, then box-downsampled
_SPLIT_CODES = {"train": 0, "test": 1}


@cache
def _font(name: str, size: int):
    import matplotlib
    from PIL import ImageFont

    return ImageFont.truetype(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name), size)


def _digit_mask(label: int, rng) -> np.ndarray:
    """The coverage (32, 32) in [0, 1] of the centred digit and its optional neighbours."""
    from PIL import Image, ImageDraw

    font = _font(FONT_FILES[rng.integers(len(FONT_FILES))], int(rng.integers(40, 68)))
    digits = [int(label)]
    left = rng.random() < 0.6
    if left:
        digits.insert(0, int(rng.integers(10)))
    if rng.random() < 0.6:
        digits.append(int(rng.integers(10)))
    gap = int(rng.integers(-2, 7))
    widths = [font.getbbox(str(d))[2] - font.getbbox(str(d))[0] for d in digits]
    centre = int(left)
    top, bottom = font.getbbox("0")[1], font.getbbox("0")[3]
    x = _CANVAS / 2 + rng.integers(-3, 4) - widths[centre] / 2 - sum(widths[:centre]) - gap * centre
    y = _CANVAS / 2 + rng.integers(-3, 4) - (top + bottom) / 2
    canvas = Image.new("L", (_CANVAS, _CANVAS), 0)
    draw = ImageDraw.Draw(canvas)
    for digit, width in zip(digits, widths):
        draw.text((x - font.getbbox(str(digit))[0], y), str(digit), font=font, fill=255)
        x += width + gap
    # rotation, shear and horizontal stretch about the centre (PIL maps output -> input)
    angle, shear = np.deg2rad(rng.uniform(-12, 12)), rng.uniform(-0.25, 0.25)
    stretch = rng.uniform(0.75, 1.3)
    c, s = np.cos(angle), np.sin(angle)
    inverse = np.linalg.inv(np.array([[c, -s], [s, c]]) @ np.array([[stretch, shear], [0, 1]]))
    half = _CANVAS / 2
    offset = np.array([half, half]) - inverse @ np.array([half, half])
    coeffs = (*inverse[0], offset[0], *inverse[1], offset[1])
    canvas = canvas.transform(canvas.size, Image.AFFINE, coeffs, resample=Image.BILINEAR)
    return np.asarray(canvas.reduce(2), dtype=np.float64) / 255.0


def _luminance(rgb) -> float:
    return float(np.dot(rgb, [0.299, 0.587, 0.114]))


def _colour(rng) -> np.ndarray:
    """A muted RGB colour: a grey level plus a little chroma (SVHN's photos are desaturated)."""
    return np.clip(rng.uniform(0.05, 0.95) + rng.uniform(0.0, 0.18) * rng.normal(size=3), 0, 1)


def _background(rng) -> np.ndarray:
    """A coloured background (32, 32, 3): gradient, low-frequency texture, maybe a plate edge."""
    base = _colour(rng)
    ramp = np.linspace(-1.0, 1.0, IMAGE_SIZE)
    direction = rng.uniform(0, 2 * np.pi)
    gradient = np.cos(direction) * ramp[None, :] + np.sin(direction) * ramp[:, None]
    tint = 1.0 + 0.2 * rng.normal(size=3)  # lighting varies mostly in brightness, not hue
    image = base + rng.uniform(-0.2, 0.2) * tint * gradient[..., None]
    texture = zoom(rng.normal(size=(4, 4, 1)), (IMAGE_SIZE / 4, IMAGE_SIZE / 4, 1), order=1)
    image = image + 0.06 * tint * texture
    if rng.random() < 0.3:  # the edge of a plate or door frame
        other = _colour(rng)
        cut = int(rng.integers(2, 8))
        side = rng.integers(4)
        view = np.rot90(image, side)
        view[:cut] = other
        image = np.rot90(view, -side)
    return image


def _foreground(background_luminance: float, rng) -> np.ndarray:
    """A digit colour whose luminance differs from the background's by at least 0.2."""
    while True:
        colour = _colour(rng)
        if abs(_luminance(colour) - background_luminance) >= 0.2:
            return colour


def render_street_number(label: int, rng) -> np.ndarray:
    """One 32 x 32 x 3 uint8 street-number crop whose centred digit is ``label``."""
    mask = _digit_mask(label, rng)[..., None]
    background = _background(rng)
    image = background * (1 - mask) + _foreground(_luminance(background.mean((0, 1))), rng) * mask
    image = image * rng.uniform(0.6, 1.2)  # illumination
    image = gaussian_filter(image, sigma=(*(rng.uniform(0.3, 1.3),) * 2, 0))
    image = image + rng.normal(scale=rng.uniform(0.0, 0.05), size=image.shape)
    return np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)


def street_number_labels(split: str, size: int | None = None, seed: int = 0) -> np.ndarray:
    """The stand-in's labels: SVHN's class counts for ``split``, shuffled; the first ``size``."""
    if split not in SVHN_CLASS_COUNTS:
        raise ValueError(f"unknown split {split!r}; choose 'train' or 'test'")
    counts = SVHN_CLASS_COUNTS[split]
    labels = np.repeat(np.arange(10), counts)
    np.random.default_rng([seed, _SPLIT_CODES[split]]).shuffle(labels)
    if size is not None and not 0 < size <= len(labels):
        raise ValueError(f"size must be in 1..{len(labels)} for the {split} split, got {size}")
    return labels[:size]


def make_street_numbers(split: str, size: int | None = None, seed: int = 0, progress=False):
    """(images (n, 32, 32, 3) uint8, labels (n,) int64) of the synthetic SVHN stand-in.

    Image ``i`` is drawn with the generator seeded by ``(seed, split, i)``.
    """
    from tqdm.auto import tqdm

    labels = street_number_labels(split, size, seed)
    code = _SPLIT_CODES[split]
    images = np.empty((len(labels), IMAGE_SIZE, IMAGE_SIZE, 3), np.uint8)
    for i in tqdm(
        range(len(labels)), desc=f"rendering {split} street numbers", disable=not progress
    ):
        images[i] = render_street_number(labels[i], np.random.default_rng([seed, code, i]))
    return images, labels.astype(np.int64)
