"""The relational section's wiring: profiles, grid, launcher jobs, vendored seed tables, claims."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mmvae_nb.experiments.checks import CONSISTENT, HELD, NO_SPREAD, NOT_HELD, NOT_MEASURED, Reaches
from mmvae_nb.experiments.configs import PROFILES
from mmvae_nb.experiments.relational import claims as relational_claims
from mmvae_nb.experiments.relational import experiment as relational
from mmvae_nb.experiments.relational.config import RELATIONAL
from mmvae_nb.experiments.relational.experiment import RelationalExperiment
from mmvae_nb.launch import jobs
from mmvae_nb.reference import paper_table

SHARED = Path(__file__).resolve().parents[3] / "shared" / "paper_tables"


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_names_known_rows_and_variants(profile):
    config = RELATIONAL[profile]
    assert set(config.grid.rows) <= set(relational.ROWS)
    assert set(config.grid.variants) <= {"vanilla", "extended"}


def test_unknown_rows_and_variants_are_refused_before_training():
    with pytest.raises(ValueError, match="unknown relational rows"):
        relational.RelationalExperiment("smoke", overrides={"rows": ("mrVAE", "Bogus")})
    with pytest.raises(ValueError, match="unknown PolyMNIST variant"):
        relational.RelationalExperiment("smoke", "poly")
    with pytest.raises(ValueError, match="unknown subspace size prior"):
        relational.RelationalExperiment("smoke", overrides={"size_prior": "flat"})


def test_the_launcher_enumerates_every_variant_and_row():
    found = jobs(["relational"], "smoke")
    config = RELATIONAL["smoke"]
    assert len(found) == len(config.grid.variants) * len(config.grid.rows)
    assert {j.setting for j in found} == set(config.grid.variants)
    assert len({j.id for j in found}) == len(found)


@pytest.mark.skipif(not SHARED.exists(), reason="../shared/paper_tables is not beside the repo")
@pytest.mark.parametrize(
    "name", ["relational_table01_polymnist_coherence", "relational_table02_polymnist_fid"]
)
def test_vendored_seed_tables_are_the_transcribed_ones(name):
    seed = pd.read_csv(SHARED / f"{name}.csv", dtype=str)
    ours = paper_table(name)
    assert len(ours) == len(seed)
    assert list(ours["block"]) == list(seed["dataset"])
    assert list(ours["aggregation"]) == list(seed["model"])
    assert list(ours["inputs"]) == list(seed["inputs"])
    assert list(ours["mean"]) == [float(v) for v in seed["mean"]]


def _cells(mr_vanilla, mo_vanilla, mr_extended, mo_extended, std=0.002):
    """Table 1 with one value per model and variant for every input set (``std`` over runs)."""
    rows = []
    for block, values in (
        ("vanilla", (mr_vanilla, mo_vanilla)),
        ("extended", (mr_extended, mo_extended)),
    ):
        for (aggregation, bound), value in zip(
            (("mrVAE", "relational"), ("MoPoE", "mopoe")), values
        ):
            for inputs in ("x_0", "x_0+x_1", "x_0+x_1+x_2"):
                rows.append(
                    dict(
                        table=1,
                        block=block,
                        bound=bound,
                        aggregation=aggregation,
                        beta=1.0,
                        prior="standard",
                        metric="coherence",
                        target="x_0",
                        inputs=inputs,
                        mean=value,
                        std=std,
                        n_runs=3,
                    )
                )
    return {relational_claims.COHERENCE: pd.DataFrame(rows)}


def test_coherence_claims_follow_the_numbers():
    by_id = {c.id: c for c in relational_claims.CLAIMS}
    paper_like = _cells(0.50, 0.47, 0.40, 0.31)
    assert by_id["relational-vanilla-coherence"].check(paper_like)[0].status == HELD
    assert by_id["relational-extended-mopoe-drops"].check(paper_like)[0].status == HELD
    reversed_ = _cells(0.30, 0.47, 0.20, 0.40)
    assert by_id["relational-vanilla-coherence"].check(reversed_)[0].status == NOT_HELD
    assert by_id["relational-extended-mopoe-drops"].check(reversed_)[0].status == NOT_HELD
    assert by_id["relational-mrvae-quality"].check(paper_like)[0].status == NOT_MEASURED
    single_runs = _cells(0.50, 0.47, 0.40, 0.31, std=np.nan)
    assert by_id["relational-vanilla-coherence"].check(single_runs)[0].status == NO_SPREAD


def test_reaches_allows_a_small_shortfall_only():
    sources = _cells(0.46, 0.47, 0.40, 0.31)
    where = {"block": "vanilla", "inputs": "x_0"}
    mrvae, mopoe = relational_claims.MRVAE, relational_claims.MOPOE
    close = Reaches(relational_claims.COHERENCE, "coherence", mrvae, mopoe, where)
    assert close(sources).status == HELD  # 0.01 short, within the 0.02 tolerance
    strict = Reaches(relational_claims.COHERENCE, "coherence", mrvae, mopoe, where, tolerance=0.005)
    assert strict(sources).status == NOT_HELD
    assert strict(_cells(0.46, 0.47, 0.40, 0.31, std=0.05)).status == CONSISTENT
    assert strict(_cells(0.46, 0.47, 0.40, 0.31, std=np.nan)).status == NO_SPREAD


def test_both_variants_measure_fid_in_one_feature_space(tmp_path, monkeypatch):
    """Table 2a and 2b are compared (vanilla vs extended): both take their Fréchet distances in
    the features of the same network, the vanilla classifier of x_0."""
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path))
    vanilla = RelationalExperiment("smoke", "vanilla", progress=False)
    extended = RelationalExperiment("smoke", "extended", progress=False)
    a, b = vanilla.feature_network.model, extended.feature_network.model
    np.testing.assert_array_equal(a.hidden.kernel[...], b.hidden.kernel[...])
    assert extended.feature_network.model.heads == 1
    assert extended.classifiers[0].model.heads == 3
