"""Profiles change sizes, never logic: rehearse differs from paper in counts only; quick and
smoke in sizes, the grid and the named stabilisers (``experiments.profile_rules``)."""

import pytest

from mmvae_nb.experiments.profile_rules import (
    ALLOWED,
    COUNTS,
    OFFLINE,
    STABILISERS,
    check_profile,
    profile_differences,
    stabilisers_used,
)
from mmvae_nb.experiments.registry import EXPERIMENTS, PROFILES

SECTIONS = {name: entry.profiles for name, entry in EXPERIMENTS.items()}
LINEAR, RELATIONAL = SECTIONS["linear"], SECTIONS["relational"]


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("section", SECTIONS)
def test_every_profile_changes_only_what_its_class_allows(section, profile):
    check_profile(SECTIONS[section], profile)


@pytest.mark.parametrize("section", SECTIONS)
def test_rehearse_cuts_only_counts_and_keeps_grid_widths_and_seeds(section):
    profiles = SECTIONS[section]
    changed = profile_differences(profiles["rehearse"], profiles["paper"])
    assert changed, "the rehearsal must cut something"
    assert set(changed) <= COUNTS | set(OFFLINE)
    rehearse, paper = profiles["rehearse"], profiles["paper"]
    assert rehearse.grid == paper.grid and rehearse.model == paper.model


def test_a_change_beyond_the_class_is_refused_with_its_name():
    widened = dict(LINEAR, rehearse=LINEAR["rehearse"].replace(hidden_pooling=8))
    with pytest.raises(ValueError, match=r"'rehearse' changes \['hidden_pooling'\]"):
        check_profile(widened, "rehearse")
    annealed = dict(RELATIONAL, rehearse=RELATIONAL["quick"])
    with pytest.raises(ValueError, match="global_selections.*kl_warmup_steps|kl_warmup"):
        check_profile(annealed, "rehearse")
    retuned = dict(LINEAR, quick=LINEAR["quick"].replace(clip_on="batch_mean"))
    with pytest.raises(ValueError, match="clip_on"):
        check_profile(retuned, "quick")


def test_the_quick_stabilisers_are_listed_with_their_reasons():
    used = stabilisers_used(RELATIONAL, "quick")
    assert {"warmup_steps", "kl_warmup_steps", "global_selections", "learning_rate"} <= set(used)
    assert all(used[name] == STABILISERS[name] for name in used)
    assert "svhn" in stabilisers_used(SECTIONS["mnist_svhn_text"], "quick")
    assert stabilisers_used(LINEAR, "rehearse") == {}
    assert ALLOWED["paper"] == frozenset()


def test_the_paper_optimiser_is_the_official_one_where_there_is_official_code():
    for profiles in (LINEAR, SECTIONS["aux_label"], SECTIONS["five_modalities"]):
        training = profiles["paper"].training
        assert training.clip_on == "batch_sum" and training.zero_nan_gradients
    assert LINEAR["paper"].training.clip_value == 100.0
    assert SECTIONS["aux_label"]["paper"].training.clip_value == 1000.0
    assert SECTIONS["mnist_svhn_text"]["paper"].training.repetitions >= 3
