"""Which quick settings tell the paper's story per CPU-second? (not a test)

    python scripts/quick_settings.py --section linear --candidates epochs=20 epochs=40 epochs=80
    python scripts/quick_settings.py --section aux_label --candidates epochs=62 epochs=125
    python scripts/quick_settings.py --section relational --jobs 2 \
        --candidates "rows=['mrVAE','MoPoE']" "rows=['mrVAE','MoPoE'] global_selections=False"

Each candidate is a set of overrides of the quick profile (``name=value``, the settings'
flat names, ``ExperimentConfig.replace``; an empty string is the quick profile itself). It runs
everything the section's notebook trains, in a fresh process with cold results and compilation
caches (a temporary ``MMVAE_NB_CACHE``), then checks the section's claims (its registry's
``claims`` function, as the notebook's claims cell does) on the results. Per candidate it
reports the process's CPU-seconds (user + system; what a 2-core laptop pays, whatever else
runs beside it), its wall seconds, the claims' verdicts (``experiments.claims.STATUSES``) and the
score: the claims whose verdict agrees with the one the paper's own numbers give
(``experiments.claims.agreement``), of those both decide; it plots agreements against
CPU-seconds. ``--jobs 2`` runs two candidates at a time (wall times then
include the contention; CPU-seconds barely do).

Output: ``scripts/results/quick_settings_<section>.{csv,png}`` and the printed table
(``.txt`` when redirected). It is the evidence behind the quick profile's sizes and learning rates.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from mmvae_nb.experiments.checks import STATUSES  # noqa: E402
from mmvae_nb.experiments.registry import EXPERIMENTS  # noqa: E402

RESULTS = Path(__file__).parent / "results"

# the child: one candidate, the notebook's grid, the section's claims -> one JSON line
CHILD = """
import json, resource, sys, time
from mmvae_nb.experiments.claims import agreement
from mmvae_nb.experiments.base import run_grid
section, profile, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
start = time.perf_counter()
if section == "linear":
    from mmvae_nb.experiments.linear import experiment as linear
    from mmvae_nb.experiments.linear import claims as linear_claims
    dense = linear.LinearExperiment(profile=profile, sparse=False, overrides=overrides)
    sparse = linear.LinearExperiment(profile=profile, sparse=True, overrides=overrides)
    dense_runs = run_grid(dense, dense.grid(), progress=False)
    sparse_runs = run_grid(sparse, sparse.grid(), progress=False)
    betas = sparse.config.grid.betas
    grid = sparse.grid(linear.EQUIVARIANT_AGGREGATIONS, betas=betas)
    claims = linear_claims.claims(dense_runs, sparse_runs, run_grid(sparse, grid, progress=False))
elif section == "relational":
    import pandas as pd
    from mmvae_nb.experiments.relational import experiment as relational
    from mmvae_nb.experiments.relational import claims as relational_claims
    from mmvae_nb.experiments.relational.config import RELATIONAL
    from mmvae_nb.experiments.configs import profile_config
    runs = []
    for variant in profile_config(RELATIONAL, profile, **overrides).grid.variants:
        experiment = relational.RelationalExperiment(
            profile, variant, overrides=overrides, progress=False
        )
        runs.append(run_grid(experiment, experiment.grid(), progress=False))
    claims = relational_claims.claims(pd.concat(runs, ignore_index=True))
elif section == "mnist_svhn_text":
    from mmvae_nb.experiments.mnist_svhn_text import experiment as mst
    from mmvae_nb.experiments.mnist_svhn_text import claims as mst_claims
    setup = mst.MSTExperiment(profile, 0, overrides)
    claims = mst_claims.claims(run_grid(setup, setup.grid(), progress=False))
else:
    from mmvae_nb.experiments.identifiable import experiment as identifiable
    from mmvae_nb.experiments.identifiable import claims as identifiable_claims
    experiment = identifiable.IdentifiableExperiment(section, profile, 0, overrides)
    runs = run_grid(experiment, experiment.grid(), progress=False)
    claims = identifiable_claims.claims(runs, section)
