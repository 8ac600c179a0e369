"""Tests compare against closed forms in float64 (jax x64); training code casts data to float32."""

import jax
import pytest

jax.config.update("jax_enable_x64", True)


@pytest.fixture
def key():
    return jax.random.key(0)
