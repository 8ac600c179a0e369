"""The command line shared by the train-time diagnostics (``diagnose_mst.py``,
``diagnose_collapse.py``): which rows, how many steps, how often to print, and profile settings
to replace by name, as a notebook's overrides do."""

from __future__ import annotations

import argparse
import json


def diagnosis_parser(doc: str, rows: list[str], steps: int, every: int, example: str):
    """An ``argparse`` parser with ``--rows --steps --every --profile --set``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rows", nargs="+", default=rows)
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--every", type=int, default=every)
    parser.add_argument("--profile", default="quick")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help=f"profile settings to replace, e.g. {example}",
    )
    return parser


def profile_overrides(settings: list[str]) -> dict:
    """``["epochs=2", "lr=1e-3"]`` -> ``{"epochs": 2, "lr": 0.001}`` (values read as JSON)."""
    return {name: json.loads(value) for name, value in (s.split("=", 1) for s in settings)}
