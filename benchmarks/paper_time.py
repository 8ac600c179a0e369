"""How long the paper profile trains, projected from this machine's measured steps/s (not a test).

    python benchmarks/paper_time.py [--sections linear aux_label ...] [--steps 100]

For every training that ``make reproduce`` launches (``mmvae_nb.jobs.jobs``: the notebooks'
own grids at the paper profile), the number of Adam steps it takes at the paper's settings
(epochs x full batches per epoch, as the trainers count them), and the seconds one such step
takes here: each distinct cost class (section, setting, aggregation, prior, bound, private
latents; beta changes no shape) trains one representative at the paper's widths, batch size and
replica count, for about ``--steps`` steps, twice, and the second, compiled, run is timed. Its
seconds per step times the paper's steps is the projection; the training's compilation and
evaluation are not in it.

The relational trainings are timed on one epoch of ``MST_STEPS`` batches (the time includes the
end-of-epoch test loss on one batch that selects the model). The MNIST-SVHN-Text trainings are
timed on the offline stand-in SVHN images (a step costs the same on any images of the shape);
the paper's triple count is 20 matchings per label of min(#MNIST, #SVHN) images of that label
(``mnist_svhn_text.pair_indices``), with the label counts of the real SVHN training split
(``street_numbers.SVHN_CLASS_COUNTS``, which the stand-in follows), since the real files cannot
be downloaded here.

Output: ``benchmarks/results/paper_time.csv`` (one row per cost class, rewritten after each, and
read back: a second run measures only the classes that are missing) and the printed per-section
totals. ``make bench-paper-time`` runs it on one core (``taskset``), so that other work on the
machine perturbs it less; the projection is then for one core.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import pandas as pd

from mmvae_nb.experiments.base import Run
from mmvae_nb.experiments.registry import EXPERIMENTS
from mmvae_nb.jobs import Job, jobs
from mmvae_nb.paper_programs import cost_class, paper_section, paper_steps

RESULTS = Path(__file__).parent / "results" / "paper_time.csv"
MST_STEPS = 20  # MNIST-SVHN-Text steps timed (the 6,000 stand-in triples hold 24 batches)


def measured_step_seconds(job: Job, steps: int) -> tuple[float, int, int]:
    """Seconds per step of ``job``'s training at the paper's shapes, compiled; also the steps
    timed and the replicas trained together."""
    if job.section == "mnist_svhn_text":
        batch = paper_section(job.section, "", {}).config.training.batch_size
        steps = min(steps, MST_STEPS)  # a step takes about half a second on this CPU
        overrides = {
            "svhn": "standin",
            "svhn_size": 6000,
            "svhn_test_size": 500,
            "dups": 1,
            "train_size": batch * steps,
            "epochs": 1,
        }
    elif job.section == "relational":
        batch = paper_section(job.section, job.setting, {}).config.training.batch_size
        steps = min(steps, MST_STEPS)
        # one epoch of ``steps`` batches; the test loss that selects the epoch runs on one batch
        overrides = {"train_size": batch * steps, "test_size": batch, "selection_size": batch}
        overrides["epochs"] = 1
    else:
        paper = paper_section(job.section, job.setting, {}).config
        per_epoch = paper.data.n_train // paper.training.batch_size
        overrides = {"epochs": max(1, steps // per_epoch)}
    section = paper_section(job.section, job.setting, overrides)
    timed = _train(section, job.run)  # compiles (and is discarded)
    timed = _train(section, job.run)
    if job.section in ("mnist_svhn_text", "relational"):
        taken = steps
    else:
        cfg = section.config
        taken = cfg.training.epochs * (cfg.data.n_train // cfg.training.batch_size)
    return timed.train_seconds / taken, taken, timed.num_replicas


def _train(section, run: Run):
    return section.train(run, force_retrain=True, progress=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sections", nargs="+", default=list(EXPERIMENTS), choices=list(EXPERIMENTS)
    )
    parser.add_argument("--steps", type=int, default=100, help="steps timed per cost class")
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the docs/performance.md table from the CSV; train nothing",
    )
    args = parser.parse_args()

    classes: dict[str, list[Job]] = {}
    for job in jobs(args.sections, "paper"):
        classes.setdefault(cost_class(job), []).append(job)
    measured = pd.read_csv(RESULTS).to_dict("records") if RESULTS.exists() else []
    if args.report:
        print(report(projection(measured, classes), classes))
        return
    known = {r["cost_class"] for r in measured}
    for label in round_robin(classes):
        members = classes[label]
        if label in known:
            continue
        start = time.perf_counter()
        seconds, taken, replicas = measured_step_seconds(members[0], args.steps)
        measured.append(
            {
                "section": members[0].section,
                "cost_class": label,
                "replicas_per_training": replicas,
                "steps_timed": taken,
                "cpu_seconds_per_step": seconds,
                "benchmark_seconds": time.perf_counter() - start,
            }
        )
        print(f"{label:55s} {seconds * 1e3:8.2f} ms/step", flush=True)
        write(projection(measured, classes))
    table = projection(measured, classes)
    write(table)
    summary = table.groupby("section", sort=False).agg(
        trainings=("trainings", "sum"),
        paper_steps=("paper_steps", "max"),
        hours_per_training_min=("projected_cpu_hours_per_training", "min"),
        hours_per_training_max=("projected_cpu_hours_per_training", "max"),
        hours=("projected_cpu_hours", "sum"),
    )
    print(summary.to_string(float_format="%.1f"))


def round_robin(classes: dict[str, list[Job]]) -> list[str]:
    """The classes one section at a time (a section's first, then every section's second, ...),
    so that an interrupted run has measured every section."""
    by_section: dict[str, list[str]] = {}
    for label, members in classes.items():
        by_section.setdefault(members[0].section, []).append(label)
    columns = itertools.zip_longest(*by_section.values())
    return [label for column in columns for label in column if label is not None]


def projection(measured: list[dict], classes: dict[str, list[Job]]) -> pd.DataFrame:
    """The measured classes with their trainings, paper steps and projected CPU hours."""
    table = pd.DataFrame(measured)
    table = table[table["cost_class"].isin(list(classes))].copy()
    table["trainings"] = [len(classes[c]) for c in table["cost_class"]]
    table["paper_steps"] = [paper_steps(classes[c][0]) for c in table["cost_class"]]
    per_training = table["cpu_seconds_per_step"] * table["paper_steps"] / 3600
    table["projected_cpu_hours_per_training"] = per_training
    table["projected_cpu_hours"] = per_training * table["trainings"]
    return table


def report(table: pd.DataFrame, classes: dict[str, list[Job]]) -> str:
    """Markdown: per section, trainings, steps per training, measured CPU seconds per step
    (range over the measured classes) and the projected CPU hours per training and in total;
    classes not measured are projected at their section's median measured cost (counted)."""
    lines = [
        "| section | trainings | steps per training | CPU s/step (measured classes) "
        "| projected CPU h per training | projected CPU h in total | classes measured |",
        "|---|---|---|---|---|---|---|",
    ]
    for section in dict.fromkeys(jobs_[0].section for jobs_ in classes.values()):
        labels = [c for c, members in classes.items() if members[0].section == section]
        rows = table[table["cost_class"].isin(labels)]
        if rows.empty:
            continue
        trainings = sum(len(classes[c]) for c in labels)
        missing = sum(len(classes[c]) for c in labels if c not in set(rows["cost_class"]))
        per_training = rows["projected_cpu_hours_per_training"]
        total = rows["projected_cpu_hours"].sum() + missing * per_training.median()
        steps = sorted({paper_steps(classes[c][0]) for c in labels})
        step_text = f"{steps[0]:,}" if len(steps) == 1 else f"{steps[0]:,}-{steps[-1]:,}"
        seconds = rows["cpu_seconds_per_step"]
        lines.append(
            f"| {section} | {trainings} | {step_text} | {seconds.min():.3g}-{seconds.max():.3g} "
            f"| {per_training.min():.3g}-{per_training.max():.3g} | {total:,.0f} "
            f"| {len(rows)} of {len(labels)} |"
        )
    return "\n".join(lines)


def write(table: pd.DataFrame) -> None:
    RESULTS.parent.mkdir(exist_ok=True)
    table.to_csv(RESULTS, index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
