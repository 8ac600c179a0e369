"""The scorecard: z-scores and relative differences against the paper, tolerance, the claims
of the sections' registries, and the README block."""

import numpy as np
import pandas as pd
import pytest

from mmvae_nb.reporting import scorecard
from mmvae_nb.reporting.tables import KEY_COLUMNS


def _table(rows, metric="llh"):
    """Cells (bound, aggregation, mean, std) of a one-metric table."""
    frame = pd.DataFrame(rows, columns=["bound", "aggregation", "mean", "std"])
    return frame.assign(
        table=1, block="main", beta=1.0, prior="standard", metric=metric, target="", inputs=""
    )[KEY_COLUMNS + ["mean", "std"]].assign(profile="quick", dataset="synthetic")


PAPER = _table(
    [
        ("ours", "PoE", 10.0, 2.0),
        ("ours", "SumPooling", 12.0, 2.0),
        ("mixture", "PoE", 8.0, 2.0),
        ("mixture", "SumPooling", 9.0, 0.0),
    ]
).drop(columns=["profile", "dataset"])


def test_cells_are_scored_in_paper_stds_or_relative_where_the_std_is_zero():
    ours = _table(
        [
            ("ours", "PoE", 13.0, 0.1),  # z = 1.5: within
            ("ours", "SumPooling", 2.0, 0.1),  # z = -5: outside
            ("mixture", "SumPooling", 9.5, 0.1),  # std 0: relative 0.056, within
        ]
    )
    cells = scorecard.score_cells(ours, PAPER).set_index(["bound", "aggregation"])
    assert cells.loc[("ours", "PoE"), "z"] == pytest.approx(1.5)
    assert cells.loc[("ours", "SumPooling"), "z"] == pytest.approx(-5.0)
    assert np.isnan(cells.loc[("mixture", "SumPooling"), "z"])
    assert cells.loc[("mixture", "SumPooling"), "relative"] == pytest.approx(0.5 / 9)
    assert list(cells["within_tolerance"]) == [True, False, True]


def test_a_cell_the_paper_does_not_print_has_no_verdict():
    ours = _table([("ours", "MoE", 1.0, 0.1)])
    cells = scorecard.score_cells(ours, PAPER)
    assert cells["within_tolerance"].isna().all()


def test_the_scorecard_reads_the_sections_claim_registries():
    from mmvae_nb.experiments import conclusion as conclusion_claims
    from mmvae_nb.experiments.identifiable import claims as identifiable_claims
    from mmvae_nb.experiments.linear import claims as linear_claims
    from mmvae_nb.experiments.mnist_svhn_text import claims as mnist_svhn_text_claims
    from mmvae_nb.experiments.relational import claims as relational_claims

    claims = scorecard.paper_claims()
    assert claims == [
        *linear_claims.CLAIMS,
        *identifiable_claims.CLAIMS,
        *mnist_svhn_text_claims.CLAIMS,
        *conclusion_claims.CLAIMS,
        *relational_claims.CLAIMS,
    ]
    assert len({c.id for c in claims}) == len(claims)  # ids are unique


def test_scorecard_files_and_readme_block(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_ROOT", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="no reproduced tables"):
        scorecard.write("quick")
    monkeypatch.setattr(scorecard, "paper_table", lambda name: PAPER)
    folder = tmp_path / "tables" / "quick"
    _table([("ours", "PoE", 13.0, 0.1)]).to_csv(folder / "table01_linear_dense.csv", index=False)
    (folder / "mst_claims.csv").write_text("not,a,paper,table\n")  # ignored
    readme, results = tmp_path / "README.md", tmp_path / "results.md"
    for document in (readme, results):
        document.write_text("intro\n<!-- scorecard:start -->\nOLD\n<!-- scorecard:end -->\nrest\n")
    scorecard.write("quick", readme, results)
    cells = pd.read_csv(folder / "scorecard.csv")
    assert len(cells) == 1 and cells["z"].iloc[0] == pytest.approx(1.5)
    text, summary = readme.read_text(), results.read_text()
    assert "OLD" not in text + summary and text.endswith("rest\n") and summary.endswith("rest\n")
    # the README's headline: the verdict and the claims per section; the cells in results only
    assert "Of the paper's 50 claims, the `quick` profile finds" in text
    assert "1 of 1 table cells are within" in text  # z = 1.5
    assert "| 5.1 " in text and "| all " in text and "table01_linear_dense" not in text
    assert "| 5.1 " in summary and "| table01_linear_dense" in summary
    # Table 1's claims are evaluated on the one cell we wrote: no mixture cell, not measured
    card = (folder / "scorecard.md").read_text()
    assert "### `5.1-tighter` (5.1): **not measured**" in card
    claims = pd.read_csv(folder / "scorecard_claims.csv").set_index("id")
    assert claims.loc["5.1-tighter", "status"] == "not measured"
    assert claims.loc["5.1-tighter", "checks"] == "8 not measured"
    # and on the paper's own Table 1 (vendored), whatever we reproduced
    assert claims.loc["5.1-tighter", "paper_status"] == "within its noise"
    with pytest.raises(ValueError, match="no <!-- scorecard:start -->"):
        scorecard.replace_block(tmp_path / "tables" / "quick" / "scorecard.md", "x")
