"""A slice of the paper profile on one GPU within a time budget (``make gpu-slice``; issue 37).

    python -m mmvae_nb.gpu_slice --budget 540 [--sections ...] [--train five_modalities ...]

1. **Programs.** Every paper training's optimisation step (``paper_programs.step_program``:
   the paper's widths, batch, replicas, bound and aggregator) is compiled once on this device
   and timed on a few steps, one cost class at a time, the sections taken in turn so that a
   short budget still sees each (60 % of the budget by default). Written after each class to
   ``benchmarks/results/paper_programs_<device>.csv``: FLOPs, compile seconds, seconds per step,
   XLA's compiled memory (peak, temporaries) and the projected hours of the class's trainings
   (seconds per step x paper steps; evaluation not counted). A crash of a paper-shaped program
   shows up here in minutes instead of hours into a rented run.
2. **Trainings.** With what is left of the budget, whole paper trainings, the experiments
   cheapest first by the committed plan (``train_order``: auxiliary label, linear, five
   modalities, ...; a training whose configuration its per-run CSV under ``tables/paper/``
   already holds is skipped), each started only when its projected seconds (step 1's seconds
   per step x its paper steps, plus its section's last
   evaluation time) fit in the budget left;
   each is trained, evaluated and appended to its per-run CSV under ``tables/paper/`` as it
   finishes, its measured seconds to ``benchmarks/results/paper_trainings_<device>.csv``.

Trained models go to the results cache as usual, so ``make reproduce`` on the same machine
retrains none of them.
"""

from __future__ import annotations

import argparse
import re
import time
from collections.abc import Sequence
from pathlib import Path

import jax
import pandas as pd

from mmvae_nb.experiments.registry import EXPERIMENTS
from mmvae_nb.hardware import describe_devices, gpu_hours
from mmvae_nb.jobs import Job, jobs, section_object
from mmvae_nb.paper_programs import compile_report
from mmvae_nb.planning.programs import cost_class, paper_steps
from mmvae_nb.storage import atomic_write_text, project_root


def train_order() -> list[str]:
    """The experiments, cheapest first by the plan's projected H100 hours."""
    return list(gpu_hours(list(EXPERIMENTS)).sort_values(kind="stable").index)


def runs_file(section: str, setting: str = "") -> str:
    """The per-run results file of ``section``'s trainings of phase 2 under tables/paper/:
    ``table<numbers of its tables>_<name>[_<setting>]_runs.csv``."""
    numbers = sorted(
        {m for t in EXPERIMENTS[section].tables for m in re.findall(r"^table(\d\d)", t)}
    )
    setting = f"_{setting}" if setting else ""
    return f"table{'_'.join(numbers)}_{section}{setting}_runs.csv"


# the keys that say which configuration a per-run row belongs to
RUN_KEYS = ("aggregation", "prior", "bound")
# seconds assumed for a training's evaluation before one of its section has been measured
FIRST_EVALUATION_SECONDS = 60.0


def device_slug() -> str:
    """The device kind as a file-name part, e.g. ``nvidia-h100-80gb-hbm3`` or ``cpu``."""
    kind = jax.local_devices()[0].device_kind
    return re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or jax.default_backend()


def interleaved(todo: Sequence[Job]) -> list[Job]:
    """One job per cost class, the sections taken in turn (a section's first class, then every
    section's second, ...), so that a short budget measures every section."""
    firsts: dict[str, Job] = {}
    for job in todo:
        firsts.setdefault(cost_class(job), job)
    by_section: dict[str, list[Job]] = {}
    for job in firsts.values():
        by_section.setdefault(job.section, []).append(job)
    order = []
    for depth in range(max(map(len, by_section.values()), default=0)):
        order += [members[depth] for members in by_section.values() if depth < len(members)]
    return order


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    atomic_write_text(frame.to_csv(index=False, float_format="%.6g"), path)


def measure_programs(
    todo: Sequence[Job], deadline: float, path: Path, repeats: int = 3, echo=print
) -> pd.DataFrame:
    """Phase 1: compile and time one step of each cost class of ``todo``, the sections in
    turn (``interleaved``), until ``deadline`` (``time.monotonic()``); the table is rewritten at
    ``path`` after each class (``paper_programs.compile_report``)."""
    return compile_report(
        todo, path, order=interleaved, repeats=repeats, deadline=deadline, echo=echo
    )


