"""The committed measurements the plan reads (nothing is compiled or timed here).

* ``class_costs()``: per cost class, XLA's FLOPs per step and compiled memory of one training's
  step at the paper's shapes, compiled on a CPU (``benchmarks/results/paper_programs_cpu.csv``:
  the compile report ``make rehearse`` writes to ``tables/rehearse/paper_programs.csv``, or
  ``python -m mmvae_nb.paper_programs --out`` it directly).
* ``measured_steps()``: GPU seconds per step measured on a device: the rows of
  ``benchmarks/results/gpu_step_times.csv`` (derived from committed GPU trainings by
  ``benchmarks/gpu_step_times.py``) and of every ``paper_programs_<gpu>.csv`` that ``make
  gpu-slice`` wrote (one training's step, timed).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd

from mmvae_nb.storage import PACKAGE_ROOT

RESULTS = PACKAGE_ROOT.parent / "benchmarks" / "results"
CLASS_TABLE = RESULTS / "paper_programs_cpu.csv"
STEP_TIMES = RESULTS / "gpu_step_times.csv"
STEP_DTYPES = {
    "device": str,
    "cost_class": str,
    "trainings": int,
    "seconds_per_step": float,
    "source": str,
}
MEASURED_COLUMNS = list(STEP_DTYPES)


@cache
def class_costs() -> pd.DataFrame:
    """Per cost class (the index): section, ``flops_per_step`` and ``peak_bytes`` (arguments,
    outputs and temporaries less aliased buffers) of one training's step; classes whose
    compilation failed are left out."""
    table = pd.read_csv(CLASS_TABLE)
    table = table[table["status"] == "ok"]
    return table.set_index("cost_class")[["section", "flops_per_step", "peak_bytes"]]


def _slice_rows(path: Path) -> pd.DataFrame:
    """The timed rows of one ``paper_programs_<gpu>.csv`` as measured steps (one training)."""
    table = pd.read_csv(path)
    if "seconds_per_step" not in table:  # compiled only (the CPU's table)
        return table.iloc[:0].reindex(columns=MEASURED_COLUMNS).astype(STEP_DTYPES)
    table = table[(table["status"] == "ok") & table["seconds_per_step"].notna()].copy()
    table["trainings"] = 1
    table["source"] = f"make gpu-slice ({path.name})"
    return table[MEASURED_COLUMNS].astype(STEP_DTYPES)


@cache
def measured_steps() -> pd.DataFrame:
    """Every measured GPU step: device (its kind), cost_class, trainings (in the measured
    program), seconds_per_step and source."""
    frames = [pd.read_csv(STEP_TIMES)[MEASURED_COLUMNS].astype(STEP_DTYPES)]
    frames += [_slice_rows(path) for path in sorted(RESULTS.glob("paper_programs_*.csv"))]
    return pd.concat(frames, ignore_index=True)
