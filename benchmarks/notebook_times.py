"""Where did a `make quick` (or any profile's run) spend its time? (not a test)

    python benchmarks/notebook_times.py [--profile quick] [--build build] [--top 3]

Reads the notebooks papermill executed under ``build/<profile>/`` (the Makefile's targets) and
prints, per notebook, when it started and ended (papermill's timestamps), its wall time, the sum
of its cells' durations and its longest cells; then the span from the first start to the last
end, which is the wall time of the notebooks together when the Makefile ran them in lanes
(``make -j2``: two notebooks at a time overlap, so the span is less than the sum).

Output: the printed table (``benchmarks/results/notebook_times_<profile>.txt`` when redirected).
It is the evidence behind the quick profile's sizes and the Makefile's lanes.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path


def notebook_times(path: Path, top: int) -> dict:
    """Start, end, wall and cell seconds of one executed notebook, with its ``top`` cells."""
    notebook = json.loads(path.read_text())
    run = notebook["metadata"].get("papermill", {})
    if not run.get("start_time") or not run.get("end_time"):
        raise ValueError(f"{path} has no papermill start/end time: was it executed by papermill?")
    cells = []
    for index, cell in enumerate(notebook["cells"]):
        seconds = cell.get("metadata", {}).get("papermill", {}).get("duration") or 0.0
        first_line = ("".join(cell["source"]).strip().splitlines() or [""])[0]
        cells.append((seconds, index, first_line[:60]))
    start, end = (datetime.fromisoformat(run[key]) for key in ("start_time", "end_time"))
    return {
        "notebook": path.stem,
        "start": start,
        "end": end,
        "wall": (end - start).total_seconds(),
        "cells": sum(seconds for seconds, _, _ in cells),
        "longest": sorted(cells, reverse=True)[:top],
    }


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--build", default="build", help="the Makefile's build folder")
    parser.add_argument("--top", type=int, default=3, help="longest cells shown per notebook")
    args = parser.parse_args()
    paths = sorted(Path(args.build, args.profile).glob("[0-9]*.ipynb"))
    paths = [p for p in paths if not p.name.endswith(".part.ipynb")]
    if not paths:
        raise SystemExit(f"no executed notebooks in {Path(args.build, args.profile)}")
    rows = [notebook_times(p, args.top) for p in paths]
    first = min(r["start"] for r in rows)
    print(f"profile {args.profile}: {len(rows)} notebooks (times from papermill's metadata)")
    for r in sorted(rows, key=lambda r: r["start"]):
        offset, finish = (r["start"] - first).total_seconds(), (r["end"] - first).total_seconds()
        print(
            f"{r['notebook']:<22} {_clock(offset):>6} -> {_clock(finish):>6}  "
            f"wall {_clock(r['wall']):>6}  cells {_clock(r['cells']):>6}"
        )
        for seconds, index, line in r["longest"]:
            print(f"{'':<24}cell {index:>2}: {seconds:6.0f} s  {line}")
    span = (max(r["end"] for r in rows) - first).total_seconds()
    total = sum(r["wall"] for r in rows)
    walls = _clock(total)
    print(f"first start to last end: {_clock(span)} (the notebooks' walls add up to {walls})")


if __name__ == "__main__":
    main()
