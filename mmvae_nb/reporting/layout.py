"""Render a reproduced table in the paper's layout: rows x column groups, ours above the paper's.

The paper prints each table with one row per scheme (aggregation; with prior or beta where the
table has several) and column groups per bound, then per metric, target or conditioning subset
(``TableSpec.columns``). We print the same grid (split per bound, and cut, where it would be
wider than ``MAX_COLUMNS``) with two lines per row: ``ours`` (mean (std)
over our runs) and ``paper`` (the published cell as printed, from the vendored CSV's text).
Our numbers carry one decimal more than the paper prints for that metric, so that every cell of
a column has the same precision and is finer than the paper's.
"""

from __future__ import annotations

import pandas as pd

from mmvae_nb.experiments.table_specs import CELL_KEYS, TableSpec
from mmvae_nb.objectives.bounds import BOUND_LABELS
from mmvae_nb.reference import open_paper_table

ROW_ORDER = ("block", "prior", "beta", "aggregation")
MAX_COLUMNS = 10  # a wider grid is split per bound (and cut), so that it fits a page
PRIOR_LABELS = {"standard": "N(0, I)", "gmm": "GMM"}
METRIC_LABELS = {
    "llh_gap": "LLH gap",
    "bound_gap": "bound gap",
    "mcc": "MCC",
    "mcc_first_pair_rdc": "MCC (1st pair, RDC)",
    "llh": "LLH",
    "llh_true_model": "LLH of the true model",
    "lower_bound": "lower bound",
    "loglik": "log-likelihood",
    "coherence": "coherence",
    "latent_accuracy": "accuracy",
}


def paper_strings(name: str) -> pd.DataFrame:
    """The vendored paper table ``name`` with every column as printed (strings)."""
    with open_paper_table(name) as f:
        table = pd.read_csv(f, dtype=str, keep_default_na=False)
    return table.assign(beta=table["beta"].astype(float), table=table["table"].astype(int))


def _decimals(printed: str) -> int:
    return len(printed.split(".")[1]) if "." in printed else 0


def _ours(mean: float, std: float, decimals: int, runs: int = 1) -> str:
    if runs == 0:  # every run of the cell diverged (or its metric was not finite)
        return "no finite run"
    if pd.isna(mean):
        return ""
    if pd.isna(std):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ({std:.{decimals}f})"


def _paper(mean: str, std: str) -> str:
    return f"{mean} ({std})" if std else mean


def _column_label(key: tuple, dims: tuple[str, ...]) -> str:
    parts = []
    for dim, value in zip(dims, key):
        if dim == "bound":
            parts.append(BOUND_LABELS.get(value, value))
        elif dim == "beta":
            parts.append(f"β = {value:g}")
        elif dim == "inputs":
            parts.append(f"from {value}")
        elif dim == "metric":
            parts.append(METRIC_LABELS.get(value, value))
        else:
            parts.append(str(value))
    return " · ".join(parts)


