"""The paper profile's projected CPU time, every training counted (not a test).

    python benchmarks/paper_cost.py

For every training ``make reproduce`` launches (``jobs.jobs`` at the paper profile), XLA's
FLOP count of its optimisation step at the paper's shapes (``paper_programs.step_program``, one
lowering per cost class, nothing trained) and its paper step count. CPU seconds per step come
from ``benchmarks/results/paper_time.csv`` (``make bench-paper-time``: one core) where the cost
class was timed; otherwise they are the class's FLOPs times the seconds per FLOP of the timed
classes of its section (the median), or of every timed class where its section has none (the
relational model's). Evaluation and compilation are not counted.

Output: ``mmvae_nb/reference/paper_cost.csv`` (one row per training; ``hardware.check_devices``
reads it to say what the paper profile would cost on a CPU) and per-section totals printed.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from mmvae_nb.experiments.registry import EXPERIMENTS
from mmvae_nb.hardware import COST_TABLE
from mmvae_nb.jobs import jobs
from mmvae_nb.paper_programs import step_program
from mmvae_nb.planning.programs import cost_class, paper_steps

TIMED = Path(__file__).parent / "results" / "paper_time.csv"


def class_flops(todo) -> dict[str, float]:
    """XLA's FLOPs per step of each cost class (its first job's step at the paper's shapes)."""
    flops = {}
    for job in todo:
        label = cost_class(job)
        if label not in flops:
            start = time.perf_counter()
            flops[label] = step_program(job).flops()
            print(
                f"{label:60s} {flops[label]:10.3g} FLOP/step ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    return flops


def main() -> None:
    todo = jobs(list(EXPERIMENTS), "paper")
    flops = class_flops(todo)
    timed = pd.read_csv(TIMED).set_index("cost_class")["cpu_seconds_per_step"]
    table = pd.DataFrame(
        {
            "section": [j.section for j in todo],
            "job": [j.label for j in todo],
            "cost_class": [cost_class(j) for j in todo],
            "paper_steps": [paper_steps(j) for j in todo],
        }
    )
    table["flops_per_step"] = table["cost_class"].map(flops)
    table["cpu_seconds_per_step"] = table["cost_class"].map(timed)
    per_flop = table["cpu_seconds_per_step"] / table["flops_per_step"]
    overall = per_flop.median()
    by_section = per_flop.groupby(table["section"]).median()
    calibration = table["section"].map(by_section)
    table["seconds_source"] = "timed"
    untimed = table["cpu_seconds_per_step"].isna()
    table.loc[untimed, "seconds_source"] = [
        "FLOPs x its section's s/FLOP" if pd.notna(c) else "FLOPs x every timed class's s/FLOP"
        for c in calibration[untimed]
    ]
    table.loc[untimed, "cpu_seconds_per_step"] = table.loc[untimed, "flops_per_step"] * (
        calibration[untimed].fillna(overall)
    )
    table["projected_cpu_hours"] = table["cpu_seconds_per_step"] * table["paper_steps"] / 3600
    table["pflop"] = table["flops_per_step"] * table["paper_steps"] / 1e15
    summary = table.groupby("section", sort=False).agg(
        trainings=("job", "size"),
        timed=("seconds_source", lambda s: int((s == "timed").sum())),
        pflop=("pflop", "sum"),
        cpu_hours=("projected_cpu_hours", "sum"),
    )
    table.drop(columns="pflop").to_csv(COST_TABLE, index=False, float_format="%.4g")
    print(summary.to_string(float_format="%.1f"))
    print(f"total: {table['projected_cpu_hours'].sum():,.0f} CPU hours")


if __name__ == "__main__":
    main()
