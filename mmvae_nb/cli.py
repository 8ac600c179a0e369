"""One way to run an experiment, from a shell or make: ``python -m mmvae_nb``.

    python -m mmvae_nb list                      # experiments, notebooks, profiles, tables
    python -m mmvae_nb run linear --profile quick [-p epochs 4 ...]
    python -m mmvae_nb run aux_label --profile paper --executor submitit \
        --launch-args "--partition gpu"

``run`` executes the experiment's notebook headless with papermill (no Jupyter server): the
notebook is the experiment's one program, so a run from here and one from JupyterLab compute the
same tables and figures. At the ``paper`` and ``rehearse`` profiles the launcher
(``launch``) trains every training of the experiment first, so that the notebook only
evaluates. The executed copy goes to ``build/<profile>/<notebook>`` through a ``.part`` file
renamed on success, so an interrupted run never leaves a copy that looks finished; the smoke
profile compiles with XLA's cheapest pipeline (``xla_flags``). ``list --make`` writes the
Makefile's experiment targets from the registry (``experiments.registry.EXPERIMENTS``).
"""

from __future__ import annotations

import argparse
import ast
import os
import shlex
import subprocess
import sys
from pathlib import Path

from mmvae_nb.experiments.configs import PROFILES
from mmvae_nb.experiments.registry import EXPERIMENTS, ExperimentSpec
from mmvae_nb.storage import project_root
from mmvae_nb.xla_flags import FAST_COMPILE

LAUNCHED_PROFILES = ("paper", "rehearse")  # their trainings run as launcher jobs first


def find(name: str) -> ExperimentSpec:
    """The experiment named ``name`` or whose notebook's stem is ``name`` (``01_linear``)."""
    for entry in EXPERIMENTS.values():
        if name in (entry.name, Path(entry.notebook).stem):
            return entry
    raise SystemExit(f"unknown experiment {name!r}; choose from {list(EXPERIMENTS)}")


def executed_path(entry: ExperimentSpec, profile: str) -> Path:
    return project_root() / "build" / profile / entry.notebook


def parameter_value(text: str):
    """A ``-p`` value as papermill's command line reads it: a Python literal, else the text."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def run(
    entry: ExperimentSpec,
    profile: str,
    parameters: dict | None = None,
    *,
    executor: str = "local",
    launch_args: str = "",
) -> Path:
    """Launch the trainings of ``entry`` (paper, rehearse), then execute its notebook with
    ``parameters``; returns the executed notebook's path."""
    import papermill

    root = project_root()
    if profile in LAUNCHED_PROFILES:
        command = [sys.executable, "-m", "mmvae_nb.launch", "--profile", profile]
        command += ["--sections", entry.name, "--executor", executor, *shlex.split(launch_args)]
        subprocess.run(command, check=True, cwd=root)
    if profile == "smoke":  # read by the kernel's JAX, which starts after this
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {FAST_COMPILE}".strip()
    out = executed_path(entry, profile)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = out.with_suffix(".part.ipynb")
    papermill.execute_notebook(
        root / "notebooks" / entry.notebook,
        part,
        parameters={"profile": profile, "progress": False, **(parameters or {})},
        cwd=root / "notebooks",
    )
    part.replace(out)
    return out


def listing() -> str:
    """The experiments as a table: name, notebook, the paper's sections, tables."""
    lines = [f"{'experiment':16s} {'notebook':26s} {'paper':34s} tables"]
    for e in EXPERIMENTS.values():
        tables = ", ".join(e.tables) or "-"
        lines.append(f"{e.name:16s} {e.notebook:26s} {e.paper_sections:34s} {tables}")
    lines.append(f"profiles: {', '.join(PROFILES)}")
    return "\n".join(lines) + "\n"


def make_rules() -> str:
    """The Makefile's experiment targets: ``EXPERIMENTS`` in make's order (``make_rank``) and
    ``<name>: build/$(PROFILE)/<notebook>`` for each."""
    ordered = sorted(EXPERIMENTS.values(), key=lambda e: e.make_rank)
    lines = ["# written by `python -m mmvae_nb list --make` from experiments/registry.py"]
    lines.append(f"EXPERIMENTS := {' '.join(e.name for e in ordered)}")
    lines += [f"{e.name}: build/$(PROFILE)/{e.notebook}" for e in ordered]
    return "\n".join(lines) + "\n"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mmvae_nb", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listed = commands.add_parser("list", help="experiments, notebooks, profiles and tables")
    listed.add_argument("--make", action="store_true", help="the Makefile's experiment targets")
    ran = commands.add_parser("run", help="train and evaluate one experiment (its notebook)")
    ran.add_argument("experiment", help=f"one of {', '.join(EXPERIMENTS)} (or a notebook stem)")
    ran.add_argument("--profile", default="quick", choices=PROFILES)
    ran.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        help="a notebook parameter (papermill's -p); the notebook refuses one it does not declare",
    )
    ran.add_argument("--executor", default="local", help="paper, rehearse: launch.py's executor")
    ran.add_argument("--launch-args", default="", help="paper, rehearse: more launch.py options")
    args = parser.parse_args(argv)
    if args.command == "list":
        print(make_rules() if args.make else listing(), end="")
        return
    parameters = {name: parameter_value(value) for name, value in args.parameter}
    path = run(
        find(args.experiment),
        args.profile,
        parameters,
        executor=args.executor,
        launch_args=args.launch_args,
    )
    print(f"executed: {path.relative_to(project_root())}")


if __name__ == "__main__":
    main()
