"""Replicas split over several devices train as on one device (4 CPU devices forced with
XLA_FLAGS, in a subprocess: the flag is read when the backend starts).

Equal up to rounding, not bit for bit: each device's program is compiled for 1 replica instead
of 4 and XLA rounds some sums differently, and Adam's first steps are nearly sign(g) steps, so
a gradient component near zero that rounds to the other sign moves its parameter by a learning
rate (measured after one epoch of 3 steps: losses equal to 1e-7 for three replicas and 3.3e-5
for the fourth). The tolerances sit far below the gap between replicas, which a mix-up of
replicas across devices would show. On one device the numbers are the unsharded trainer's,
bit for bit."""

import os
import subprocess
import sys

import pytest

from mmvae_nb.training.trainer import devices_used, replica_sharding

SCRIPT = """
import jax, numpy as np
from flax import nnx
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.training.trainer import TrainConfig, train_replicas

assert len(jax.devices()) == 4, jax.devices()
rng = np.random.default_rng(0)
xs = [rng.normal(size=(4, 30, d)).astype(np.float32) for d in (3, 4)]
present = rng.random((4, 30, 2)) < 0.8

def make(key, _):
    return mlp_vae((3, 4), 2, "SelfAttention", rngs=nnx.Rngs(key), encoder_hidden=(8,))

config = TrainConfig(epochs=1, batch_size=10, beta=(1.0, 0.5, 1.0, 4.0))
one = train_replicas(make, xs, present, config, progress=False, devices=jax.devices()[:1])
four = train_replicas(make, xs, present, config, progress=False)
leaves_one, leaves_four = jax.tree.leaves(one.state), jax.tree.leaves(four.state)
assert {len(a.sharding.device_set) for a in leaves_four} == {4}
assert {len(a.sharding.device_set) for a in leaves_one} == {1}
np.testing.assert_allclose(one.loss_history, four.loss_history, rtol=1e-3)
assert np.ptp(one.loss_history) > 10  # the replicas differ far more than the tolerance
for a, b in zip(leaves_one, leaves_four, strict=True):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-2)
print("same numbers on 1 and 4 devices")
"""


def test_replicas_on_four_devices_train_as_on_one():
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4"
    env = {**os.environ, "XLA_FLAGS": flags.strip(), "JAX_PLATFORMS": "cpu"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "same numbers on 1 and 4 devices" in out.stdout


@pytest.mark.parametrize("replicas, used", [(8, 4), (6, 3), (5, 1), (4, 4), (2, 2), (1, 1)])
def test_the_replica_axis_uses_as_many_devices_as_divide_it(replicas, used):
    assert devices_used(replicas, 4) == used
    sharding = replica_sharding(replicas)  # this process: one device
    assert sharding.mesh.devices.size == 1 and tuple(sharding.spec) == ("replica",)


LAUNCH = """
import jax
from mmvae_nb import launch

assert len(jax.devices()) == 4, jax.devices()
todo = launch.jobs(["aux_label"], "smoke")[:1]  # 2 repetitions x 2 betas: 4 replicas
(record,) = launch.run_local(todo, launch.LaunchOptions())
assert record["status"] == "done", record
section = launch.section_object("aux_label", "smoke", 0, "")
assert section.num_replicas == 4
assert section.train(todo[0].run, progress=False).from_cache
print("launched on 4 devices")
"""


def test_a_smoke_launch_runs_on_four_devices(tmp_path):
    """A paper-shaped launch (the smoke profile's sizes) on 4 forced CPU devices."""
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4"
    env = {**os.environ, "XLA_FLAGS": flags.strip(), "MMVAE_NB_CACHE": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", LAUNCH], env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "launched on 4 devices" in out.stdout
