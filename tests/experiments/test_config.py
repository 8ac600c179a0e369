"""Typed configurations: profiles built by replacement, unknown keys refused, and cache keys
that an evaluation setting or the grid does not change."""

import dataclasses

import pytest

from mmvae_nb.experiments.configs import PROFILES, profile_config
from mmvae_nb.experiments.identifiable.config import AUX_LABEL, FIVE_MODALITIES
from mmvae_nb.experiments.identifiable.experiment import IdentifiableExperiment
from mmvae_nb.experiments.linear.config import LINEAR
from mmvae_nb.experiments.linear.experiment import LinearExperiment
from mmvae_nb.experiments.mnist_svhn_text.config import MNIST_SVHN_TEXT
from mmvae_nb.experiments.mnist_svhn_text.experiment import MSTExperiment
from mmvae_nb.training.trainer import TrainConfig

SECTIONS = [LINEAR, AUX_LABEL, FIVE_MODALITIES, MNIST_SVHN_TEXT]


@pytest.mark.parametrize("profiles", SECTIONS)
def test_every_profile_exists_and_is_frozen(profiles):
    assert set(profiles) == set(PROFILES)
    config = profiles["quick"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.training.epochs = 1  # type: ignore[misc]


def test_overrides_go_to_their_group_and_unknown_ones_are_refused():
    config = profile_config(LINEAR, "smoke", epochs=3, eval_samples=5)
    assert config.training.epochs == 3 and config.evaluation.eval_samples == 5
    assert config.data == LINEAR["smoke"].data
    with pytest.raises(ValueError, match="unknown settings \\['epoch'\\]"):
        profile_config(LINEAR, "smoke", epoch=3)
    with pytest.raises(ValueError, match="unknown profile"):
        profile_config(LINEAR, "fast")
    with pytest.raises(ValueError, match="unknown subset sampler 'bernoulli'"):
        profile_config(LINEAR, "smoke", subset_sampler="bernoulli")
    with pytest.raises(ValueError, match="unknown cluster_scale 'sd'"):
        IdentifiableExperiment("aux_label", "smoke", overrides={"cluster_scale": "sd"})


@pytest.mark.parametrize("profiles", SECTIONS)
def test_every_section_trains_with_its_configs_subset_sampler(profiles):
    """The official code's rho is one override away in every section, and it retrains."""
    config = profiles["smoke"]
    assert config.training.subset_sampler == "hierarchical"
    other = config.replace(subset_sampler="independent")
    assert other.training.subset_sampler == "independent"
    assert other.cache_parts() != config.cache_parts()


def test_the_experiments_pass_the_subset_sampler_to_training():
    independent = {"subset_sampler": "independent"}
    configs = [
        LinearExperiment(profile="smoke", overrides=independent).train_config("ours"),
        IdentifiableExperiment("aux_label", "smoke", overrides=independent).train_config("ours"),
        MSTExperiment("smoke", overrides=independent).train_config("mixture", 1.0, 0),
    ]
    assert [c.subset_sampler for c in configs] == ["independent"] * 3


@pytest.mark.parametrize("profiles", SECTIONS)
def test_cache_parts_exclude_evaluation_and_grid(profiles):
    config = profiles["smoke"]
    evaluation = dataclasses.fields(config.evaluation)[0].name
    changed = config.replace(**{evaluation: 7})
    assert changed.cache_parts() == config.cache_parts()
    assert changed.as_dict()[evaluation] == 7
    assert config.replace(epochs=99).cache_parts() != config.cache_parts()


def test_an_evaluation_setting_does_not_change_a_models_cache_key():
    base = LinearExperiment(profile="smoke")
    other = LinearExperiment(profile="smoke", overrides={"eval_samples": 9})
    retrained = LinearExperiment(profile="smoke", overrides={"learning_rate": 0.5})
    config = TrainConfig(epochs=2, batch_size=50)
    assert base.cache_key("PoE", config) == other.cache_key("PoE", config)
    assert base.cache_key("PoE", config) != retrained.cache_key("PoE", config)
