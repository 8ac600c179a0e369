"""Do the official code's choices explain the paper's Table 1 (dense linear model)? (not a test)

    python scripts/official_choices_linear.py [--profile quick] [--aggregations PoE SumPooling]
    MMVAE_NB_CACHE=/tmp/finding_cache taskset -c 1 \
        python scripts/official_choices_linear.py --study learnable-vs-poe [--no-long]

Both studies train the dense linear-Gaussian models of Table 1 with our bound
(``experiments.linear.experiment.LinearExperiment``) and report Table 1's columns (LLH gap,
bound gap, MCC).

``--study choices`` (default) evaluates the models of ``--profile`` with this project's choices
and with each of the official code's, one at a time (``CHOICES``): its subset distribution rho
(Bernoulli(1/2) per modality, ``objectives.subsets``; retrains), its evaluation on the training
points (``eval_split="train"``; same models), and, with that, its "bound": minus the last
epoch's running training loss (``bound_source="training_loss"``; same models). Prints, per choice
and aggregation, the mean and std over the data sets next to the paper's Table 1 rows. Output:
``scripts/results/official_choices_linear_<profile>.txt`` (the printed text, redirected).

``--study learnable-vs-poe`` asks whether a learnable aggregation beats PoE on this model
(``conditions``): PoE (the textbook product of experts), PoE with the official code's mean
(``poe_mean_weighting="variance"``) and SumPooling, on 3 data sets, with the quick profile's
widths (128) and data sizes (2,000 train, 500 test points, batch 250: 8 steps per epoch), for
latent dimension D in {5 (the official code's default), 30 (the paper's)}, learning rate in
{3e-3 (quick), 1e-3 (paper)} and 192 or 1,920 steps; 7,680 steps for D = 30 at 1e-3 (left out
with ``--no-long``); and the official gaussian_simulations.py defaults as far as the
configuration allows (``OFFICIAL``): D = 5, 5,000 training points, batch 500, widths 256,
Adam 1e-3, element-wise clipping at 100 of the batch-summed loss's gradient, rho =
Bernoulli(1/2), cut to 1,500 steps (the official code runs 4,000 epochs = 40,000 steps). Every
run also counts its collapsed latent directions: singular values of the learned stacked decoder
matrix below a quarter of the smallest one of the maximum-likelihood fit. Writes
``scripts/results/learnable_vs_poe.{csv,txt,png}``: one row per condition x aggregation x
data set, the printed summary (mean (std) over data sets) and the LLH gap against the number of
steps (one panel per (D, learning rate); lines: mean, bands: min to max over the data sets; the
y axis is logarithmic above 1e-3 and linear below, as the gap can be slightly negative on the
test split).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

from mmvae_nb.experiments.base import Run, run_grid
from mmvae_nb.experiments.linear.experiment import LinearExperiment
from mmvae_nb.reference import paper_table

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).parent / "results"
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

# learnable-vs-poe: (label, trained aggregation, poe_mean_weighting) per line of the figure
AGGREGATIONS = [
    ("PoE", "PoE", "precision"),
    ("PoE (official mean)", "PoE", "variance"),
    ("SumPooling", "SumPooling", None),
]
QUICK_STEPS_PER_EPOCH = 2000 // 250  # the quick profile's n_train / batch_size
SHARED = {"num_datasets": 3, "clip_on": "batch_sum", "clip_value": 100.0}
OFFICIAL = {
    "latent_dim": 5,
    "learning_rate": 1e-3,
    "epochs": 150,  # 1,500 steps of 500 out of 5,000 points
    "n_train": 5000,
    "batch_size": 500,
    "hidden_experts": 256,
    "hidden_pooling": 256,
    "subset_sampler": "independent",
}
COLUMNS = [
    "condition",
    "latent_dim",
    "learning_rate",
    "steps",
    "n_train",
    "batch_size",
    "hidden",
    "subset_sampler",
    "clip_on",
    "clip_value",
    "aggregation",
    "poe_mean_weighting",
    "dataset",
    "llh_gap",
    "bound_gap",
    "mcc",
    "mcc_true_posterior",  # the MCC of a sample of the true posterior: the ceiling
    "collapsed_directions",
    "train_seconds",
]


def conditions(long: bool = True) -> dict[str, dict]:
    """Condition name -> overrides of the quick profile, in the order they are trained."""
    out = {}
    for latent_dim in (5, 30):
        for learning_rate in (3e-3, 1e-3):
            for steps in (192, 1920):
                out[f"D={latent_dim} lr={learning_rate:g} {steps} steps"] = {
                    "latent_dim": latent_dim,
                    "learning_rate": learning_rate,
                    "epochs": steps // QUICK_STEPS_PER_EPOCH,
                }
    out["official settings (D=5 lr=0.001 1500 steps)"] = OFFICIAL
    if long:
        out["D=30 lr=0.001 7680 steps"] = {
            "latent_dim": 30,
            "learning_rate": 1e-3,
            "epochs": 7680 // QUICK_STEPS_PER_EPOCH,
        }
    return out


def collapsed_directions(experiment: LinearExperiment, run: Run) -> list[float]:
    """Per data set: singular values of the learned stacked decoder matrix below a quarter of
    the smallest singular value of the maximum-likelihood W (NaN where a replica diverged)."""
    trained = experiment.train(run, progress=False)  # a cache hit after run_grid
    counts = []
    for r in range(trained.num_replicas):
        if trained.diverged_epoch(r) is not None:
            counts.append(np.nan)
            continue
        W, _ = experiment.learned_decoder(trained.model(r), r)
        learned = np.linalg.svd(np.concatenate(W), compute_uv=False)
        mle = np.linalg.svd(np.concatenate(experiment.mle[r][0]), compute_uv=False)
        counts.append(float(np.sum(learned < 0.25 * mle.min())))
    return counts


def learnable_vs_poe(long: bool) -> pd.DataFrame:
    """Train and evaluate every condition x aggregation on 3 data sets: the tidy results."""
    frames = []
    for condition, overrides in conditions(long).items():
        for label, aggregation, weighting in AGGREGATIONS:
            model = {"poe_mean_weighting": weighting} if weighting else {}
            experiment = LinearExperiment("quick", overrides={**SHARED, **overrides, **model})
            run = Run(aggregation, "ours")
            runs = run_grid(experiment, [run], progress=False)
            cfg = experiment.config
            frames.append(
                runs.assign(
                    condition=condition,
                    latent_dim=cfg.data.latent_dim,
                    learning_rate=cfg.training.learning_rate,
                    steps=cfg.training.epochs * cfg.data.n_train // cfg.training.batch_size,
                    n_train=cfg.data.n_train,
                    batch_size=cfg.training.batch_size,
                    hidden=cfg.model.hidden_pooling,
                    subset_sampler=cfg.training.subset_sampler,
                    clip_on=cfg.training.clip_on,
                    clip_value=cfg.training.clip_value,
                    aggregation=label,
                    poe_mean_weighting=weighting,
                    dataset=runs["replica"],
                    collapsed_directions=collapsed_directions(experiment, run),
                )
            )
            print(f"{condition:45s} {label:20s} trained in {runs['train_seconds'].iloc[0]:.0f} s")
    runs = pd.concat(frames, ignore_index=True)
    extra = ["diverged_epoch"] if "diverged_epoch" in runs else []
    return runs[COLUMNS + extra]


def paper_table1(aggregations: list[str]) -> pd.DataFrame:
    """The paper's Table 1 rows of ``aggregations`` with our bound: mean and std per metric."""
    paper = paper_table("table01_linear_dense")
    paper = paper[(paper["bound"] == "ours") & paper["aggregation"].isin(aggregations)]
    return paper.pivot_table(index="aggregation", columns="metric", values=["mean", "std"])