def _configurations(runs: pd.DataFrame) -> set[tuple]:
    """The (aggregation, prior, bound) configurations a per-run table holds."""
    return set(runs[list(RUN_KEYS)].itertuples(index=False, name=None)) if len(runs) else set()


def train_sections(
    sections: Sequence[str],
    step_seconds: dict[str, float],
    deadline: float,
    tables: Path,
    timings: Path,
    echo=print,
    profile: str = "paper",
) -> pd.DataFrame:
    """Phase 2: train and evaluate the trainings of ``sections`` at ``profile`` in order while
    each one's projected seconds (``step_seconds`` of its cost class x the paper's steps) fit
    before ``deadline``, its evaluation counted as long as the section's last one
    (``FIRST_EVALUATION_SECONDS`` before any); a training whose class was not measured is not
    started, nor one whose configuration its per-run CSV already holds."""
    records, runs = [], {}  # runs: each per-run CSV, read once
    for section in sections:
        evaluation_seconds = FIRST_EVALUATION_SECONDS
        for job in jobs([section], profile):
            path = tables / runs_file(section, job.setting)
            if path not in runs:
                runs[path] = pd.read_csv(path) if path.exists() else pd.DataFrame()
            run = job.run
            if (run.model, run.prior, run.bound) in _configurations(runs[path]):
                continue
            projected = (
                step_seconds.get(cost_class(job), float("inf")) * paper_steps(job)
                + evaluation_seconds
            )
            left = deadline - time.monotonic()
            if projected > left:
                echo(f"{job.label}: projected {projected:,.0f} s > {left:,.0f} s left, not started")
                continue
            start = time.monotonic()
            experiment = section_object(section, profile, job.seed, job.setting)
            frame = experiment.run(run, progress=False)
            seconds = time.monotonic() - start
            evaluation_seconds = max(seconds - float(frame["train_seconds"].iloc[0]), 0.0)
            frame["total_seconds"] = seconds
            runs[path] = pd.concat([runs[path], frame], ignore_index=True)
            _write_csv(runs[path], path)
            records.append(
                {
                    "job": job.label,
                    "projected_seconds": projected,
                    "train_seconds": float(frame["train_seconds"].iloc[0]),
                    "total_seconds": seconds,
                    "device": jax.local_devices()[0].device_kind,
                }
            )
            _write_csv(pd.DataFrame(records), timings)
            echo(f"{job.label}: trained and evaluated in {seconds:,.0f} s -> {path.name}")
    return pd.DataFrame(records)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=540.0, help="seconds in all")
    parser.add_argument(
        "--programs-share", type=float, default=0.6, help="of the budget for phase 1"
    )
    experiments = list(EXPERIMENTS)
    parser.add_argument("--sections", nargs="+", default=experiments, choices=experiments)
    parser.add_argument("--train", nargs="*", default=train_order(), choices=experiments)
    parser.add_argument("--out", default=str(project_root()), help="project root to write in")
    args = parser.parse_args(argv)
    start = time.monotonic()
    out = Path(args.out)
    results = out / "benchmarks" / "results"
    print(describe_devices(), flush=True)
    slug = device_slug()
    programs = measure_programs(
        jobs(args.sections, "paper"),
        start + args.programs_share * args.budget,
        results / f"paper_programs_{slug}.csv",
        echo=lambda line: print(line, flush=True),
    )
    ok = programs[programs["status"] == "ok"] if len(programs) else programs
    step_seconds = dict(zip(ok.get("cost_class", []), ok.get("seconds_per_step", [])))
    train_sections(
        [s for s in args.train if s in args.sections],
        step_seconds,
        start + args.budget,
        out / "tables" / "paper",
        results / f"paper_trainings_{slug}.csv",
        echo=lambda line: print(line, flush=True),
    )
    print(f"gpu slice: {time.monotonic() - start:,.0f} s of {args.budget:,.0f}", flush=True)


if __name__ == "__main__":
    main()
