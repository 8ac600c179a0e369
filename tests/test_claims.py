"""Claims as data: checks follow the numbers in the paper's direction, report our spread, say
"not measured" when a cell they rest on was not reproduced, and combine by the paper's
quantifier (all / most)."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmvae_nb.reporting.tables import KEY_COLUMNS
from mmvae_nb.sections import (
    conclusion_claims,
    identifiable_claims,
    linear_claims,
    mnist_svhn_text_claims,
)
from mmvae_nb.sections.claims import (
    ALL,
    HELD,
    MOST,
    NOT_HELD,
    NOT_MEASURED,
    BestOf,
    Better,
    Claim,
    NoUniformWinner,
    SmallerRange,
    aggregations,
    evaluate_checks,
    evaluate_claims,
)

REGISTRIES = [linear_claims, identifiable_claims, mnist_svhn_text_claims, conclusion_claims]


def _table(rows, metric="llh"):
    frame = pd.DataFrame(rows, columns=["bound", "aggregation", "mean", "std"])
    return frame.assign(
        table=1, block="main", beta=1.0, prior="standard", metric=metric, target="", inputs=""
    )[KEY_COLUMNS + ["mean", "std"]]


OURS, MIXTURE = {"bound": "ours"}, {"bound": "mixture"}
T = "t1"


def test_better_holds_in_the_stated_direction_with_difference_and_spread():
    sources = {T: _table([("ours", "PoE", -5.0, 0.3), ("mixture", "PoE", -7.0, 0.4)])}
    verdict = Better(T, "llh", OURS, MIXTURE)(sources)
    assert verdict.status == HELD
    assert verdict.difference == pytest.approx(2.0)
    assert verdict.spread == pytest.approx(0.5)
    assert "0.5" in verdict.evidence
    assert Better(T, "llh", MIXTURE, OURS)(sources).status == NOT_HELD


def test_smaller_is_better_for_gaps():
    table = _table([("ours", "PoE", 0.1, 0.0), ("mixture", "PoE", 0.2, 0.0)], metric="bound_gap")
    assert Better(T, "bound_gap", OURS, MIXTURE)({T: table}).status == HELD


def test_a_missing_cell_or_source_is_not_measured():
    sources = {T: _table([("ours", "PoE", -5.0, 0.3)])}
    assert Better(T, "llh", OURS, MIXTURE)(sources).status == NOT_MEASURED
    assert Better("t2", "llh", OURS, MIXTURE)(sources).status == NOT_MEASURED
    best = BestOf(T, "llh", aggregations("MoE"), aggregations("PoE"))
    assert best(sources).status == NOT_MEASURED


def test_best_of_compares_the_best_of_each_group_and_a_tie_is_not_held():
    table = _table(
        [
            ("ours", "PoE", -5.0, 0.1),
            ("ours", "MoE", -9.0, 0.1),
            ("ours", "SumPooling", -6.0, 0.1),
            ("ours", "SelfAttention", -5.0, 0.1),
        ]
    )
    learnable, fixed = aggregations("SumPooling", "SelfAttention"), aggregations("PoE", "MoE")
    verdict = BestOf(T, "llh", learnable, fixed, OURS)({T: table})
    assert verdict.status == NOT_HELD and verdict.difference == 0  # "improves": not a tie
    assert "best SelfAttention" in verdict.evidence and "best PoE" in verdict.evidence
    better = table.assign(
        mean=np.where(table["aggregation"] == "SelfAttention", -4.0, table["mean"])
    )
    assert BestOf(T, "llh", learnable, fixed, OURS)({T: better}).status == HELD
    worse = table.assign(
        mean=np.where(table["aggregation"] == "SelfAttention", -7.0, table["mean"])
    )
    assert BestOf(T, "llh", learnable, fixed, OURS)({T: worse}).status == NOT_HELD


def _coherence(rows):
    frame = pd.DataFrame(rows, columns=["bound", "aggregation", "target", "inputs", "mean"])
    return frame.assign(metric="coherence", std=np.nan, beta=1.0)


def test_cross_only_drops_cells_whose_inputs_contain_the_target():
    rows = []
    for bound, self_value, cross_value in (("ours", 0.9, 0.2), ("mixture", 0.1, 0.4)):
        rows.append((bound, "PoE", "M", "M", self_value))
        rows.append((bound, "PoE", "M", "S", cross_value))
    sources = {T: _coherence(rows)}
    assert Better(T, "coherence", MIXTURE, OURS, cross_only=True)(sources).status == HELD
    assert Better(T, "coherence", OURS, MIXTURE)(sources).status == HELD  # with the self cell


def test_no_uniform_winner():
    one_winner = [("ours", "PoE", t, "S" if t != "S" else "M", v) for t, v in (("M", 0.9),)]
    one_winner += [("mixture", "PoE", "M", "S", 0.5), ("ours", "PoE", "T", "S", 0.8)]
    one_winner += [("mixture", "PoE", "T", "S", 0.2)]
    check = NoUniformWinner(T, "coherence", "target", ("bound", "aggregation"), {}, True)
    assert check({T: _coherence(one_winner)}).status == NOT_HELD  # ours best for M and T
    split = [r if r[2] != "T" else (r[0], r[1], r[2], r[3], 1 - r[4]) for r in one_winner]
    assert check({T: _coherence(split)}).status == HELD


def test_smaller_range_and_derived_bound_slack():
    wide = _table([("ours", "PoE", 0.0, 0.0), ("mixture", "PoE", 0.5, 0.0)], "llh_gap")
    narrow = _table([("ours", "PoE", 0.1, 0.0), ("mixture", "PoE", 0.2, 0.0)], "llh_gap")
    sources = {"narrow": narrow, "wide": wide}
    assert SmallerRange("narrow", "wide", "llh_gap")(sources).status == HELD
    assert SmallerRange("wide", "narrow", "llh_gap")(sources).status == NOT_HELD
    # bound slack = llh - lower bound per cell: ours -10 - (-11) = 1 < mixture -12 - (-15) = 3
    table = pd.concat(
        [
            _table([("ours", "PoE", -10.0, 0.3), ("mixture", "PoE", -12.0, 0.4)], "llh"),
            _table([("ours", "PoE", -11.0, 0.4), ("mixture", "PoE", -15.0, 0.3)], "lower_bound"),
        ]
    )
    verdict = Better(T, "bound_slack", OURS, MIXTURE)({T: table})
    assert verdict.status == HELD and verdict.difference == pytest.approx(2.0)
    assert verdict.spread == pytest.approx(np.hypot(0.5, 0.5))


def _claim(rule, *checks):
    return Claim("x", "5.1", "words", checks, rule)


def test_all_and_most_combine_the_checks():
    sources = {T: _table([("ours", "PoE", -5.0, 0.3), ("mixture", "PoE", -7.0, 0.4)])}
    holds, fails = Better(T, "llh", OURS, MIXTURE), Better(T, "llh", MIXTURE, OURS)
    missing = Better("t2", "llh", OURS, MIXTURE)
    assert _claim(ALL, holds, holds).check(sources)[0].status == HELD
    assert _claim(ALL, holds, fails).check(sources)[0].status == NOT_HELD
    assert _claim(ALL, holds, missing).check(sources)[0].status == NOT_MEASURED
    assert _claim(ALL, fails, missing).check(sources)[0].status == NOT_HELD
    assert _claim(MOST, holds, holds, fails).check(sources)[0].status == HELD
    assert _claim(MOST, holds, fails).check(sources)[0].status == NOT_HELD  # a half is not most
    assert _claim(MOST, missing).check(sources)[0].status == NOT_MEASURED
    # the binding check of ALL is the weakest one
    verdict, _ = _claim(ALL, holds, fails).check(sources)
    assert verdict.difference == pytest.approx(-2.0)
    with pytest.raises(ValueError, match="rule"):
        _claim("some", holds)
    with pytest.raises(ValueError, match="no check"):
        _claim(ALL)


def test_evaluate_claims_and_checks_return_one_row_each():
    sources = {T: _table([("ours", "PoE", -5.0, 0.3), ("mixture", "PoE", -7.0, 0.4)])}
    claims = [
        Claim("a", "5.1", "our bound is better", (Better(T, "llh", OURS, MIXTURE),)),
        Claim("b", "5.1", "about a table we lack", (Better("t2", "llh", OURS, MIXTURE),)),
    ]
    frame = evaluate_claims(claims, sources)
    assert list(frame["status"]) == [HELD, NOT_MEASURED]
    assert list(frame["sources"]) == [T, "t2"]
    assert list(frame["checks_held"]) == ["1/1", "0/1"]
    checks = evaluate_checks(claims, sources)
    assert list(checks["id"]) == ["a", "b"] and list(checks["status"]) == [HELD, NOT_MEASURED]


def test_registries_have_unique_ids_and_quote_the_paper():
    claims = [c for registry in REGISTRIES for c in registry.CLAIMS]
    assert len(claims) > 30
    assert len({c.id for c in claims}) == len(claims)
    assert all(c.words.count('"') >= 2 for c in claims)


PAPER = Path(__file__).parents[2] / "shared" / "paper" / "permutation_invariant_mmvae_paper.txt"


@pytest.mark.skipif(not PAPER.exists(), reason="the paper's text is not beside this clone")
def test_every_quotation_is_in_the_paper():
    """Each claim's first quotation, without our [bracketed] insertions, is the paper's text
    (compared without whitespace and hyphens: the text file breaks lines and hyphenates)."""
    paper = re.sub(r"[\s-]+", "", PAPER.read_text())
    for registry in REGISTRIES:
        for claim in registry.CLAIMS:
            quoted = claim.words.split('"')[1]
            for piece in re.split(r"\[[^\]]*\]|\.\.\.", quoted):
                piece = re.sub(r"[\s-]+", "", piece)
                assert piece in paper, (claim.id, piece)
