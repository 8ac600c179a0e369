"""Where ``streaming.train_streaming`` keeps its data: on the device when it fits, else the host.

A data set can live on the device when it has the three methods of ``data.mnist_svhn_text``'s
and ``data.polymnist``'s data sets: ``device_arrays()`` (the arrays batches are gathered from),
``epoch_draws(batch_size, rng)`` (the host's random draws of one epoch, the same as
``batches(batch_size, rng)`` draws) and ``device_batch(arrays, draw)`` (one batch, traceable).
Its arrays then go to the device once and every batch is gathered inside the compiled epoch
(``streamed_epochs.DeviceEpochs``), bit for bit the host's batch. They go there when they take
at most ``DEVICE_SHARE`` of what the device can hold (a GPU's memory limit, or a CPU's available
RAM), leaving the rest to the model, its optimiser and the step's activations; MNIST-SVHN-Text's
285 MB fit any GPU, full PolyMNIST's 2.8 GB (float32) most.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import jax
import numpy as np

DEVICE_SHARE = 0.25
DEVICE_METHODS = ("device_arrays", "epoch_draws", "device_batch")


class Placement(NamedTuple):
    """The data's place (on the device or not) and the one line that says why."""

    on_device: bool
    reason: str


def has_device_batches(data) -> bool:
    """Whether ``data`` can gather its batches on the device (``DEVICE_METHODS``)."""
    return all(callable(getattr(data, name, None)) for name in DEVICE_METHODS)


def tree_bytes(tree) -> int:
    """The bytes of every array of a pytree."""
    return sum(np.asarray(leaf).nbytes for leaf in jax.tree.leaves(tree))


def memory_budget(device=None) -> tuple[int, str]:
    """(bytes, what they are) that ``device`` (default: JAX's first) can hold: an accelerator's
    memory limit, or on a CPU the RAM available now (``MemAvailable``, else free pages)."""
    device = device or jax.devices()[0]
    stats = device.memory_stats() or {}
    if "bytes_limit" in stats:
        return int(stats["bytes_limit"]), f"{device.platform.upper()} memory"
    return _available_ram(), "available RAM"


def _available_ram() -> int:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def choose_placement(data, data_on_device: bool | None = None) -> Placement:
    """On the device when ``data`` has device batches and its arrays take at most
    ``DEVICE_SHARE`` of ``memory_budget()``, or as ``data_on_device`` forces (``True`` raises
    for data without device batches)."""
    if not has_device_batches(data):
        if data_on_device:
            raise ValueError(f"{type(data).__name__} has no device batches ({DEVICE_METHODS})")
        return Placement(False, "batches assembled on the host (no device batches for this data)")
    nbytes = tree_bytes(data.device_arrays())
    size = _in_units(nbytes)
    if data_on_device is not None:
        where = "on the device" if data_on_device else "on the host"
        return Placement(data_on_device, f"data {where} ({size}; data_on_device={data_on_device})")
    budget, what = memory_budget()
    share = f"{DEVICE_SHARE:.0%} of the {_in_units(budget)} of {what}"
    if nbytes <= DEVICE_SHARE * budget:
        return Placement(True, f"data on the device ({size}, within {share})")
    return Placement(False, f"batches assembled on the host ({size}, over {share})")


def _in_units(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB" if nbytes >= 1e9 else f"{nbytes / 1e6:.1f} MB"
