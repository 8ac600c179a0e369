"""Where the project keeps things, and how it writes them (the bottom layer: imports nothing of
the package).

* ``project_root()``: outputs (``tables/``, ``figures/``) are written under it;
* ``default_cache_dir()``: trained models, rendered data, classifiers and JAX's compilation
  cache (``$MMVAE_NB_CACHE``, else ``.cache`` in the project root, git-ignored);
* ``data_dir()``: downloaded data (real SVHN): ``$MMVAE_NB_DATA``, else ``data/`` in the cache,
  wherever a command runs;
* ``atomic_write_bytes`` / ``atomic_write_text``: every file the project writes is written to a
  temporary file in the same folder and renamed over the target, so a killed run never leaves a
  half-written cache entry, table or figure; the file gets the mode the user's umask gives a new
  file (``tempfile.mkstemp`` makes it 0600, which a cache shared by a group cannot read).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent


def project_root() -> Path:
    """``$MMVAE_NB_ROOT``, else the nearest folder above the cwd with this project's
    pyproject.toml, else the cwd."""
    if os.environ.get("MMVAE_NB_ROOT"):
        return Path(os.environ["MMVAE_NB_ROOT"])
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        toml = folder / "pyproject.toml"
        if toml.exists() and 'name = "mmvae_nb"' in toml.read_text():
            return folder
    return here


def default_cache_dir() -> Path:
    """``$MMVAE_NB_CACHE`` or ``.cache`` in the project root (git-ignored)."""
    root = os.environ.get("MMVAE_NB_CACHE")
    return Path(root) if root else PACKAGE_ROOT.parent / ".cache"


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir`` when given, else ``default_cache_dir()``."""
    return Path(cache_dir) if cache_dir else default_cache_dir()


def data_dir() -> Path:
    """``$MMVAE_NB_DATA``, else ``data`` in ``default_cache_dir()``."""
    root = os.environ.get("MMVAE_NB_DATA")
    return Path(root) if root else default_cache_dir() / "data"


def _umask() -> int:
    """The process's umask (read once: setting it to read it is not thread-safe)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


NEW_FILE_MODE = 0o666 & ~_umask()


def atomic_write_bytes(data: bytes, path: Path) -> None:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        os.fchmod(fd, NEW_FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(text: str, path: Path) -> None:
    """``atomic_write_bytes`` for UTF-8 text."""
    atomic_write_bytes(text.encode(), path)
