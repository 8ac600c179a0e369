"""Do the official code's choices explain the paper's Table 1 (dense linear model)? (not a test)

    python benchmarks/official_choices_linear.py [--profile quick] [--aggregations PoE SumPooling]

Trains the dense linear-Gaussian models of ``--profile`` with our bound and evaluates them with
this project's choices and with each of the official code's, one at a time (``CHOICES``): its
subset distribution rho (Bernoulli(1/2) per modality, ``objectives.subsets``; retrains), its
evaluation on the training points (``eval_split="train"``; same models), and, with that, its
"bound": minus the last epoch's running training loss (``bound_source="training_loss"``; same
models). Prints, per choice and
aggregation, the mean and std over the data sets of the LLH gap, the bound gap and the MCC
(Table 1's columns), next to the paper's Table 1 rows. Output:
``benchmarks/results/official_choices_linear_<profile>.txt``.
"""

from __future__ import annotations

import argparse

import pandas as pd

from mmvae_nb.reporting.tables import paper_table
from mmvae_nb.sections.linear import LinearExperiment
from mmvae_nb.sections.section import run_grid

METRICS = ["llh_gap", "bound_gap", "mcc"]
CHOICES = {
    "ours": {},
    "official rho": {"subset_sampler": "independent"},
    "evaluated on training points": {"eval_split": "train"},
    "training points, training loss as bound": {
        "eval_split": "train",
        "bound_source": "training_loss",
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--aggregations", nargs="+", default=["PoE", "SumPooling"])
    args = parser.parse_args()
    frames = []
    for choice, overrides in CHOICES.items():
        experiment = LinearExperiment(args.profile, overrides=overrides)
        runs = run_grid(experiment, experiment.grid(args.aggregations, ("ours",)), progress=False)
        frames.append(runs.assign(choice=choice))
    runs = pd.concat(frames, ignore_index=True)
    ours = runs.groupby(["choice", "aggregation"], sort=False)[METRICS].agg(["mean", "std"])
    print(f"dense linear model, {args.profile} profile, our bound; mean (std) over data sets")
    print(ours.round(3).to_string())
    paper = paper_table("table01_linear_dense")
    paper = paper[(paper["bound"] == "ours") & paper["aggregation"].isin(args.aggregations)]
    print("\nthe paper's Table 1 (our bound), mean (std):")
    table = paper.pivot_table(index="aggregation", columns="metric", values=["mean", "std"])
    print(table.to_string())


if __name__ == "__main__":
    main()