def render_paper_layout(ours: pd.DataFrame, name: str, spec: TableSpec) -> str:
    """Markdown of ``ours`` (a reproduced table in the schema) in the paper's grid, with the
    paper's published cells under ours."""
    paper = paper_strings(name)
    keys = [k for k in CELL_KEYS if k in ours.columns]
    joined = ours.merge(
        paper[[*keys, "mean", "std"]].rename(columns={"mean": "paper_mean", "std": "paper_std"}),
        on=keys,
        how="left",
    )
    decimals = {
        metric: 1 + max((_decimals(v) for v in group["mean"]), default=2)
        for metric, group in paper.groupby("metric")
    }
    columns = ("bound", *spec.columns)
    rows = [d for d in ROW_ORDER if d not in columns and ours[d].nunique() > 1]
    if "prior" in rows and "block" in rows:  # the block is the prior's (Tables 2, 7, 8)
        rows.remove("block")
    rows = rows if "aggregation" in rows else [*rows, "aggregation"]
    if joined.groupby(rows)["bound"].nunique().max() == 1 < joined["bound"].nunique():
        # each row has its own bound (the relational tables: mrVAE ELBO, MoPoE objective)
        rows, columns = [*rows, "bound"], tuple(spec.columns)
    joined["ours"] = [
        _ours(m, s, decimals.get(metric, 3), n)
        for m, s, metric, n in zip(
            joined["mean"], joined["std"], joined["metric"], joined["n_runs"]
        )
    ]
    joined["paper"] = [
        "" if pd.isna(m) else _paper(m, s)
        for m, s in zip(joined["paper_mean"], joined["paper_std"])
    ]
    # the paper's order of rows and columns, then any of ours the paper does not print
    column_keys = _ordered(paper, joined, columns)
    row_keys = _ordered(paper, joined, rows)
    cells = {
        (tuple(r[x] for x in rows), tuple(r[c] for c in columns)): (r["ours"], r["paper"])
        for _, r in joined.iterrows()
    }
    width = MAX_COLUMNS - len(rows) - 1
    if len(column_keys) <= width:
        return _grid(rows, row_keys, columns, column_keys, cells)
    # too wide to read: one grid per bound, each holding whole groups of its next column
    # dimension (e.g. a target's columns) up to ``width`` columns
    by_bound = {}
    for key in column_keys:
        by_bound.setdefault(key[0], []).append(key)
    parts = []
    for bound, keys in by_bound.items():
        for chunk in _packed(keys, width):
            parts.append(f"**{BOUND_LABELS.get(bound, bound)}**\n")
            parts.append(_grid(rows, row_keys, columns, chunk, cells, skip=1))
    return "\n".join(parts)


def _packed(keys: list[tuple], width: int) -> list[list[tuple]]:
    """``keys`` cut into chunks of at most ``width``, keeping runs with the same second
    element together where a run fits."""
    runs = []
    for key in keys:
        if runs and runs[-1][-1][1:2] == key[1:2]:
            runs[-1].append(key)
        else:
            runs.append([key])
    chunks = [[]]
    for run in runs:
        while run:
            if len(chunks[-1]) + min(len(run), width) > width:
                chunks.append([])
            room = width - len(chunks[-1])
            chunks[-1] += run[:room]
            run = run[room:]
    return [c for c in chunks if c]


def _grid(rows, row_keys, columns, column_keys, cells, skip: int = 0) -> str:
    """One Markdown grid: a line of ours and one of the paper's per row key; column labels
    leave out the first ``skip`` column dimensions (said above the grid)."""
    header = [*rows, ""]
    header += [_column_label(k[skip:], columns[skip:]) for k in column_keys]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
    for row_key in row_keys:
        for who, index in (("ours", 0), ("paper", 1)):
            labels = [_row_label(d, v) if who == "ours" else "" for d, v in zip(rows, row_key)]
            values = [cells.get((row_key, k), ("", ""))[index] for k in column_keys]
            lines.append("| " + " | ".join([*labels, who, *values]) + " |")
    return "\n".join(lines) + "\n"


def _ordered(paper: pd.DataFrame, ours: pd.DataFrame, dims) -> list[tuple]:
    """The distinct keys of ``ours`` over ``dims``, in the paper's order where it has them."""
    mine = list(dict.fromkeys(zip(*(ours[d] for d in dims))))
    theirs = [k for k in dict.fromkeys(zip(*(paper[d] for d in dims))) if k in set(mine)]
    return theirs + [k for k in mine if k not in set(theirs)]


def _row_label(dim: str, value) -> str:
    if dim == "bound":
        return BOUND_LABELS.get(value, value)
    if dim == "prior":
        return PRIOR_LABELS.get(value, value)
    if dim == "beta":
        return f"β = {value:g}"
    return str(value)


def table_caption(spec: TableSpec, profile: str, dataset: str, runs: pd.Series) -> str:
    """ "Table N — caption", with the profile, the data and the number of runs per cell."""
    counts = sorted({int(n) for n in runs.dropna()}) or [0]
    per_cell = str(counts[0]) if len(counts) == 1 else f"{counts[0]}-{counts[-1]}"
    return (
        f"**Table {spec.table} — {spec.title}.** Profile `{profile}`, data: {dataset}. Ours: mean "
        f"(std) over {per_cell} run(s) per cell; paper: the published value as printed."
    )
