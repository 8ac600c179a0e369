"""Does XLA's cheapest CPU pipeline speed up a quick-profile training? (not a test)

    python benchmarks/xla_pipeline.py [--section aux_label] [--row SelfAttention standard]

Trains and evaluates one quick-profile configuration from a cold results and compilation cache
with XLA's default flags, with the loop emitters instead of the fusion emitters
(``--xla_cpu_use_fusion_emitters=false``), with ``--xla_backend_optimization_level=0``, and with
both (the test suite's setting, ``tests/conftest.py``), each in a fresh process (XLA reads its
flags when its backend starts), and prints the wall time, the training time, the XLA compile
time summed over every program (JAX's compile log) and the resulting log-likelihoods.

Output: ``benchmarks/results/xla_pipeline_quick.txt``. It is the evidence for keeping the
quick profile at XLA's default pipeline: the cheap pipelines halve compilation or more but the
compiled steps run slower, and every change of flags changes the trained numbers (training is
chaotic in the rounding), hence every committed table.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

LOOP_EMITTERS = "--xla_cpu_use_fusion_emitters=false"
LEVEL_ZERO = "--xla_backend_optimization_level=0"
PIPELINES = {
    "default pipeline": "",
    "loop emitters": LOOP_EMITTERS,
    "optimization level 0": LEVEL_ZERO,
    "both (tests)": f"{LEVEL_ZERO} {LOOP_EMITTERS}",
}

CHILD = """
import logging, re, sys, time
import jax
records = []
class Compiles(logging.Handler):
    def emit(self, record):
        found = re.search(r"Finished XLA compilation .* in ([0-9.]+) sec", record.getMessage())
        if found:
            records.append(float(found.group(1)))
jax.config.update("jax_log_compiles", True)
logging.getLogger("jax").addHandler(Compiles())
from mmvae_nb.experiments.identifiable.experiment import IdentifiableExperiment
from mmvae_nb.experiments.base import run_grid
section, aggregation, prior = sys.argv[1:4]
experiment = IdentifiableExperiment(section, "quick")
start = time.perf_counter()
runs = run_grid(experiment, experiment.grid([(aggregation, prior)], ("ours",)), progress=False)
wall = time.perf_counter() - start
llh = runs.groupby(["beta"] if section == "aux_label" else ["eta"])["llh"].mean().round(4)
print(f"wall {wall:.1f} s, training {runs.train_seconds.iloc[0]:.1f} s, "
      f"XLA compilation {sum(records):.1f} s in {len(records)} programs, llh {llh.to_dict()}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--section", default="aux_label", choices=["aux_label", "five_modalities"])
    parser.add_argument("--row", nargs=2, default=["SelfAttention", "standard"])
    args = parser.parse_args()
    print(f"{args.section}, quick profile, {args.row[0]} / {args.row[1]} prior, our bound")
    for label, flags in PIPELINES.items():
        with tempfile.TemporaryDirectory() as cache:
            env = {**os.environ, "MMVAE_NB_CACHE": cache, "XLA_FLAGS": flags}
            out = subprocess.run(
                [sys.executable, "-c", CHILD, args.section, *args.row],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
        print(f"{label:>20}: {out.stdout.strip().splitlines()[-1]}", flush=True)


if __name__ == "__main__":
    main()
