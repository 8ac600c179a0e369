"""The results cache: trained models on disk, keyed by everything that determines them.

A cache key (``config_hash``) hashes

* the caller's description of the run (section, data / model / training configuration, seed,
  condition: never evaluation settings);
* ``code_fingerprint()``: the code of every module that can change a trained model (``storage``,
  ``data``, ``models``, ``objectives``, ``training``, and the classifiers), read as syntax trees
  without docstrings, so a change of logic invalidates old entries by itself while a change of
  wording or layout does not: there is no version number to forget;

and the trainers add ``tree_digest`` of the model's initial parameters and of the training
arrays, so a section that builds its model or its data differently gets a new entry too.

An entry holds data only, so that a cache on shared storage can be read without trusting who
wrote it: an ``.npz`` archive of the parameter arrays (named by their path in the model's state)
and the loss history, with a JSON header, read with ``allow_pickle=False`` (a pickle would run
whatever code was written into it). The model's structure comes from the code that reads the
entry, never from the entry. Entries are written atomically (``storage.atomic_write_bytes``):
two jobs that finish the same training at once each write a whole file, and the last rename
wins. An entry that cannot be read back (truncated, not an archive, other arrays than the model
has) is reported with its path and retrained (``load_cached_run``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import io
import json
import tempfile
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mmvae_nb.storage import PACKAGE_ROOT, atomic_write_bytes, default_cache_dir

# the modules whose code determines a trained model or classifier
FINGERPRINTED = (
    "storage.py",
    "data",
    "models",
    "objectives",
    "training",
    "evaluation/classifiers.py",
)


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return tree


@functools.cache
def code_fingerprint() -> str:
    """A hash of the syntax trees (docstrings and comments dropped) of ``FINGERPRINTED``."""
    digest = hashlib.sha256()
    for entry in FINGERPRINTED:
        path = PACKAGE_ROOT / entry
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            tree = _strip_docstrings(ast.parse(file.read_text()))
            digest.update(str(file.relative_to(PACKAGE_ROOT)).encode())
            digest.update(ast.dump(tree).encode())
    return digest.hexdigest()[:16]


def config_hash(*parts) -> str:
    """A stable short hash of dataclasses / JSON-able values and the code fingerprint."""

    def plain(p):
        return asdict(p) if hasattr(p, "__dataclass_fields__") else p

    blob = json.dumps([code_fingerprint(), *map(plain, parts)], sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def tree_digest(tree) -> str:
    """A hash of every array of a pytree (shapes, dtypes and bytes), e.g. initial parameters."""
    digest = hashlib.sha256()
    for leaf in jax.tree.leaves(tree):
        array = np.asarray(leaf)
        digest.update(f"{array.shape}{array.dtype}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def run_path(cache_dir: Path | None, cache_key: str, *digests: str) -> Path:
    """Where the run ``cache_key`` (with the trainer's digests) lives in the cache."""
    name = config_hash(cache_key, *digests)
    return (cache_dir or default_cache_dir()) / "results" / f"{name}.npz"


def enable_compilation_cache(cache_dir: Path | None = None) -> None:
    """Turn on JAX's persistent compilation cache in the project's cache directory; nothing to
    do when it is on there already (called at every cache lookup: ``load_cached_run``)."""
    path = (cache_dir or default_cache_dir()) / "jax"
    if (
        jax.config.jax_compilation_cache_dir == str(path)
        and jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
    ):
        return
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    # every program, however quick to compile: evaluation builds many small ones per model,
    # the same for every repetition and beta of a configuration
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)


class UnreadableEntry(Exception):
    """A cache entry that cannot be read back into the structure the code expects."""


HEADER = "__header__"


def rescue_path(path: Path) -> Path:
    """Where an entry that could not be written at ``path`` is kept instead."""
    return Path(tempfile.gettempdir()) / "mmvae_nb-unsaved" / Path(path).name


def save_arrays(path: Path, arrays: dict[str, np.ndarray], header: dict) -> None:
    """Write named arrays and a JSON-able ``header`` as one ``.npz`` archive, atomically. When
    ``path`` cannot take it (full disk, read-only folder), the archive goes to ``rescue_path``
    and the ``OSError`` says where, so that a finished training is not lost."""
    buffer = io.BytesIO()
    np.savez(buffer, **{HEADER: np.array(json.dumps(header))}, **arrays)
    try:
        atomic_write_bytes(buffer.getvalue(), path)
    except OSError as error:
        rescue = rescue_path(path)
        try:
            atomic_write_bytes(buffer.getvalue(), rescue)
        except OSError:
            raise OSError(f"could not write {path} ({error}), nor a copy at {rescue}") from error
        raise OSError(
            f"could not write {path} ({error}); the trained state is kept at {rescue}: copy it "
            f"to {path} once that folder takes files, and the run loads it from the cache"
        ) from error


