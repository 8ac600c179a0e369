"""The reproduction scorecard: every reproduced cell next to the paper's, and the paper's
qualitative claims checked against our numbers.

    python -m mmvae_nb.reporting.scorecard --profile quick [--readme README.md]

reads every ``tables/<profile>/tableNN_*.csv`` written by the notebooks, joins it to the
vendored paper table on the key columns (``reporting.join_paper``) and writes
``tables/<profile>/scorecard.csv`` (one row per cell) and ``scorecard.md`` (summary per table,
then the claims). With ``--readme`` the summary also replaces the block between the
``<!-- scorecard:start -->`` / ``<!-- scorecard:end -->`` markers of that file.

**Cells.** ``z`` is (ours - paper) / paper std where the paper prints a positive std; otherwise
``relative`` is (ours - paper) / |paper| (coherence tables print no std). A cell is *within
tolerance* when |z| <= 2 or, without a std, |relative| <= 0.1. These thresholds are our
convention, not the paper's.

**Claims.** The paper's qualitative statements about its results are records in the sections'
registries (``sections.linear_claims.CLAIMS``, ``sections.identifiable_claims.CLAIMS``,
``sections.mnist_svhn_text_claims.CLAIMS``; see ``sections.claims``); each is checked on the
reproduced table it rests on and reported as held / not held / not measured with its evidence (our
difference in the paper's direction against our spread over repetitions). The scorecard derives
no claims of its own.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mmvae_nb.reporting.tables import (
    FLOAT_FORMAT,
    KEY_COLUMNS,
    join_paper,
    output_dir,
    paper_table,
    read_table,
)
from mmvae_nb.sections.claims import HELD, NOT_HELD, NOT_MEASURED, evaluate_claims
from mmvae_nb.storage import atomic_write_text

Z_TOLERANCE = 2.0
RELATIVE_TOLERANCE = 0.1
TABLE_FILE = re.compile(r"table\d\d_.+\.csv")
MARKERS = ("<!-- scorecard:start -->", "<!-- scorecard:end -->")


def reproduced_tables(profile: str) -> dict[str, pd.DataFrame]:
    """The paper tables reproduced under ``tables/<profile>``, by file stem."""
    folder = output_dir("tables", profile)
    return {
        path.stem: read_table(path)
        for path in sorted(folder.glob("table*.csv"))
        if TABLE_FILE.fullmatch(path.name)
    }


def score_cells(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """One row per reproduced cell with the paper's value: z, relative difference and whether
    it is within tolerance (module notes)."""
    cells = join_paper(ours, paper)
    difference = cells["mean"] - cells["paper_mean"]
    has_std = cells["paper_std"].gt(0)
    cells["z"] = np.where(has_std, difference / cells["paper_std"].where(has_std), np.nan)
    cells["relative"] = np.where(
        has_std, np.nan, difference / cells["paper_mean"].abs().replace(0, np.nan)
    )
    within = np.where(
        has_std, cells["z"].abs() <= Z_TOLERANCE, cells["relative"].abs() <= RELATIVE_TOLERANCE
    )
    cells["within_tolerance"] = pd.Series(within, dtype="boolean").mask(cells["paper_mean"].isna())
    return cells


def paper_claims() -> list:
    """Every section's claim registry, in section order (``sections.*_claims.CLAIMS``)."""
    from mmvae_nb.sections import identifiable_claims, linear_claims, mnist_svhn_text_claims

    return [*linear_claims.CLAIMS, *identifiable_claims.CLAIMS, *mnist_svhn_text_claims.CLAIMS]


def build(profile: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, claims) for every reproduced table of ``profile``."""
    tables = reproduced_tables(profile)
    if not tables:
        raise FileNotFoundError(
            f"no reproduced tables in {output_dir('tables', profile)}; run the notebooks first "
            f"(make quick, or make <section> PROFILE={profile})"
        )
    cells = [
        score_cells(ours, paper_table(name)).assign(file=name) for name, ours in tables.items()
    ]
    claim_table = evaluate_claims(paper_claims(), tables).rename(columns={"table": "file"})
    return pd.concat(cells, ignore_index=True), claim_table


def summary(cells: pd.DataFrame, claim_table: pd.DataFrame) -> pd.DataFrame:
    """Per table: cells reproduced, with a paper value, within tolerance; claims held."""
    scored = cells.dropna(subset=["paper_mean"])
    per_table = scored.groupby("file", sort=True).agg(
        cells=("mean", "size"), within_tolerance=("within_tolerance", "sum")
    )
    per_table["within_tolerance"] = per_table["within_tolerance"].astype(int)
    counts = claim_table.groupby("file")["status"].agg(
        claims="size",
        held=lambda s: int((s == HELD).sum()),
        not_held=lambda s: int((s == NOT_HELD).sum()),
        not_measured=lambda s: int((s == NOT_MEASURED).sum()),
    )
    per_table = per_table.join(counts, how="outer").fillna(0).astype(int)
    per_table.loc["all"] = per_table.sum()
    return per_table.reset_index()


def render(profile: str, cells: pd.DataFrame, claim_table: pd.DataFrame) -> str:
    """The Markdown scorecard: summary, then every claim."""
    dataset = ", ".join(sorted(cells["dataset"].dropna().unique()))
    table = summary(cells, claim_table)
    text = [
        f"Scorecard, profile `{profile}` (data: {dataset}). Within tolerance: |z| <= "
        f"{Z_TOLERANCE:g} paper stds, or |relative difference| <= {RELATIVE_TOLERANCE:g} where "
        "the paper prints no std. Claims: the paper's statements about its results, one record "
        "each in the sections' registries (`mmvae_nb/sections/*_claims.py`, `CLAIMS`), checked "
        "on our tables: held / not held / not measured. Every cell: "
        f"`tables/{profile}/scorecard.csv`; every claim with its evidence: `scorecard.md`.\n",
        table.to_markdown(index=False),
    ]
    return "\n".join(text) + "\n"


def render_claims(claim_table: pd.DataFrame) -> str:
    """Every claim: its id, the paper's words, the verdict and the evidence."""
    columns = ["id", "claim", "status", "evidence"]
    return "\n## Claims\n\n" + claim_table[columns].to_markdown(index=False) + "\n"


def update_readme(readme: Path, block: str) -> None:
    """Replace the text between the scorecard markers of ``readme`` with ``block``."""
    text = readme.read_text()
    start, end = (text.find(marker) for marker in MARKERS)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no {MARKERS[0]} ... {MARKERS[1]} block")
    new = text[: start + len(MARKERS[0])] + "\n" + block + text[end:]
    atomic_write_text(new, readme)


def write(profile: str, readme: Path | None = None) -> Path:
    """Write tables/<profile>/scorecard.csv and .md (and the README block); returns the .md."""
    cells, claim_table = build(profile)
    folder = output_dir("tables", profile)
    columns = [*KEY_COLUMNS, "file", "mean", "std", "paper_mean", "paper_std", "z", "relative"]
    columns.append("within_tolerance")
    atomic_write_text(
        cells[columns].to_csv(index=False, float_format=FLOAT_FORMAT), folder / "scorecard.csv"
    )
    block = render(profile, cells, claim_table)
    atomic_write_text(block + render_claims(claim_table), folder / "scorecard.md")
    if readme is not None:
        update_readme(readme, block)
    return folder / "scorecard.md"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--readme", type=Path, help="also update this README's scorecard block")
    args = parser.parse_args(argv)
    print(write(args.profile, args.readme))


if __name__ == "__main__":
    main()
