"""Which of both papers' tables and figures a profile has written (``make rehearse`` ends with
it; issue 37).

The tables are every table the papers print (``mmvae_nb/reference``: Tables 1-16 of Hirt et al.,
Tables 1-2 of Sutter & Vogt); the figures are Hirt et al.'s Figures 1-12, each found as at least
one ``figures/<profile>/figNN_*.png``.

    python -m mmvae_nb.reporting.inventory --profile rehearse
"""

from __future__ import annotations

import argparse
import sys

from mmvae_nb.reporting.tables import output_dir
from mmvae_nb.storage import PACKAGE_ROOT

FIGURES = tuple(f"fig{n:02d}" for n in range(1, 13))


def expected_tables() -> list[str]:
    """The file stems of every paper table (as the reproduced tables are named)."""
    return sorted(p.stem for p in (PACKAGE_ROOT / "reference").glob("*table[0-9][0-9]_*.csv"))


def missing_outputs(profile: str) -> list[str]:
    """The paper tables (``tables/<profile>/<stem>.csv``) and figures (``figNN_*.png``) that
    ``profile`` has not written."""
    tables, figures = output_dir("tables", profile), output_dir("figures", profile)
    missing = [f"{s}.csv" for s in expected_tables() if not (tables / f"{s}.csv").exists()]
    return missing + [f"{f}_*.png" for f in FIGURES if not list(figures.glob(f"{f}_*.png"))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True)
    args = parser.parse_args(argv)
    missing = missing_outputs(args.profile)
    total = len(expected_tables()) + len(FIGURES)
    print(f"{args.profile}: {total - len(missing)} of {total} paper tables and figures written")
    if missing:
        print("missing: " + ", ".join(missing))
        sys.exit(1)


if __name__ == "__main__":
    main()