def load_arrays(path: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """(header, arrays) of a ``save_arrays`` archive; never unpickles. Anything that is not
    such an archive raises ``UnreadableEntry`` naming ``path``."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}
        header = json.loads(str(arrays.pop(HEADER)))
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
        reason = f"{type(error).__name__}: {error}"
        if "pickle" in str(error):  # numpy's message goes on to advise loading it unsafely
            reason = "it holds pickled objects, which are never loaded (entries are arrays only)"
        raise UnreadableEntry(f"{path}: {reason}") from error
    return header, arrays


def _paths(tree: dict, prefix: str = "") -> dict[str, tuple]:
    """Every leaf of a nested pure dict by its '/'-joined path (the keys as the state has them)."""
    out = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(_paths(value, f"{name}/"))
        else:
            out[name] = value
    return out


def state_arrays(state, prefix: str = "state/") -> dict[str, np.ndarray]:
    """An nnx state's arrays (numpy), named by ``prefix`` + their path."""
    pure = nnx.to_pure_dict(state)
    return {f"{prefix}{name}": np.asarray(leaf) for name, leaf in _paths(pure).items()}


def restore_state(state, arrays: dict[str, np.ndarray], prefix: str = "state/", where="") -> None:
    """Fill ``state`` (the structure the code builds, e.g. freshly initialised) in place with
    ``state_arrays``'s output; a missing, extra or differently shaped array raises
    ``UnreadableEntry``."""
    pure = nnx.to_pure_dict(state)
    expected = _paths(pure)
    stored = {name[len(prefix) :] for name in arrays if name.startswith(prefix)}
    if stored != set(expected):
        missing, extra = sorted(set(expected) - stored), sorted(stored - set(expected))
        raise UnreadableEntry(
            f"{where}: other arrays than the model's (missing {missing[:3]}, "
            f"unexpected {extra[:3]})"
        )

    def fill(tree, path=""):
        out = {}
        for key, value in tree.items():
            name = f"{path}{key}"
            if isinstance(value, dict):
                out[key] = fill(value, f"{name}/")
                continue
            array = arrays[f"{prefix}{name}"]
            if array.shape != np.shape(value) or array.dtype != np.asarray(value).dtype:
                raise UnreadableEntry(
                    f"{where}: {name} is {array.dtype}{list(array.shape)}, the model's "
                    f"{np.asarray(value).dtype}{list(np.shape(value))}"
                )
            out[key] = jnp.asarray(array)
        return out

    nnx.replace_by_pure_dict(state, fill(pure))


class TrainedModels(NamedTuple):
    """All replicas of one configuration: ``model(r)`` rebuilds replica r as an nnx module."""

    graphdef: Any
    state: Any  # nnx.State with a leading replica axis
    loss_history: np.ndarray  # (R, epochs): mean training loss (negative bound) per epoch
    train_seconds: float  # wall time of the training (also when loaded from the cache)
    from_cache: bool = False  # loaded by ``load_run`` instead of trained
    # model selection (``streaming.train_streaming(select_on=...)``): the selected epoch and
    # every epoch's selection value; None when the last parameters are kept
    selection: dict | None = None

    @property
    def num_replicas(self) -> int:
        return self.loss_history.shape[0]

    def diverged_epoch(self, replica: int) -> int | None:
        """The first epoch whose training loss was not finite (the replica diverged there and
        its parameters are meaningless), or ``None``."""
        bad = np.flatnonzero(~np.isfinite(self.loss_history[replica]))
        return int(bad[0]) if bad.size else None

    def model(self, replica: int):
        return nnx.merge(self.graphdef, jax.tree.map(lambda a: a[replica], self.state))


def load_run(path: Path, graphdef, state) -> TrainedModels:
    """A run cached by ``save_run``, into ``state`` (same structure, e.g. freshly initialised);
    ``UnreadableEntry`` if the entry cannot be read back."""
    header, arrays = load_arrays(path)
    restore_state(state, arrays, where=str(path))
    if "loss_history" not in arrays or "train_seconds" not in header:
        raise UnreadableEntry(f"{path}: no loss history or training time")
    return TrainedModels(
        graphdef,
        state,
        arrays["loss_history"],
        header["train_seconds"],
        True,
        header.get("selection"),
    )


def load_cached(path: Path | None, read: Callable[[Path], Any]):
    """``read(path)`` of a cache entry, or ``None`` when there is none or it is unreadable
    (``UnreadableEntry``: then a warning names the entry and the caller retrains over it)."""
    if path is None or not path.exists():
        return None
    try:
        return read(path)
    except UnreadableEntry as error:
        warnings.warn(f"unreadable cache entry, retraining: {error}", stacklevel=3)
        return None


def load_cached_run(path: Path | None, graphdef, state) -> TrainedModels | None:
    """The cached run at ``path`` (``load_cached`` of ``load_run``). The persistent compilation
    cache is turned on in the entry's cache directory (``run_path``: <cache>/results/...) first,
    so that a notebook that only loads models compiles their evaluation programs with it too."""
    if path is not None:
        enable_compilation_cache(Path(path).parents[1])
    return load_cached(path, lambda entry: load_run(entry, graphdef, state))


def save_run(path: Path, state, loss_history, train_seconds: float, selection=None) -> None:
    """Cache a finished run (the state's arrays, loss history, its training wall time and any
    model selection) atomically at ``path``."""
    arrays = {**state_arrays(state), "loss_history": np.asarray(loss_history)}
    header = {"train_seconds": float(train_seconds)}
    if selection is not None:
        header["selection"] = selection
    save_arrays(path, arrays, header)