usage = resource.getrusage(resource.RUSAGE_SELF)
counts = claims["status"].value_counts().to_dict()
agrees = agreement(claims)
print(json.dumps({
    "cpu_seconds": usage.ru_utime + usage.ru_stime,
    "wall_seconds": time.perf_counter() - start,
    "claims": len(claims),
    **counts,
    "agrees": int(agrees.sum()),
    "decided": int(agrees.notna().sum()),
    "agreeing_ids": sorted(claims.loc[agrees.fillna(False).astype(bool), "id"]),
    "verdicts": dict(zip(claims["id"], claims["status"])),
}))
"""


def parse_candidate(text: str) -> dict:
    """``"epochs=20 learning_rate=3e-3"`` (or comma-separated) -> ``{"epochs": 20, ...}``; a
    value may be a Python literal with commas of its own, ``"rows=['mrVAE', 'MoPoE']"``."""
    overrides = {}
    for item in filter(None, re.split(r"[\s,]+(?=\w+=)", text.strip())):
        name, _, value = item.partition("=")
        if not value:
            raise ValueError(f"candidate item {item!r} is not name=value")
        overrides[name] = ast.literal_eval(value)
    return overrides


def start(section: str, profile: str, overrides: dict, cache: str) -> subprocess.Popen:
    env = {**os.environ, "MMVAE_NB_CACHE": cache}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, section, profile, json.dumps(overrides)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen, label: str) -> dict:
    out, err = process.communicate()
    if process.returncode:
        raise RuntimeError(f"candidate {label!r} failed:\n{err[-3000:]}")
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=list(EXPERIMENTS), required=True)
    parser.add_argument("--candidates", nargs="+", required=True, help='e.g. epochs=20 ""')
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--profile", default="quick", help="the profile the candidates override")
    args = parser.parse_args()
    candidates = [(text or "quick profile", parse_candidate(text)) for text in args.candidates]

    rows, pending = [], list(candidates)
    with tempfile.TemporaryDirectory() as root:
        running = []
        while pending or running:
            while pending and len(running) < args.jobs:
                label, overrides = pending.pop(0)
                cache = tempfile.mkdtemp(dir=root)
                running.append((label, start(args.section, args.profile, overrides, cache)))
            label, process = running.pop(0)
            result = finish(process, label)
            rows.append({"candidate": label, **result})
            write_results(rows, args)  # after every candidate: a killed benchmark keeps them
            verdicts = ", ".join(f"{result[s]} {s}" for s in STATUSES if result.get(s))
            print(
                f"{label:>24}: {result['cpu_seconds']:7.0f} CPU-s, {result['wall_seconds']:6.0f}"
                f" s wall, agrees with the paper's numbers on {result['agrees']}/"
                f"{result['decided']} claims; of {result['claims']}: {verdicts}",
                flush=True,
            )


def write_results(rows: list[dict], args) -> None:
    """The candidates measured so far as a CSV and a plot of agreements against CPU-seconds."""
    table = pd.DataFrame(rows)
    for status in STATUSES:
        table[status] = table[status].fillna(0).astype(int) if status in table else 0
    table["agreeing_ids"] = table["agreeing_ids"].map(" ".join)
    table["verdicts"] = table["verdicts"].map(json.dumps)
    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.profile == "quick" else f"_{args.profile}"
    stem = f"quick_settings_{args.section}{suffix}"
    table.to_csv(RESULTS / f"{stem}.csv", index=False)

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot(table["cpu_seconds"], table["agrees"], "o")
    for _, row in table.iterrows():
        ax.annotate(row["candidate"], (row["cpu_seconds"], row["agrees"]), fontsize=8)
    ax.set_xlabel("CPU-seconds (cold caches)")
    ax.set_ylabel("claims agreeing with the paper's numbers")
    ax.set_title(f"{args.section}: {args.profile}-profile candidates")
    fig.tight_layout()
    fig.savefig(RESULTS / f"{stem}.png", dpi=120, metadata={"Software": None})
    plt.close(fig)


if __name__ == "__main__":
    main()
