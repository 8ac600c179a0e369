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

**Claims.** The paper's prose compares bounds and aggregation schemes; we state each comparison
as it follows from the paper's own numbers, for every group of cells that share table, block,
prior, beta, metric and target (means over the conditioning subsets ``inputs``):

* *bound*: which bound is better for the majority of the aggregation schemes the paper
  lists. Reproduced "yes" when the same bound is better for the majority of the schemes we ran.
* *aggregation*: which scheme is best under each bound. Reproduced "yes" when the paper's best
  is also our best among the schemes we ran, "not run" when we did not run it.

"Better" is larger, except for the gaps (``llh_gap``, ``bound_gap``), where smaller is better.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np
import pandas as pd

from mmvae_nb.reporting.tables import (
    KEY_COLUMNS,
    join_paper,
    output_dir,
    paper_table,
    read_table,
    with_key_dtypes,
)
from mmvae_nb.storage import atomic_write_text

LOWER_IS_BETTER = {"llh_gap", "bound_gap"}
Z_TOLERANCE = 2.0
RELATIVE_TOLERANCE = 0.1
GROUP = ["table", "block", "prior", "beta", "metric", "target"]
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


def _signed(frame: pd.DataFrame) -> pd.Series:
    """Group means with the sign flipped where smaller is better, so larger is always better."""
    sign = np.where(frame["metric"].isin(LOWER_IS_BETTER), -1.0, 1.0)
    return frame["mean"] * sign


def _group_means(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean over ``inputs`` per group x bound x aggregation, larger is better."""
    frame = frame.assign(score=_signed(frame))
    return frame.groupby([*GROUP, "bound", "aggregation"], as_index=False, sort=False)[
        "score"
    ].mean()


def _majority_bound(scores: pd.DataFrame) -> str | None:
    """The bound that is better for more aggregation schemes (None on a tie or one bound)."""
    wide = scores.pivot_table(index="aggregation", columns="bound", values="score")
    if not {"ours", "mixture"} <= set(wide.columns):
        return None
    wide = wide.dropna()
    ours_wins = int((wide["ours"] > wide["mixture"]).sum())
    mixture_wins = int((wide["mixture"] > wide["ours"]).sum())
    if ours_wins == mixture_wins:
        return None
    return "ours" if ours_wins > mixture_wins else "mixture"


def _best_aggregation(scores: pd.DataFrame) -> str | None:
    return None if scores.empty else str(scores.loc[scores["score"].idxmax(), "aggregation"])


def claims(ours: pd.DataFrame, paper: pd.DataFrame) -> pd.DataFrame:
    """The bound and aggregation claims (module notes) for the groups we reproduced."""
    ours_scores, paper_scores = (with_key_dtypes(_group_means(t)) for t in (ours, paper))
    rows = []
    for key, mine in ours_scores.groupby(GROUP, sort=False):
        theirs = paper_scores.merge(pd.DataFrame([key], columns=GROUP), on=GROUP)
        if theirs.empty:
            continue
        group = dict(zip(GROUP, key))
        paper_bound = _majority_bound(theirs)
        if paper_bound is not None:
            ran = mine[mine["aggregation"].isin(theirs["aggregation"])]
            our_bound = _majority_bound(ran)
            rows.append(
                {
                    **group,
                    "kind": "bound",
                    "claim": f"{paper_bound} bound better for most schemes",
                    "ours": our_bound or "tie",
                    "reproduced": "yes" if our_bound == paper_bound else "no",
                }
            )
        for bound, their_bound in theirs.groupby("bound", sort=False):
            paper_best = _best_aggregation(their_bound)
            mine_bound = mine[
                (mine["bound"] == bound) & mine["aggregation"].isin(their_bound["aggregation"])
            ]
            if mine_bound["aggregation"].nunique() < 2:
                continue  # one scheme run: nothing to compare
            our_best = _best_aggregation(mine_bound)
            ran = paper_best in set(mine_bound["aggregation"])
            rows.append(
                {
                    **group,
                    "kind": "aggregation",
                    "claim": f"{paper_best} best with the {bound} bound",
                    "ours": our_best,
                    "reproduced": ("yes" if our_best == paper_best else "no") if ran else "not run",
                }
            )
    return pd.DataFrame(rows, columns=[*GROUP, "kind", "claim", "ours", "reproduced"])


def build(profile: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(cells, claims) for every reproduced table of ``profile``."""
    cells, claim_rows = [], []
    for name, ours in reproduced_tables(profile).items():
        paper = paper_table(name)
        cells.append(score_cells(ours, paper).assign(file=name))
        claim_rows.append(claims(ours, paper).assign(file=name))
    if not cells:
        raise FileNotFoundError(
            f"no reproduced tables in {output_dir('tables', profile)}; run the notebooks first "
            f"(make quick, or make <section> PROFILE={profile})"
        )
    return pd.concat(cells, ignore_index=True), pd.concat(claim_rows, ignore_index=True)


def summary(cells: pd.DataFrame, claim_table: pd.DataFrame) -> pd.DataFrame:
    """Per table: cells reproduced, with a paper value, within tolerance; claims held."""
    scored = cells.dropna(subset=["paper_mean"])
    per_table = scored.groupby("file", sort=True).agg(
        cells=("mean", "size"), within_tolerance=("within_tolerance", "sum")
    )
    per_table["within_tolerance"] = per_table["within_tolerance"].astype(int)
    tested = claim_table[claim_table["reproduced"] != "not run"]
    held = tested.groupby("file")["reproduced"].agg(
        claims_tested="size", claims_held=lambda r: int((r == "yes").sum())
    )
    per_table = per_table.join(held).fillna(0).astype(int)
    per_table.loc["all"] = per_table.sum()
    return per_table.reset_index()


def render(profile: str, cells: pd.DataFrame, claim_table: pd.DataFrame) -> str:
    """The Markdown scorecard: summary, then every claim."""
    dataset = ", ".join(sorted(cells["dataset"].dropna().unique()))
    table = summary(cells, claim_table)
    text = [
        f"Scorecard, profile `{profile}` (data: {dataset}). Within tolerance: |z| <= "
        f"{Z_TOLERANCE:g} paper stds, or |relative difference| <= {RELATIVE_TOLERANCE:g} where "
        "the paper prints no std. Claims: the paper's bound/aggregation comparisons, derived "
        "from its numbers, tested on the schemes we ran (`mmvae_nb/scorecard.py`). Every cell: "
        f"`tables/{profile}/scorecard.csv`.\n",
        table.to_markdown(index=False),
    ]
    return "\n".join(text) + "\n"


def render_claims(claim_table: pd.DataFrame) -> str:
    columns = ["file", "block", "prior", "beta", "metric", "target", "claim", "ours", "reproduced"]
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
        cells[columns].to_csv(index=False, float_format="%.6g"), folder / "scorecard.csv"
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
