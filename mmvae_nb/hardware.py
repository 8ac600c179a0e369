"""Which devices JAX computes on, and the paper profile's refusal to train on a CPU (issue 37).

Every launch and notebook starts with ``check_devices(profile, sections)``: it prints the
devices JAX uses and, for the ``paper`` profile on a machine where JAX sees no accelerator,
stops before any training with the projected CPU hours of what was asked (``projected_hours``,
from ``reference/paper_cost.csv``) beside the GPU hours the plan projects on one H100
(``gpu_hours``, from ``reference/paper_gpu_plan.csv``, which ``make plan`` writes:
``mmvae_nb.planning``) and how to go on anyway: ``ALLOW_CPU=1`` for make, or
``$MMVAE_NB_ALLOW_CPU=1``.

The projection (``benchmarks/paper_cost.py`` writes the table) counts every training of every
section at the paper's settings: CPU seconds per step measured where a cost class was timed, and
otherwise XLA's FLOP count of the class's step times the seconds per FLOP of the timed classes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cache

import pandas as pd

from mmvae_nb.storage import PACKAGE_ROOT

ALLOW_CPU_VARIABLE = "MMVAE_NB_ALLOW_CPU"
COST_TABLE = PACKAGE_ROOT / "reference" / "paper_cost.csv"
GPU_PLAN_TABLE = PACKAGE_ROOT / "reference" / "paper_gpu_plan.csv"
PROFILES_ON_ACCELERATORS = ("paper",)


class CPUTrainingRefused(RuntimeError):
    """The paper profile was asked for on a machine where JAX sees no accelerator."""


def accelerators() -> list:
    """The local devices that are not CPUs."""
    import jax

    return [d for d in jax.local_devices() if d.platform != "cpu"]


def describe_devices() -> str:
    """One line: JAX's version, its backend and the devices it uses."""
    import jax

    devices = jax.local_devices()
    kinds = sorted({d.device_kind for d in devices})
    return (
        f"JAX {jax.__version__} on {jax.default_backend()}: {len(devices)} device(s) "
        f"({', '.join(kinds)})"
    )


@cache
def cost_table() -> pd.DataFrame:
    """One row per training of the paper profile: section, job, steps, projected CPU hours."""
    return pd.read_csv(COST_TABLE)


def projected_hours(sections: Sequence[str]) -> pd.Series:
    """Projected CPU hours of the paper profile's trainings, per section of ``sections``."""
    table = cost_table()
    table = table[table["section"].isin(sections)]
    return table.groupby("section", sort=False)["projected_cpu_hours"].sum()


def gpu_hours(sections: Sequence[str]) -> pd.Series:
    """The plan's projected hours on one H100 of the paper profile, per section of
    ``sections``."""
    table = pd.read_csv(GPU_PLAN_TABLE)
    return table[table["section"].isin(sections)].set_index("section")["gpu_hours"]


def cpu_allowed() -> bool:
    return os.environ.get(ALLOW_CPU_VARIABLE, "").strip().lower() in ("1", "true", "yes")


def check_devices(profile: str, sections: Sequence[str], *, echo=print) -> None:
    """Print the devices; for a profile meant for accelerators (``paper``) on a machine without
    one, raise ``CPUTrainingRefused`` with the projected CPU hours of ``sections``, unless
    ``$MMVAE_NB_ALLOW_CPU`` is set."""
    echo(describe_devices())
    if profile not in PROFILES_ON_ACCELERATORS or accelerators():
        return
    hours, gpu = projected_hours(sections), gpu_hours(sections)
    lines = "\n".join(
        f"  {section:16s} {h:10,.0f} CPU hours {gpu[section]:8.2f} H100 hours"
        for section, h in hours.items()
    )
    message = (
        f"JAX sees no accelerator, and the {profile!r} profile's trainings of {list(sections)} "
        f"would take about {hours.sum():,.0f} CPU hours here (one core's measured or "
        f"FLOP-projected speed, {COST_TABLE.name}), against about {gpu.sum():.1f} hours on one "
        f"H100 (the plan's cost model, {GPU_PLAN_TABLE.name}; `python -m mmvae_nb.launch "
        f"--plan` says how):\n{lines}\n"
        "Install JAX with CUDA (`make reproduce` does where nvidia-smi finds a GPU, or GPU=1; "
        "pip install -e '.[gpu]'), rehearse the pipeline on this CPU in minutes with "
        "`make rehearse`, or go on anyway with ALLOW_CPU=1 (make) / "
        f"{ALLOW_CPU_VARIABLE}=1 (python, papermill)."
    )
    if cpu_allowed():
        echo(f"warning: {message}")
        return
    raise CPUTrainingRefused(message)
