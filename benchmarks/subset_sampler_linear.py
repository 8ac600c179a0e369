"""Does the official code's rho explain the paper's Table 1 (dense linear model)? (not a test)

    python benchmarks/subset_sampler_linear.py [--profile quick] [--aggregations PoE SumPooling]

Trains the dense linear-Gaussian models of ``--profile`` with our bound under both subset
samplers (``objectives.subsets``: the paper's hierarchical rho of Remark 1, and the official
code's Bernoulli(1/2) per modality) and prints, per aggregation and sampler, the mean and std
over the data sets of the LLH gap, the bound gap and the MCC (Table 1's columns), next to the
paper's Table 1 row. Output: ``benchmarks/results/subset_sampler_linear_<profile>.txt``.
"""

from __future__ import annotations

import argparse

import pandas as pd

from mmvae_nb.objectives.subsets import SUBSET_SAMPLERS
from mmvae_nb.reporting.tables import paper_table
from mmvae_nb.sections.linear import LinearExperiment
from mmvae_nb.sections.section import run_grid

METRICS = ["llh_gap", "bound_gap", "mcc"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--aggregations", nargs="+", default=["PoE", "SumPooling"])
    args = parser.parse_args()
    frames = []
    for sampler in SUBSET_SAMPLERS:
        experiment = LinearExperiment(args.profile, overrides={"subset_sampler": sampler})
        runs = run_grid(experiment, experiment.grid(args.aggregations, ("ours",)), progress=False)
        frames.append(runs.assign(subset_sampler=sampler))
    runs = pd.concat(frames, ignore_index=True)
    ours = runs.groupby(["aggregation", "subset_sampler"], sort=False)[METRICS].agg(["mean", "std"])
    print(f"dense linear model, {args.profile} profile, our bound; mean (std) over data sets")
    print(ours.round(3).to_string())
    paper = paper_table("table01_linear_dense")
    paper = paper[(paper["bound"] == "ours") & paper["aggregation"].isin(args.aggregations)]
    print("\nthe paper's Table 1 (our bound), mean (std):")
    print(
        paper.pivot_table(index="aggregation", columns="metric", values=["mean", "std"]).to_string()
    )


if __name__ == "__main__":
    main()
