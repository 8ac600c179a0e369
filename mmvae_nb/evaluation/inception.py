"""Inception-v3 pool features for the seed paper's FID, from weights a user supplies.

The seed paper (Sutter & Vogt, Table 2) reports FID (Heusel et al. 2017): the Fréchet distance
(``evaluation.fid``) between Gaussians fitted to the 2048-d final-average-pool features of the
Inception-v3 network of TensorFlow's FID code. Its weights cannot be downloaded here, so the
relational section measures the same distance in its own classifier's features by default.
Given the weights, this module computes the real features with pytorch-fid's port of that
network (``pytorch_fid.inception.InceptionV3``; the optional extra ``.[inception]`` installs
PyTorch and pytorch-fid): download ``pt_inception-2015-12-05-6726825d.pth`` from pytorch-fid's
releases on a machine with internet and pass its path.

Images are (n, H, W, 3) or flat (n, H * W * 3) HWC pixels in [0, 1] (``PolyMNIST.flat``);
pytorch-fid resizes them bilinearly to 299 x 299 and scales them to [-1, 1], as its FID does.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from mmvae_nb.data.polymnist import IMAGE_SHAPE

# the file name under which pytorch-fid's ``fid_inception_v3`` looks for its weights
WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
FEATURE_DIM = 2048
INSTALL_HINT = "pip install -e '.[inception]' (PyTorch and pytorch-fid)"


def check_weights(path) -> Path:
    """The weights file as a resolved path; a clear error if it or pytorch-fid is missing."""
    weights = Path(path).expanduser().resolve()
    if not weights.is_file():
        raise FileNotFoundError(
            f"Inception weights {weights} not found: download {WEIGHTS_FILE} from "
            "https://github.com/mseitzer/pytorch-fid/releases and pass its path"
        )
    try:
        import pytorch_fid.inception  # noqa: F401
    except ImportError as error:
        raise ImportError(f"Inception FID needs pytorch-fid: {INSTALL_HINT}") from error
    return weights


def as_channels_first(images, image_shape=IMAGE_SHAPE) -> np.ndarray:
    """(n, C, H, W) float32 in [0, 1] from (n, H, W, C) or flat (n, H * W * C) images."""
    x = np.asarray(images, np.float32)
    if x.ndim == 2:
        if x.shape[1] != int(np.prod(image_shape)):
            raise ValueError(f"flat images of {x.shape[1]} values are not {image_shape}")
        x = x.reshape(len(x), *image_shape)
    if x.ndim != 4 or x.shape[-1] != 3:
        raise ValueError(f"images must be (n, H, W, 3) or flat, got {x.shape}")
    if x.size and (x.min() < 0 or x.max() > 1):
        raise ValueError("images must lie in [0, 1]")
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


class InceptionFeatures:
    """``features(images)`` -> (n, 2048) pool features of the FID Inception-v3 (pytorch-fid)
    loaded from ``weights`` (``WEIGHTS_FILE``), on the GPU when PyTorch sees one."""

    def __init__(self, weights, *, batch_size: int = 50, device: str | None = None):
        self.weights = check_weights(weights)
        import torch
        from pytorch_fid.inception import InceptionV3

        self.batch_size = batch_size
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        # pytorch-fid reads its weights from the torch hub cache under WEIGHTS_FILE: point a
        # temporary hub folder at the user's file instead of downloading
        previous = torch.hub.get_dir()
        with tempfile.TemporaryDirectory() as hub:
            checkpoints = Path(hub) / "checkpoints"
            checkpoints.mkdir()
            (checkpoints / WEIGHTS_FILE).symlink_to(self.weights)
            torch.hub.set_dir(hub)
            try:
                block = InceptionV3.BLOCK_INDEX_BY_DIM[FEATURE_DIM]
                self.network = InceptionV3([block]).to(self.device).eval()
            finally:
                torch.hub.set_dir(previous)

    def __call__(self, images, image_shape=IMAGE_SHAPE) -> np.ndarray:
        import torch

        x = as_channels_first(images, image_shape)
        out = []
        with torch.no_grad():
            for start in range(0, len(x), self.batch_size):
                batch = torch.from_numpy(x[start : start + self.batch_size]).to(self.device)
                pooled = self.network(batch)[0]  # (b, 2048, 1, 1)
                out.append(pooled.squeeze(-1).squeeze(-1).cpu().numpy())
        return np.concatenate(out).astype(np.float64) if out else np.zeros((0, FEATURE_DIM))
