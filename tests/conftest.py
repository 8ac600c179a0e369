"""Tests compare against closed forms in float64 (jax x64); training code casts data to float32.

The suite's programs are tiny and each is compiled once, so its time is XLA compilation (most of
it per-primitive programs of eager code). The test processes, and the notebook kernels they
start, use XLA's cheapest CPU pipeline: optimization level 0 and the loop emitters instead of the
fusion emitters (measured on one eager test, 408 programs: 20.5 -> 10.2 s of compilation; on
one linear training 30.5 -> 20.3 s). The same functions are rounded differently, so a trained
model's numbers move (benchmarks/xla_pipeline.py), and compiled steps run slower: the smoke
runs take few steps."""

import os

from mmvae_nb.xla_flags import FAST_COMPILE

os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_COMPILE}".strip()

import jax  # noqa: E402  (XLA reads its flags when the backend starts)
import pytest  # noqa: E402

jax.config.update("jax_enable_x64", True)


def pytest_collection_modifyitems(items):
    """The notebook runs (the longest tests) first, so that the workers end together."""
    items.sort(key=lambda item: item.get_closest_marker("notebook") is None)


@pytest.fixture
def key():
    return jax.random.key(0)
