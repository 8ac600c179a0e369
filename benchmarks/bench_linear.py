"""Train-step throughput of the linear-Gaussian section's models (Section 5.1, Table 17).

Prints model-steps/s and examples/s for each aggregator x bound, for one model and for R seeds
vmapped into one program, at the paper's sizes (M = 5, D = 30, D_s ~ U(30, 60), batch 500).
Compilation is excluded (one warm-up call). Run: ``make bench`` or
``python benchmarks/bench_linear.py --aggregators PoE --replicas 1 5``.
"""

from __future__ import annotations

import argparse

import jax
import pandas as pd

from mmvae_nb.experiments.linear.experiment import LinearExperiment
from mmvae_nb.training.trainer import TrainConfig, train_replicas


def measure(aggregator, bound, replicas, epochs, experts_width):
    exp = LinearExperiment(
        profile="paper",
        overrides={"num_datasets": replicas, "hidden_experts": experts_width},
    )
    xs, present = exp.stacked("train")
    cfg = TrainConfig(bound=bound, epochs=epochs, batch_size=exp.batch_size, epochs_per_call=epochs)
    make = exp.model_factory(aggregator)
    args = exp.replica_args()
    train_replicas(make, xs, present, cfg, replica_args=args, progress=False)  # compile
    seconds = train_replicas(
        make, xs, present, cfg, replica_args=args, progress=False
    ).train_seconds
    steps = epochs * (exp.n_train // exp.batch_size) * replicas
    return {
        "aggregation": aggregator,
        "encoder_width": experts_width if aggregator in ("PoE", "MoE") else 256,
        "bound": bound,
        "replicas": replicas,
        "model_steps_per_s": steps / seconds,
        "examples_per_s": steps * exp.batch_size / seconds,
        "s_per_epoch_per_model": seconds / (epochs * replicas),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--aggregators", nargs="+", default=["PoE", "MoE", "SumPooling", "SelfAttention"]
    )
    parser.add_argument("--bounds", nargs="+", default=["ours", "mixture"])
    parser.add_argument("--replicas", nargs="+", type=int, default=[1, 5])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--experts-width",
        type=int,
        default=512,
        help="PoE/MoE encoder width (Table 17: 512; the official code's default: 256)",
    )
    args = parser.parse_args()
    rows = [
        measure(a, b, r, args.epochs, args.experts_width)
        for a in args.aggregators
        for b in args.bounds
        for r in args.replicas
    ]
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {jax.device_count()} device(s)")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:,.2f}"))


if __name__ == "__main__":
    main()
