"""Run (part of) a non-linear identifiable section without Jupyter, e.g. on a GPU machine.

Trains and evaluates the chosen rows of Table 7 (``--section aux_label``) or Tables 8 and 2
(``--section five_modalities``) at a profile, printing the wall time of each configuration and
writing the per-run results to ``<out>/<section>_<profile>_runs.csv``. ``--budget`` (seconds)
stops starting new configurations once spent, so a time-limited machine returns what finished.

    python scripts/run_identifiable.py --section aux_label --profile paper \\
        --rows PoE:standard,SumPooling:standard --bounds ours,mixture --budget 400
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import pandas as pd

from mmvae_nb.experiments.base import Run
from mmvae_nb.experiments.identifiable.experiment import ROWS, IdentifiableExperiment


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", default="aux_label", choices=["aux_label", "five_modalities"])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--rows", default=",".join(f"{a}:{p}" for a, p in ROWS))
    parser.add_argument("--bounds", default="ours,mixture")
    parser.add_argument("--epochs", type=int, default=0, help="0: the profile's value")
    parser.add_argument("--budget", type=float, default=float("inf"), help="seconds")
    parser.add_argument("--out", default=".")
    args = parser.parse_args()

    overrides = {"epochs": args.epochs} if args.epochs else {}
    experiment = IdentifiableExperiment(args.section, args.profile, overrides=overrides)
    print(f"backend {jax.default_backend()}, devices {jax.devices()}", flush=True)
    print(f"settings {experiment.config.as_dict()}", flush=True)
    rows = [tuple(r.split(":")) for r in args.rows.split(",")]
    start, frames = time.perf_counter(), []
    path = Path(args.out) / f"{args.section}_{args.profile}_runs.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    for aggregation, prior in rows:
        for bound in args.bounds.split(","):
            if time.perf_counter() - start > args.budget:
                print("budget spent: stopping", flush=True)
                break
            t0 = time.perf_counter()
            run = Run(aggregation, bound, prior=prior)
            trained = experiment.train(run, progress=False)  # a diverged replica: a NaN row
            frame = experiment.evaluate(trained, run)
            frame["train_seconds"] = trained.train_seconds
            frame["total_seconds"] = time.perf_counter() - t0
            frames.append(frame)
            pd.concat(frames).to_csv(path, index=False)
            mean = frame[frame["beta"] == 1.0][["llh", "lower_bound", "mcc"]].mean()
            print(
                f"{aggregation}/{prior}/{bound}: train {trained.train_seconds:.1f}s, total "
                f"{frame['total_seconds'].iloc[0]:.1f}s, llh {mean['llh']:.3f}, bound "
                f"{mean['lower_bound']:.3f}, mcc {mean['mcc']:.3f}",
                flush=True,
            )
    print(f"wall {time.perf_counter() - start:.1f}s -> {path}")


if __name__ == "__main__":
    main()
