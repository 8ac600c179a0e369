"""GPU seconds per step of the committed paper trainings run on a GPU (not a test).

    python benchmarks/gpu_step_times.py

Each per-run table of ``RUN_TABLES`` holds whole paper trainings run on a GPU, one row per
replica with the training's ``train_seconds``; one training is one vmapped program (Table 7: 4
repetitions x 2 betas = 8 replicas, 80,000 Adam steps of batch 250). Its seconds per step are
``train_seconds`` over its paper steps; ``train_seconds`` includes the compilation of the
training's program (a few seconds; the table does not separate it), so these are upper bounds.

Output: ``benchmarks/results/gpu_step_times.csv`` (device, cost class, replicas, trainings in
the program, seconds per step, source), which ``mmvae_nb.planning`` reads as measured steps.
"""

from __future__ import annotations

import pandas as pd

from mmvae_nb.experiments.base import Run
from mmvae_nb.jobs import Job
from mmvae_nb.planning.programs import cost_class, paper_steps
from mmvae_nb.planning.tables import STEP_TIMES
from mmvae_nb.storage import PACKAGE_ROOT, atomic_write_text

TABLES = PACKAGE_ROOT.parent / "tables" / "paper"
# per-run table -> (section, the device it ran on); the runs are described in docs/results.md
# (Table 7: "Paper settings on a GPU", jax 0.11.2)
RUN_TABLES = {"table07_aux_label_runs.csv": ("aux_label", "NVIDIA H200")}


def step_times() -> pd.DataFrame:
    """One row per training of every per-run table: its measured seconds per step."""
    rows = []
    for name, (section, device) in RUN_TABLES.items():
        runs = pd.read_csv(TABLES / name)
        for (aggregation, prior, bound), replicas in runs.groupby(
            ["aggregation", "prior", "bound"], sort=False
        ):
            job = Job(section, "paper", Run(aggregation, bound, prior=prior))
            rows.append(
                {
                    "device": device,
                    "cost_class": cost_class(job),
                    "replicas": len(replicas),
                    "trainings": 1,
                    "seconds_per_step": replicas["train_seconds"].iloc[0] / paper_steps(job),
                    "source": f"tables/paper/{name}",
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    table = step_times()
    atomic_write_text(table.to_csv(index=False, float_format="%.6g"), STEP_TIMES)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
