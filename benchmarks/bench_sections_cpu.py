"""CPU step throughput of every section's quick training, this tree against another revision.

    python benchmarks/bench_sections_cpu.py --against 978bfbe [--repeats 2]

For each section one configuration of its quick profile trains in one process for ``E1`` and
then ``E2`` epochs, each twice (the second call is warm: compiled), and the process CPU seconds
per Adam step are the slope between the two: compilation, tracing and evaluation outside the
epochs cancel. The revision to compare runs the same measurement from a git worktree, the two
trees taking turns (``--repeats`` rounds), so that both see the same machine load. Results:
``benchmarks/results/bench_sections_cpu.txt`` (medians and the ratio head / base; < 1 is
faster). Data counts are cut so that an epoch is 50-100 steps.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results" / "bench_sections_cpu.txt"
# section -> (constructor overrides, epochs E1, E2)
SETTINGS = {
    "linear": ({}, 4, 12),
    "aux_label": ({}, 20, 100),
    "five_modalities": ({}, 4, 12),
    "mnist_svhn_text": ({"svhn_size": 3000, "svhn_test_size": 500, "train_size": 2400}, 2, 3),
    "relational": ({"train_size": 3200, "test_size": 200, "selection_size": 50}, 1, 2),
}


def _section(name: str, overrides: dict):
    """The quick profile's experiment ``name`` (its first setting) with ``overrides``."""
    from mmvae_nb.experiments.registry import EXPERIMENTS

    entry = EXPERIMENTS[name]
    setting = entry.settings(entry.config("quick"))[0]
    return entry.build("quick", 0, setting, overrides=overrides)


def measure(name: str) -> dict:
    """CPU seconds per step of ``name``'s first quick configuration (in this process)."""
    overrides, first, second = SETTINGS[name]
    times = {}
    for epochs in (first, first, second, second):  # the second call of each is warm
        section = _section(name, overrides | {"epochs": epochs})
        run = section.grid()[0]
        start = time.process_time()
        trained = section.train(run, force_retrain=True, progress=False)
        times[epochs] = time.process_time() - start
    steps = trained.loss_history.shape[-1]  # epochs of the second call
    per_epoch = _steps_per_epoch(section)
    seconds = (times[second] - times[first]) / ((second - first) * per_epoch)
    return {
        "section": name,
        "run": run.label,
        "steps_per_epoch": per_epoch,
        "cpu_s": seconds,
        "epochs": steps,
    }


def _steps_per_epoch(section) -> int:
    """Full batches per epoch: of the streamed data set, or of the synthetic sections' N."""
    batch = section.config.training.batch_size
    streamed = getattr(section, "training_data", None) or getattr(section, "train_data", None)
    if hasattr(streamed, "pairs") or hasattr(streamed, "images"):
        return len(streamed) // batch
    return section.config.data.n_train // batch


def _child(sections) -> None:
    import mmvae_nb

    for name in sections:
        print(json.dumps(measure(name) | {"package": mmvae_nb.__file__}), flush=True)


def _run_tree(tree: Path, sections, env) -> list[dict]:
    done = subprocess.run(
        [sys.executable, str(HERE), "--child", *sections],
        cwd=tree,
        env=env | {"PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{tree}: {done.stderr[-2000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", help="git revision to compare with")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sections", nargs="+", default=list(SETTINGS))
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args.child)
    head = HERE.parents[1]
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch) / "base"
        subprocess.run(
            ["git", "-C", str(head), "worktree", "add", "-q", "--detach", str(base), args.against],
            check=True,
        )
        try:
            env = dict(os.environ)
            env["MMVAE_NB_CACHE"] = str(Path(scratch) / "cache")
            env.setdefault("MMVAE_NB_DATA", str(head / ".cache" / "data"))
            rows = []
            for k in range(args.repeats):
                for label, tree in (("base", base), ("head", head)):
                    for row in _run_tree(tree, args.sections, env):
                        rows.append(row | {"tree": label, "round": k})
                        print(row | {"tree": label}, flush=True)
        finally:
            subprocess.run(["git", "-C", str(head), "worktree", "remove", "--force", str(base)])
    lines = [
        f"process CPU ms per Adam step, quick shapes; base {args.against}, head = this tree;"
        f" medians of {args.repeats} rounds, trees taking turns",
        "",
    ]
    lines.append(f"{'section':18s} {'run':34s} {'base':>9s} {'head':>9s} {'head/base':>9s}")
    for name in args.sections:
        base_s = np.median(
            [r["cpu_s"] for r in rows if r["section"] == name and r["tree"] == "base"]
        )
        head_s = np.median(
            [r["cpu_s"] for r in rows if r["section"] == name and r["tree"] == "head"]
        )
        run = next(r["run"] for r in rows if r["section"] == name)
        lines.append(
            f"{name:18s} {run:34s} {base_s * 1e3:9.2f} {head_s * 1e3:9.2f} {head_s / base_s:9.2f}"
        )
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
