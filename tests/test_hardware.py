"""The device report and the paper profile's refusal to train on a CPU (``hardware``)."""

import pytest

from mmvae_nb import hardware, launch
from mmvae_nb.experiments.configs import PROFILES
from mmvae_nb.experiments.registry import EXPERIMENTS


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.delenv(hardware.ALLOW_CPU_VARIABLE, raising=False)


def test_the_paper_profile_stops_on_a_cpu_with_the_projected_hours(strict):
    assert hardware.accelerators() == []  # the test machine has none
    printed = []
    with pytest.raises(hardware.CPUTrainingRefused) as refusal:
        hardware.check_devices("paper", ["linear", "relational"], echo=printed.append)
    message = str(refusal.value)
    hours = hardware.projected_hours(["linear", "relational"])
    assert set(hours.index) == {"linear", "relational"} and (hours > 0).all()
    assert f"{hours.sum():,.0f} CPU hours" in message
    gpu = hardware.gpu_hours(["linear", "relational"])
    assert set(gpu.index) == {"linear", "relational"} and (gpu > 0).all()
    assert f"about {gpu.sum():.1f} hours on one H100" in message and "--plan" in message
    assert "ALLOW_CPU=1" in message and "make rehearse" in message
    assert printed and printed[0].startswith("JAX ") and "cpu" in printed[0]


def test_every_section_is_projected_and_relational_from_its_flops():
    table = hardware.cost_table()
    assert set(table["section"]) == set(EXPERIMENTS)
    assert len(table) == len(launch.jobs(list(EXPERIMENTS), "paper"))
    relational = table[table["section"] == "relational"]
    assert (relational["seconds_source"] != "timed").all()
    assert (relational["flops_per_step"] > 0).all()


@pytest.mark.parametrize("profile", [p for p in PROFILES if p != "paper"])
def test_other_profiles_run_on_a_cpu(strict, profile):
    hardware.check_devices(profile, list(EXPERIMENTS), echo=lambda _: None)


def test_allow_cpu_goes_on_with_a_warning(monkeypatch):
    monkeypatch.setenv(hardware.ALLOW_CPU_VARIABLE, "1")
    printed = []
    hardware.check_devices("paper", ["aux_label"], echo=printed.append)
    assert printed[1].startswith("warning: JAX sees no accelerator")


def test_the_launcher_refuses_before_building_any_job(strict, monkeypatch, capsys):
    def no_training(*args, **kwargs):
        raise AssertionError("a job was built")

    monkeypatch.setattr(launch, "jobs", no_training)
    with pytest.raises(SystemExit) as stopped:
        launch.main(["--profile", "paper", "--sections", "linear"])
    assert stopped.value.code == 2
    assert "CPU hours" in capsys.readouterr().err
