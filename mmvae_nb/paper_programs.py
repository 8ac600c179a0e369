"""The paper profile's trainings as programs: what each costs, compiled and run on this device
(issue 37), without its data or its hours.

For every training ``make reproduce`` launches (``jobs.jobs``), ``step_program(job)`` builds
the job's section at the paper profile with only its data counts cut (``CAPTURE_OVERRIDES``:
MNIST-SVHN-Text on the offline stand-in, a few hundred tuples) and captures the optimisation
step its trainer would run (``training.programs``): the paper's widths, batch size, replicas,
bound and aggregator, so XLA's FLOP count, its compiled memory and the step's seconds are those
of the paper's training. ``planning.programs.paper_steps(job)`` is how many such steps the
paper's training takes; trainings that differ only in beta, data values or seed share a
``planning.programs.cost_class``.

``python -m mmvae_nb.paper_programs --out ...`` (``make rehearse``) compiles every paper-shaped
step on this device without running it, so that a program that cannot be built at the paper's
shapes fails in minutes on a CPU, and reports XLA's compiled memory of each: what a GPU must
hold for the step, including the trainings too large to run on this machine.
"""

from __future__ import annotations

import argparse
import collections
import functools
import math
import os
import time
from pathlib import Path

import jax
import pandas as pd

from mmvae_nb.jobs import Job
from mmvae_nb.planning.programs import cost_class, paper_steps
from mmvae_nb.training.programs import StepProgram, capture_training

# data counts cut so that a paper-shaped step can be built offline in seconds (each at least
# one paper batch); the synthetic sections generate their paper data sets as they are
CAPTURE_OVERRIDES = {
    "mnist_svhn_text": {
        "svhn": "standin",
        "svhn_size": 3000,
        "svhn_test_size": 500,
        "dups": 1,
        "train_size": 600,
    },
    "relational": {"train_size": 600, "test_size": 100, "selection_size": 50},
}


def paper_section(section: str, setting: str = "", overrides: dict | None = None):
    """The section object of the paper profile with ``overrides``."""
    overrides = overrides or {}
    if section == "linear":
        from mmvae_nb.experiments.linear.experiment import LinearExperiment

        return LinearExperiment(profile="paper", sparse=setting != "dense", overrides=overrides)
    if section == "mnist_svhn_text":
        from mmvae_nb.experiments.mnist_svhn_text.experiment import MSTExperiment

        return MSTExperiment("paper", 0, overrides, progress=False)
    if section == "relational":
        from mmvae_nb.experiments.relational.experiment import RelationalExperiment

        return RelationalExperiment("paper", setting, 0, overrides, progress=False)
    from mmvae_nb.experiments.identifiable.experiment import IdentifiableExperiment

    return IdentifiableExperiment(section, "paper", 0, overrides)


@functools.cache
def _capture_section(section: str, setting: str):
    return paper_section(section, setting, CAPTURE_OVERRIDES.get(section, {}))


def step_program(job: Job) -> StepProgram:
    """The optimisation step of ``job``'s training at the paper's shapes (not compiled yet)."""
    section = _capture_section(job.section, job.setting)
    return capture_training(lambda: section.train(job.run, force_retrain=True, progress=False))


def compile_report(
    todo, path, *, order=None, repeats: int = 0, deadline: float = math.inf, echo=print
) -> pd.DataFrame:
    """Compile the paper-shaped step of every cost class of ``todo`` (its first job; in the
    order ``order(todo)`` gives, by default ``todo``'s) on this device: XLA's FLOPs, compile
    seconds and compiled memory (the peak of arguments, outputs and temporaries), whether that
    peak fits this machine's memory and, with ``repeats`` > 0, the step's seconds (median of
    ``repeats`` runs) and the projected hours of the class's trainings. No class is started
    after ``deadline`` (``time.monotonic()``). The table is rewritten at ``path`` after each
    class; a class that fails to build or compile is a row with its error."""
    from mmvae_nb.storage import atomic_write_text

    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    counts = collections.Counter(cost_class(job) for job in todo)
    firsts = {}
    for job in (order or list)(todo):
        firsts.setdefault(cost_class(job), job)
    rows = []
    for label, job in firsts.items():
        if time.monotonic() > deadline:
            echo(f"programs: budget spent after {len(rows)} of {len(firsts)} classes")
            break
        row = {"section": job.section, "cost_class": label, "trainings": counts[label]}
        try:
            program = step_program(job)
            row |= {"replicas": program.replicas, "paper_steps": paper_steps(job)}
            row["flops_per_step"] = program.flops()
            row |= program.memory_bytes()
            row["compile_seconds"] = program.compile_seconds
            row["fits_this_machine"] = row["peak_bytes"] < memory
            if repeats:
                row["seconds_per_step"] = program.seconds_per_step(repeats)
                hours = row["seconds_per_step"] * row["paper_steps"] * counts[label] / 3600
                row["projected_hours"] = hours
            row["status"] = "ok"
        except Exception as error:  # noqa: BLE001 (a failing paper program is the finding)
            row["status"] = f"failed: {type(error).__name__}: {error}"[:300]
        row["device"] = jax.local_devices()[0].device_kind
        rows.append(row)
        atomic_write_text(pd.DataFrame(rows).to_csv(index=False, float_format="%.6g"), path)
        echo(
            f"{label:60s} {row.get('seconds_per_step', math.nan) * 1e3:9.2f} ms/step, peak "
            f"{row.get('peak_bytes', 0) / 2**30:7.2f} GiB, compiled in "
            f"{row.get('compile_seconds', math.nan):5.1f} s  {row['status'][:80]}"
        )
    return pd.DataFrame(rows)


def main(argv=None) -> None:
    """``python -m mmvae_nb.paper_programs --out tables/rehearse/paper_programs.csv``."""
    from mmvae_nb.experiments.registry import EXPERIMENTS
    from mmvae_nb.hardware import describe_devices
    from mmvae_nb.jobs import jobs

    parser = argparse.ArgumentParser(description=compile_report.__doc__.splitlines()[0])
    experiments = list(EXPERIMENTS)
    parser.add_argument("--sections", nargs="+", default=experiments, choices=experiments)
    parser.add_argument("--out", required=True, help="CSV to write")
    args = parser.parse_args(argv)
    print(describe_devices(), flush=True)
    table = compile_report(
        jobs(args.sections, "paper"), Path(args.out), echo=lambda line: print(line, flush=True)
    )
    failed = table[table["status"] != "ok"]
    fits = table.get("fits_this_machine", pd.Series(True, index=table.index))
    big = table[~fits.fillna(True).astype(bool)]
    print(
        f"{len(table)} paper programs compiled, {len(failed)} failed; largest step needs "
        f"{table['peak_bytes'].max() / 2**30:.1f} GiB (XLA's compiled memory on this device); "
        f"{len(big)} would not fit this machine's memory"
    )
    if len(failed):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
