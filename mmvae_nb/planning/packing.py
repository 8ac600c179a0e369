"""How many programs share one device, and in which order they start.

Small programs leave most of a GPU idle; several on one device fill each other's waits
(``cost``). JAX preallocates 75 % of a GPU to its process by default; a worker started with
``XLA_PYTHON_CLIENT_PREALLOCATE=false`` takes only what its program needs, so n workers fit on a
device where their programs' memory does. ``workers_per_device`` is the largest n, up to a cap,
such that the n largest programs of the queue, each with a worker process's own memory, fit in
the device's memory less a margin: whichever n run at once then fit. Programs start longest
first (LPT) from one queue every worker pulls from, so that the largest is not left for last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from mmvae_nb.planning.cost import Constant

MEMORY_MARGIN = Constant(
    "memory margin",
    0.2,
    "of the device's memory",
    "estimated",
    "the compiled peaks are XLA's on a CPU; a GPU's fusions, cuDNN workspaces and allocator "
    "fragmentation differ",
)
WORKER_BYTES = Constant(
    "memory of a worker besides its program",
    2**30,
    "bytes",
    "estimated",
    "a CUDA context with its cuBLAS and cuDNN handles and workspaces: 0.5-1 GiB",
)
MAX_PER_DEVICE = Constant(
    "workers per device, at most",
    4,
    "",
    "estimated",
    "processes time-slice a GPU (no MPS): beyond a few, little is gained; --per-device "
    "sets another cap",
)
H100_BYTES = Constant(
    "H100 memory JAX may use",
    0.75 * 80e9,
    "bytes",
    "datasheet",
    "80 GB of HBM3 (H100 SXM5) x JAX's default XLA_PYTHON_CLIENT_MEM_FRACTION, 0.75 (the "
    "bytes_limit of its memory_stats)",
)
CONSTANTS = (MEMORY_MARGIN, WORKER_BYTES, MAX_PER_DEVICE, H100_BYTES)


def workers_per_device(program_bytes: Iterable[float], device_bytes: float, cap: int) -> int:
    """The most workers (at least 1, at most ``cap``) such that the largest programs of
    ``program_bytes``, one per worker, each with ``WORKER_BYTES``, fit in ``device_bytes``
    less ``MEMORY_MARGIN``."""
    budget = device_bytes * (1 - MEMORY_MARGIN.value)
    workers, used = 0, 0.0
    for size in sorted(program_bytes, reverse=True)[:cap]:
        used += size + WORKER_BYTES.value
        if used > budget:
            break
        workers += 1
    return max(workers, 1)


def longest_first(items: Sequence, seconds: Callable[[object], float]) -> list:
    """``items`` in the order of their projected ``seconds``, longest first (ties as given)."""
    return sorted(items, key=seconds, reverse=True)
