"""The results cache key: derived from the code (no version number to bump), blind to
docstrings, comments and layout, and sensitive to initial parameters and data."""

import ast

import numpy as np

from mmvae_nb.training import cache


def _dump(source: str) -> str:
    return ast.dump(cache._strip_docstrings(ast.parse(source)))


def test_fingerprint_ignores_wording_but_not_logic():
    base = 'def f(x):\n    """Adds one."""\n    return x + 1\n'
    reworded = 'def f(x):\n    """Adds 1 (eq. 4)."""\n\n    # comment\n    return (x + 1)\n'
    changed = 'def f(x):\n    """Adds one."""\n    return x + 2\n'
    assert _dump(base) == _dump(reworded)
    assert _dump(base) != _dump(changed)


def test_fingerprint_covers_the_training_path_and_enters_every_key(monkeypatch):
    fingerprint = cache.code_fingerprint()
    assert len(fingerprint) == 16 and fingerprint == cache.code_fingerprint()
    key = cache.config_hash("linear", {"epochs": 3})
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-version")
    assert cache.config_hash("linear", {"epochs": 3}) != key


def test_tree_digest_sees_values_shapes_and_dtypes():
    a = {"w": np.zeros((2, 3), np.float32)}
    assert cache.tree_digest(a) == cache.tree_digest({"w": np.zeros((2, 3), np.float32)})
    assert cache.tree_digest(a) != cache.tree_digest({"w": np.ones((2, 3), np.float32)})
    assert cache.tree_digest(a) != cache.tree_digest({"w": np.zeros((3, 2), np.float32)})
    assert cache.tree_digest(a) != cache.tree_digest({"w": np.zeros((2, 3), np.float64)})
