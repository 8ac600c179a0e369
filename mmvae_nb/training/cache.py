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
Entries are written atomically (``storage.atomic_write_bytes``).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import pickle
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

import jax
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
    return (cache_dir or default_cache_dir()) / "results" / f"{name}.pkl"


def enable_compilation_cache(cache_dir: Path | None = None) -> None:
    """Turn on JAX's persistent compilation cache in the project's cache directory."""
    path = (cache_dir or default_cache_dir()) / "jax"
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)


def atomic_pickle(obj, path: Path) -> None:
    """Pickle ``obj`` to ``path`` atomically."""
    atomic_write_bytes(pickle.dumps(obj), path)


class TrainedModels(NamedTuple):
    """All replicas of one configuration: ``model(r)`` rebuilds replica r as an nnx module."""

    graphdef: Any
    state: Any  # nnx.State with a leading replica axis
    loss_history: np.ndarray  # (R, epochs): mean training loss (negative bound) per epoch
    train_seconds: float  # wall time of the training (also when loaded from the cache)
    from_cache: bool = False  # loaded by ``load_run`` instead of trained

    @property
    def num_replicas(self) -> int:
        return self.loss_history.shape[0]

    def model(self, replica: int):
        return nnx.merge(self.graphdef, jax.tree.map(lambda a: a[replica], self.state))


def load_run(path: Path, graphdef, state) -> TrainedModels:
    """A run cached by ``save_run``, into ``state`` (same structure, e.g. freshly initialised)."""
    with open(path, "rb") as f:
        saved = pickle.load(f)
    nnx.replace_by_pure_dict(state, saved["state"])
    return TrainedModels(graphdef, state, saved["loss_history"], saved["train_seconds"], True)


def save_run(path: Path, state, loss_history, train_seconds: float) -> None:
    """Cache a finished run (numpy state, loss history and its training wall time) atomically
    at ``path``."""
    pure = nnx.to_pure_dict(jax.tree.map(np.asarray, state))
    payload = {"state": pure, "loss_history": loss_history, "train_seconds": train_seconds}
    atomic_pickle(payload, path)
