"""The reproduction scorecard: every reproduced cell next to the paper's, and the paper's
qualitative claims checked against our numbers.

    python -m mmvae_nb.reporting.scorecard --profile quick [--readme README.md]
        [--results docs/results.md]

reads every ``tables/<profile>/tableNN_*.csv`` written by the notebooks, joins it to the
vendored paper table on the key columns (``reporting.join_paper``) and writes
``tables/<profile>/scorecard.csv`` (one row per cell) and ``scorecard.md`` (summary per table,
then the claims). With ``--results`` the summary also replaces the block between the
``<!-- scorecard:start -->`` / ``<!-- scorecard:end -->`` markers of that file (docs/results.md),
and with ``--readme`` the headline (a generated verdict and the claims per section) replaces
that block of the README.

**Cells.** ``z`` is (ours - paper) / paper std where the paper prints a positive std; otherwise
``relative`` is (ours - paper) / |paper| (coherence tables print no std). A cell is *within
tolerance* when |z| <= 2 or, without a std, |relative| <= 0.1. These thresholds are our
convention, not the paper's.

**Claims.** The paper's qualitative statements about its results are records in the
experiments' registries (``experiments/<name>/claims.py``, ``experiments.conclusion.CLAIMS``),
gathered in the paper's order by ``experiments.registry.paper_claims``; see
``experiments.claims``. Each is
checked three times by the same checks: on the paper's own printed tables with the paper's stds
(supported / within its noise / contradicted by its own tables), on this profile's tables, and
on the paper profile's where it has run (held / consistent / not held against our spread over
repetitions; no spread for single runs). A reproduction *agrees* on a claim when its verdict is
the one the paper's numbers give. The scorecard derives no claims of its own.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from mmvae_nb.experiments import sanity
from mmvae_nb.experiments.checks import NOT_MEASURED, PAPER_WORDS, STATUSES
from mmvae_nb.experiments.claims import agreement, evaluate
from mmvae_nb.experiments.linear.claims import TRAINING_TIME
from mmvae_nb.experiments.registry import paper_claims
from mmvae_nb.reference import TABLE_FILE, paper_table, read_table
from mmvae_nb.reporting.tables import (
    DIVERGED_SUFFIX,
    FLOAT_FORMAT,
    KEY_COLUMNS,
    join_paper,
    output_dir,
)
from mmvae_nb.storage import atomic_write_text, project_root

Z_TOLERANCE = 2.0
RELATIVE_TOLERANCE = 0.1
MARKERS = ("<!-- scorecard:start -->", "<!-- scorecard:end -->")
# timings: committed by `make record-timings` from build/<profile>/ (reporting.tables.timings_path)
TIMINGS = (TRAINING_TIME,)
TIMINGS_DIR = Path("benchmarks", "results")  # under the project root
PAPER_PROFILE, NOT_RUN = "paper", "not run"


def reproduced_tables(profile: str) -> dict[str, pd.DataFrame]:
    """The paper tables reproduced under ``tables/<profile>``, by file stem."""
    folder = output_dir("tables", profile)
    return {
        path.stem: read_table(path)
        for path in sorted(folder.glob("*table*.csv"))
        if TABLE_FILE.fullmatch(path.name)
    }


def claim_sources(profile: str) -> dict[str, pd.DataFrame]:
    """Everything the claims read: the reproduced tables, the numbers behind the figures
    (``figures/<profile>/*.csv``) and the recorded timings the registries name
    (``TIMINGS_DIR/<name>_<profile>.csv``)."""
    sources = reproduced_tables(profile)
    for path in sorted(output_dir("figures", profile).glob("*.csv")):
        sources[path.stem] = read_table(path)
    for name in TIMINGS:
        path = project_root() / TIMINGS_DIR / f"{name}_{profile}.csv"
        if path.exists():
            sources[name] = read_table(path)
    return sources


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


def build(profile: str) -> tuple[pd.DataFrame, ...]:
    """(cells, claims, checks, sanity checks) for every reproduced table and figure of
    ``profile``; the claims also carry the paper profile's verdicts (``PAPER_PROFILE``) when
    ``profile`` is another one."""
    tables = reproduced_tables(profile)
    if not tables:
        raise FileNotFoundError(
            f"no reproduced tables in {output_dir('tables', profile)}; run the notebooks first "
            f"(make quick, or make <section> PROFILE={profile})"
        )
    cells = [
        score_cells(ours, paper_table(name)).assign(file=name) for name, ours in tables.items()
    ]
    sources = claim_sources(profile)
    claim_table, check_table = evaluate(paper_claims(), sources)
    if profile != PAPER_PROFILE:
        paper_run = claim_sources(PAPER_PROFILE)  # our verdicts only: the paper's are above
        claim_table[PAPER_PROFILE] = [
            claim.check(paper_run)[0].status if paper_run else NOT_RUN for claim in paper_claims()
        ]
    sanity_table = sanity.sanity_checks(sources)
    return pd.concat(cells, ignore_index=True), claim_table, check_table, sanity_table


def _counts(statuses: pd.Series, order) -> str:
    counts = statuses.value_counts()
    return " · ".join(f"{counts[s]} {s}" for s in order if s in counts)


def claim_summary(claim_table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """Per section of the paper (in the registries' order) and in total: how many claims,
    the verdicts on the paper's numbers, on ``profile`` (and on the paper profile), and on how
    many ``profile`` agrees with the paper's numbers (of those both decide)."""
    columns = {"paper_status": ("the paper's numbers", tuple(PAPER_WORDS.values()))}
    columns["status"] = (profile, STATUSES)
    if PAPER_PROFILE in claim_table:
        columns[PAPER_PROFILE] = (f"{PAPER_PROFILE} profile", (*STATUSES, NOT_RUN))
    groups = [*claim_table.groupby("section", sort=False), ("all", claim_table)]
    rows = []
    for section, group in groups:
        row = {"section": section, "claims": len(group)}
        row |= {name: _counts(group[column], order) for column, (name, order) in columns.items()}
        decided = agreement(group).dropna()
        row["agrees"] = f"{int(decided.sum())}/{len(decided)}"
        rows.append(row)
    return pd.DataFrame(rows)


def claim_verdicts(claim_table: pd.DataFrame, profile: str) -> pd.DataFrame:
    """One row per claim: its id and place, the verdict on the paper's numbers, ours (with
    our difference and spread) and the paper profile's."""
    table = pd.DataFrame(
        {
            "claim": claim_table["id"],
            "section": claim_table["section"],
            "the paper's numbers": claim_table["paper_status"],
            profile: claim_table["status"],
            "difference (spread)": [
                "" if np.isnan(d) else f"{d:+.3g} ({'-' if np.isnan(s) else f'{s:.2g}'})"
                for d, s in zip(claim_table["difference"], claim_table["spread"])
            ],
        }
    )
    if PAPER_PROFILE in claim_table:
        table[f"{PAPER_PROFILE} profile"] = claim_table[PAPER_PROFILE]
    return table


def cell_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """Per reproduced table: cells with a paper value, and how many are within tolerance."""
    scored = cells.dropna(subset=["paper_mean"])
    per_table = scored.groupby("file", sort=True).agg(
        cells=("mean", "size"), within_tolerance=("within_tolerance", "sum")
    )
    per_table["within_tolerance"] = per_table["within_tolerance"].astype(int)
    per_table.loc["all"] = per_table.sum()
    return per_table.reset_index()


def divergences(profile: str) -> pd.DataFrame:
    """Every replica the sections recorded as diverged (``tables.publish_divergences``), with
    its section; empty when none did."""
    frames = [
        pd.read_csv(path).assign(section=path.stem.removesuffix(DIVERGED_SUFFIX))
        for path in sorted(output_dir("tables", profile).glob(f"*{DIVERGED_SUFFIX}.csv"))
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def verdict(profile: str, cells, claim_table) -> str:
    """One generated sentence: how ``profile`` judges the paper's claims, on how many it agrees
    with the paper's own numbers, and how many cells are within tolerance."""
    decided = agreement(claim_table).dropna()
    scored = cell_summary(cells).set_index("file").loc["all"]
    return (
        f"Of the paper's {len(claim_table)} claims, the `{profile}` profile finds "
        f"{_counts(claim_table['status'], STATUSES)}; on the {len(decided)} that both it and the "
        f"paper's own numbers decide, it agrees on {int(decided.sum())}. "
        f"{scored['within_tolerance']} of {scored['cells']} table cells are within the paper's "
        "tolerance."
    )


def render_headline(profile: str, cells, claim_table) -> str:
    """The README's results at a glance: the verdict and the claims per section."""
    return "\n".join(
        [
            verdict(profile, cells, claim_table) + "\n",
            claim_summary(claim_table, profile).to_markdown(index=False),
            f"\nEvery cell, claim and sanity check: [docs/results.md](docs/results.md), "
            f"`tables/{profile}/scorecard.md`.\n",
        ]
    )


def render(profile: str, cells, claim_table, sanity_table) -> str:
    """The Markdown scorecard summary: the claims per section, the cells per table, the
    sanity checks."""
    dataset = ", ".join(sorted(cells["dataset"].dropna().unique()))
    text = [
        f"Scorecard, profile `{profile}` (data: {dataset}).\n",
        "**The paper's claims**: every statement the paper makes about its results, one record "
        "each in the registries (`mmvae_nb/experiments/*/claims.py`, `CLAIMS`) with the paper's "
        "words, checked by the same checks on the paper's own printed numbers (supported / "
        "within its noise / contradicted by its own tables) and on ours (held: the paper's "
        "direction beyond our spread; consistent: within it; not held: the other direction "
        "beyond it; no spread: a single run). *agrees*: claims where our verdict is the one the "
        "paper's numbers give, of those both decide. Each claim with its checks: "
        f"`tables/{profile}/scorecard.md`.\n",
        claim_summary(claim_table, profile).to_markdown(index=False),
        f"\n**Cells**: within tolerance when |z| <= {Z_TOLERANCE:g} paper stds, or |relative "
        f"difference| <= {RELATIVE_TOLERANCE:g} where the paper prints no std; every cell: "
        f"`tables/{profile}/scorecard.csv`.\n",
        cell_summary(cells).to_markdown(index=False),
        "\n**Sanity checks** (`mmvae_nb/experiments/sanity.py`; properties that hold whatever the "
        "paper says: a failure is a bug or too little training); every cell: "
        f"`tables/{profile}/sanity_checks.csv`.\n",
        sanity.summary(sanity_table).to_markdown(index=False),
    ]
    diverged = divergences(profile)
    if not diverged.empty:
        text += [
            f"\n**Diverged replicas** ({len(diverged)}; not evaluated: each table cell averages "
            f"the other replicas, and `n_runs` counts them): `tables/{profile}/*"
            f"{DIVERGED_SUFFIX}.csv`.\n",
            diverged.to_markdown(index=False),
        ]
    return "\n".join(text) + "\n"


def render_claims(claim_table: pd.DataFrame, check_table: pd.DataFrame, profile: str) -> str:
    """Every claim's verdicts in one table, then each claim: its place, the paper's words, and
    each of its checks on our numbers and on the paper's."""
    text = ["\n## Claims\n", claim_verdicts(claim_table, profile).to_markdown(index=False), ""]
    for claim in claim_table.itertuples(index=False):
        text.append(
            f"### `{claim.id}` ({claim.section}): **{claim.status}**; the paper's numbers: "
            f"**{claim.paper_status}** (rule: {claim.rule}; {claim.checks})\n"
        )
        text.append(f"> {claim.claim}\n")
        checks = check_table[check_table["id"] == claim.id]
        text.extend(
            f"- {c.status}: {c.evidence} [{c.source}]; the paper's numbers: {c.paper_status}"
            f"{'' if c.paper_status == PAPER_WORDS[NOT_MEASURED] else ': ' + c.paper_evidence}"
            for c in checks.itertuples()
        )
        text.append("")
    return "\n".join(text) + "\n"


def replace_block(document: Path, block: str) -> None:
    """Replace the text between the scorecard markers of ``document`` with ``block``."""
    text = document.read_text()
    start, end = (text.find(marker) for marker in MARKERS)
    if start < 0 or end < start:
        raise ValueError(f"{document} has no {MARKERS[0]} ... {MARKERS[1]} block")
    new = text[: start + len(MARKERS[0])] + "\n" + block + text[end:]
    atomic_write_text(new, document)


def write(profile: str, readme: Path | None = None, results: Path | None = None) -> Path:
    """Write tables/<profile>/scorecard.csv (cells), scorecard_claims.csv, sanity_checks.csv,
    scorecard.md (and the blocks of ``results`` and ``readme``); returns the .md."""
    cells, claim_table, check_table, sanity_table = build(profile)
    folder = output_dir("tables", profile)
    columns = [*KEY_COLUMNS, "file", "mean", "std", "paper_mean", "paper_std", "z", "relative"]
    columns.append("within_tolerance")
    atomic_write_text(
        cells[columns].to_csv(index=False, float_format=FLOAT_FORMAT), folder / "scorecard.csv"
    )
    atomic_write_text(
        claim_table.to_csv(index=False, float_format=FLOAT_FORMAT),
        folder / "scorecard_claims.csv",
    )
    atomic_write_text(sanity_table.to_csv(index=False), folder / "sanity_checks.csv")
    block = render(profile, cells, claim_table, sanity_table)
    claims_text = render_claims(claim_table, check_table, profile)
    atomic_write_text(block + claims_text, folder / "scorecard.md")
    if results is not None:
        replace_block(results, block)
    if readme is not None:
        replace_block(readme, render_headline(profile, cells, claim_table))
    return folder / "scorecard.md"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="quick")
    parser.add_argument("--readme", type=Path, help="also write the headline into this README")
    parser.add_argument("--results", type=Path, help="also write the summary into this page")
    args = parser.parse_args(argv)
    print(write(args.profile, args.readme, args.results))


if __name__ == "__main__":
    main()
