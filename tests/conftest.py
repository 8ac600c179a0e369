"""Tests compare against closed forms in float64 (jax x64); training code casts data to float32.

The suite's programs are tiny and each is compiled once, so its time is XLA compilation: the
test processes use XLA's cheapest CPU backend pipeline (optimization level 0: about half the
compile time, the same functions rounded differently, so a trained model's numbers move;
benchmarks/xla_pipeline.py). Notebooks whose smoke runs are dominated by running convolutions
get the user's own flags back (tests/test_notebooks.py)."""

import os

USER_XLA_FLAGS = os.environ.get("XLA_FLAGS")  # None when unset
os.environ["XLA_FLAGS"] = f"{USER_XLA_FLAGS or ''} --xla_backend_optimization_level=0".strip()

import jax  # noqa: E402  (XLA reads its flags when the backend starts)
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)


def pytest_collection_modifyitems(items):
    """The notebook runs (the longest tests) first, so that the workers end together; notebook 04's
    kernel (XLA's default pipeline) then trains the smoke classifiers that
    tests/test_classifiers.py, in the same xdist group, loads from the cache."""
    items.sort(key=lambda item: item.get_closest_marker("notebook") is None)


@pytest.fixture
def key():
    return jax.random.key(0)
