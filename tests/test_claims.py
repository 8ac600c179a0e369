"""Claims as data: comparisons follow the numbers in the paper's direction, report our spread,
and say "not measured" when a cell they rest on was not reproduced."""

import numpy as np
import pandas as pd
import pytest

from mmvae_nb.reporting.tables import KEY_COLUMNS
from mmvae_nb.sections.claims import (
    HELD,
    NOT_HELD,
    NOT_MEASURED,
    BestOf,
    Better,
    Claim,
    aggregations,
    evaluate_claims,
)


def _table(rows, metric="llh"):
    frame = pd.DataFrame(rows, columns=["bound", "aggregation", "mean", "std"])
    return frame.assign(
        table=1, block="main", beta=1.0, prior="standard", metric=metric, target="", inputs=""
    )[KEY_COLUMNS + ["mean", "std"]]


OURS, MIXTURE = {"bound": "ours"}, {"bound": "mixture"}


def test_better_holds_in_the_stated_direction_with_difference_and_spread():
    table = _table([("ours", "PoE", -5.0, 0.3), ("mixture", "PoE", -7.0, 0.4)])
    verdict = Better("llh", OURS, MIXTURE)(table)
    assert verdict.status == HELD
    assert verdict.difference == pytest.approx(2.0)
    assert verdict.spread == pytest.approx(0.5)
    assert "0.5" in verdict.evidence
    assert Better("llh", MIXTURE, OURS)(table).status == NOT_HELD


def test_smaller_is_better_for_gaps():
    table = _table([("ours", "PoE", 0.1, 0.0), ("mixture", "PoE", 0.2, 0.0)], metric="bound_gap")
    assert Better("bound_gap", OURS, MIXTURE)(table).status == HELD


def test_a_missing_cell_is_not_measured():
    table = _table([("ours", "PoE", -5.0, 0.3)])
    assert Better("llh", OURS, MIXTURE)(table).status == NOT_MEASURED
    assert BestOf("llh", aggregations("MoE"), aggregations("PoE"))(table).status == NOT_MEASURED
    claim = Claim("x", "5.1", "words", "table01_linear_dense", Better("llh", OURS, MIXTURE))
    assert claim.check({}).status == NOT_MEASURED


def test_best_of_compares_the_best_of_each_group_and_ties_hold():
    table = _table(
        [
            ("ours", "PoE", -5.0, 0.1),
            ("ours", "MoE", -9.0, 0.1),
            ("ours", "SumPooling", -6.0, 0.1),
            ("ours", "SelfAttention", -5.0, 0.1),
        ]
    )
    learnable, fixed = aggregations("SumPooling", "SelfAttention"), aggregations("PoE", "MoE")
    verdict = BestOf("llh", learnable, fixed, OURS)(table)
    assert verdict.status == HELD and verdict.difference == 0  # "at least as good"
    assert "best SelfAttention" in verdict.evidence and "best PoE" in verdict.evidence
    worse = table.assign(
        mean=np.where(table["aggregation"] == "SelfAttention", -7.0, table["mean"])
    )
    assert BestOf("llh", learnable, fixed, OURS)(worse).status == NOT_HELD


def test_cross_only_drops_cells_whose_inputs_contain_the_target():
    rows = []
    for bound, self_value, cross_value in (("ours", 0.9, 0.2), ("mixture", 0.1, 0.4)):
        rows.append((bound, "M", "M", self_value))
        rows.append((bound, "M", "S", cross_value))
    table = pd.DataFrame(rows, columns=["bound", "target", "inputs", "mean"]).assign(
        metric="coherence", std=np.nan
    )
    assert Better("coherence", MIXTURE, OURS, cross_only=True)(table).status == HELD
    assert Better("coherence", OURS, MIXTURE)(table).status == HELD  # with the self cell


def test_evaluate_claims_returns_one_row_per_claim():
    table = _table([("ours", "PoE", -5.0, 0.3), ("mixture", "PoE", -7.0, 0.4)])
    claims = [
        Claim("a", "5.1", "our bound is better", "t1", Better("llh", OURS, MIXTURE)),
        Claim("b", "5.1", "about a table we lack", "t2", Better("llh", OURS, MIXTURE)),
    ]
    frame = evaluate_claims(claims, {"t1": table})
    assert list(frame["status"]) == [HELD, NOT_MEASURED]
    assert list(frame.columns[:5]) == ["id", "section", "table", "claim", "status"]