def summary(runs: pd.DataFrame) -> str:
    """Mean (std over data sets) per condition x aggregation, and the paper's Table 1 rows."""
    metrics = METRICS + ["collapsed_directions"]
    grouped = runs.groupby(["condition", "aggregation"], sort=False)
    mean, std = grouped[metrics].mean(), grouped[metrics].std()
    digits = {"llh_gap": 4, "bound_gap": 4, "mcc": 3, "collapsed_directions": 1}
    table = pd.DataFrame(
        {
            m: [f"{a:.{digits[m]}f} ({s:.{digits[m]}f})" for a, s in zip(mean[m], std[m])]
            for m in metrics
        },
        index=mean.index,
    )
    table["n"] = grouped["llh_gap"].count()
    table["train_s"] = grouped["train_seconds"].first().round(0).astype(int)
    paper = paper_table1(["PoE", "SumPooling"])
    return (
        "dense linear model, our bound, 3 data sets; mean (std over data sets); collapsed = "
        "decoder singular values < 1/4 of the MLE's smallest; train_s = training wall seconds "
        "(one core, with compilation)\n"
        + table.to_string()
        + "\n\nthe paper's Table 1 (our bound), mean (std):\n"
        + paper.to_string()
        + "\n"
    )


def figure(runs: pd.DataFrame, path: Path) -> None:
    """LLH gap against steps, one panel per (D, learning rate), one line per aggregation."""
    official = runs["condition"].str.startswith("official")
    sweep = runs[~official]
    colors = {label: f"C{i}" for i, (label, _, _) in enumerate(AGGREGATIONS)}
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), sharex=True, sharey=True)
    for ax, ((d, lr), panel) in zip(
        axes.flat, sweep.groupby(["latent_dim", "learning_rate"], sort=False)
    ):
        for label, curve in panel.groupby("aggregation", sort=False):
            stats = curve.groupby("steps")["llh_gap"].agg(["mean", "min", "max"])
            ax.plot(stats.index, stats["mean"], "o-", color=colors[label], label=label)
            ax.fill_between(stats.index, stats["min"], stats["max"], color=colors[label], alpha=0.2)
        if d == 5 and np.isclose(lr, 1e-3):  # the official settings, side by side
            for shift, (label, point) in zip(
                (0.93, 1.0, 1.07), runs[official].groupby("aggregation", sort=False)
            ):
                gap = point["llh_gap"]
                ax.errorbar(
                    point["steps"].iloc[0] * shift,
                    gap.mean(),
                    yerr=[[gap.mean() - gap.min()], [gap.max() - gap.mean()]],
                    fmt="x",
                    color=colors[label],
                    markersize=9,
                    label=f"{label}, official settings",
                )
        ax.set(xscale="log", title=f"D = {d}, learning rate {lr:g}")
        # gaps can be slightly negative (test split): linear in [-1e-3, 1e-3], log beyond
        ax.set_yscale("symlog", linthresh=1e-3, linscale=0.3)
        ax.set_xticks([192, 1920, 7680], ["192", "1,920", "7,680"])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes[-1]:
        ax.set_xlabel("training steps")
    for ax in axes[:, 0]:
        ax.set_ylabel("LLH gap (test split; linear below 1e-3)")
    fig.legend(*axes[0, 1].get_legend_handles_labels(), loc="lower center", ncol=3, fontsize=8)
    fig.suptitle("Dense linear model, our bound: mean and min-max over 3 data sets")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def official_choices(profile: str, aggregations: list[str]) -> None:
    """The ``choices`` study (module docstring): printed."""
    frames = []
    for choice, overrides in CHOICES.items():
        experiment = LinearExperiment(profile, overrides=overrides)
        runs = run_grid(experiment, experiment.grid(aggregations, ("ours",)), progress=False)
        frames.append(runs.assign(choice=choice))
    runs = pd.concat(frames, ignore_index=True)
    ours = runs.groupby(["choice", "aggregation"], sort=False)[METRICS].agg(["mean", "std"])
    print(f"dense linear model, {profile} profile, our bound; mean (std) over data sets")
    print(ours.round(3).to_string())
    print("\nthe paper's Table 1 (our bound), mean (std):")
    print(paper_table1(aggregations).to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--study", choices=["choices", "learnable-vs-poe"], default="choices")
    parser.add_argument("--profile", default="quick", help="choices study only")
    parser.add_argument(
        "--aggregations", nargs="+", default=["PoE", "SumPooling"], help="choices study only"
    )
    parser.add_argument("--no-long", action="store_true", help="skip the 7,680-step condition")
    args = parser.parse_args()
    if args.study == "choices":
        official_choices(args.profile, args.aggregations)
        return
    runs = learnable_vs_poe(long=not args.no_long)
    RESULTS.mkdir(exist_ok=True)
    runs.to_csv(RESULTS / "learnable_vs_poe.csv", index=False, float_format="%.6g")
    text = summary(runs)
    (RESULTS / "learnable_vs_poe.txt").write_text(text)
    print(text)
    figure(runs, RESULTS / "learnable_vs_poe.png")


if __name__ == "__main__":
    main()
