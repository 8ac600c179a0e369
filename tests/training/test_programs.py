"""Training programs captured without training (``training.programs``): the step a training
would run, at its shapes, costed, compiled and run."""

import jax
import numpy as np
import pytest

from mmvae_nb.experiments.base import Run
from mmvae_nb.experiments.identifiable.experiment import IdentifiableExperiment
from mmvae_nb.training.programs import (
    ProgramCaptured,
    capture_step_programs,
    capture_training,
    offer_step,
)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path))
    return tmp_path


def test_a_replica_training_offers_its_step_and_trains_nothing(cache):
    experiment = IdentifiableExperiment("aux_label", "smoke")
    run = Run("PoE", "ours")
    program = capture_training(lambda: experiment.train(run, force_retrain=True, progress=False))
    cfg = experiment.config
    replicas = cfg.data.repetitions * len(cfg.training.betas)
    assert program.replicas == replicas
    assert program.total_steps == cfg.training.epochs * (
        cfg.data.n_train // cfg.training.batch_size
    )
    assert program.flops() > 0
    params, _, loss = program.compile()(*program.args)
    assert np.shape(loss) == (replicas,) and np.all(np.isfinite(loss))
    assert program.memory_bytes()["peak_bytes"] > 0
    assert program.seconds_per_step(repeats=1) > 0
    trained = experiment.train(run, progress=False)  # outside the capture: trains
    assert not trained.from_cache and trained.loss_history.shape[0] == replicas


def test_a_streaming_training_offers_its_step(cache):
    from mmvae_nb.experiments.relational.experiment import RelationalExperiment

    experiment = RelationalExperiment("smoke", "vanilla", progress=False)
    run = experiment.grid()[0]
    program = capture_training(lambda: experiment.train(run, force_retrain=True, progress=False))
    cfg = experiment.config
    assert program.replicas == 1
    assert program.total_steps == cfg.training.epochs * (
        cfg.data.train_size // cfg.training.batch_size
    )
    _, _, loss = program.compile()(*program.args)
    assert np.isfinite(float(loss))


def test_offering_outside_a_capture_does_nothing():
    offer_step("nothing", lambda x: x, (1.0,), replicas=1, total_steps=1)
    with capture_step_programs() as programs, pytest.raises(ProgramCaptured):
        offer_step("one", lambda x: 2 * x, (jax.numpy.ones(3),), replicas=1, total_steps=5)
    assert [p.description for p in programs] == ["one"]
    with pytest.raises(RuntimeError, match="without offering"):
        capture_training(lambda: None)


def test_the_paper_compile_report_costs_each_class_and_records_failures(tmp_path):
    from mmvae_nb.launch import Job, jobs
    from mmvae_nb.paper_programs import compile_report

    first = jobs(["aux_label"], "paper")[0]
    broken = Job("aux_label", "paper", Run("NoSuchAggregation", "ours"))
    path = tmp_path / "programs.csv"
    table = compile_report([first, first, broken], path, echo=lambda _: None)
    assert list(table["status"]) == ["ok", table["status"].iloc[1]]
    assert (
        table["status"].iloc[1].startswith("failed: ValueError")
        and "NoSuchAggregation" in (table["status"].iloc[1])
    )
    ok = table.iloc[0]
    assert ok["trainings"] == 2 and ok["flops_per_step"] > 0 and ok["peak_bytes"] > 0
    assert bool(ok["fits_this_machine"]) and path.exists()
