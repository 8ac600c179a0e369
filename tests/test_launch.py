"""The launcher: the notebooks' trainings as jobs, with the notebooks' cache keys; the local
executor and submitit's local executor; records of done and failed jobs."""

import pytest

from mmvae_nb import jobs as launch_jobs
from mmvae_nb import launch
from mmvae_nb.experiments.base import Run
from mmvae_nb.experiments.identifiable.experiment import IdentifiableExperiment


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path))
    return tmp_path


def test_jobs_are_the_notebooks_grids():
    linear = launch.jobs(["linear"], "smoke")
    assert len(linear) == 8 + 8 + 3 * 2 * 3  # Tables 1 and 5; Table 6 at three betas
    assert len({job.id for job in linear}) == len({job.label for job in linear}) == len(linear)
    aux = launch.jobs(["aux_label"], "smoke")
    assert [job.run for job in aux] == IdentifiableExperiment("aux_label", "smoke").grid()
    with pytest.raises(ValueError, match="unknown experiments"):
        launch.jobs(["audio"], "smoke")


def test_a_local_launch_fills_the_notebooks_cache_and_records_failures(cache):
    todo = launch.jobs(["aux_label"], "smoke")[:2]
    broken = launch.Job("aux_label", "smoke", Run("NoSuchAggregation", "ours"))
    records = launch.run_local([*todo, broken], launch.LaunchOptions())
    assert [r["status"] for r in records] == ["done", "done", "failed"]
    assert "NoSuchAggregation" in records[2]["error"]
    notebook = IdentifiableExperiment("aux_label", "smoke")  # what notebook 02 builds
    assert all(notebook.train(job.run, progress=False).from_cache for job in todo)
    table = launch.status("smoke")
    assert sorted(table["status"]) == ["done", "done", "failed"]
    again = launch.run_local(todo, launch.LaunchOptions())  # a re-launch trains nothing
    assert all(r["from_cache"] for r in again)


def test_submitits_local_executor_runs_the_jobs_in_processes(cache):
    todo = launch.jobs(["aux_label"], "smoke")[:1]
    options = launch.LaunchOptions(cluster="local", timeout_min=15)
    (record,) = launch.run_submitit(todo, options)
    assert record["status"] == "done" and not record["from_cache"]
    assert (cache / "launch" / "smoke" / "submitit").is_dir()
    notebook = IdentifiableExperiment("aux_label", "smoke")
    assert notebook.train(todo[0].run, progress=False).from_cache


def test_unknown_executor_is_refused_before_any_training(cache):
    with pytest.raises(ValueError, match="unknown executor 'slurm'"):
        launch.launch(["aux_label"], "smoke", "slurm")


def test_a_program_of_several_jobs_trains_once_and_fills_each_jobs_entry(cache, monkeypatch):
    """Linear's dense and sparse trainings of one configuration are one program: trained
    together in one call, each then found in the cache by the notebook's own section."""
    from mmvae_nb.experiments.linear.experiment import LinearExperiment
    from mmvae_nb.training import trainer

    programs = launch.programs_of(launch.jobs(["linear"], "smoke"))
    assert len(programs) < len(launch.jobs(["linear"], "smoke"))
    program = next(p for p in programs if len(p.jobs) == 2)
    assert {job.setting for job in program.jobs} == {"dense", "sparse"}
    calls = []
    original = launch_jobs.TRAIN_TOGETHER[trainer.ReplicaTraining]

    def spy(trainings):
        calls.append(len(trainings))
        return original(trainings)

    monkeypatch.setitem(launch_jobs.TRAIN_TOGETHER, trainer.ReplicaTraining, spy)
    records = launch.run_local(list(program.jobs), launch.LaunchOptions())
    assert [r["status"] for r in records] == ["done", "done"] and calls == [2]
    # the jobs' own calls found the group's results
    assert all(r["from_cache"] and r["trained_together"] == 2 for r in records)
    for job in program.jobs:
        notebook = LinearExperiment(profile="smoke", sparse=job.setting == "sparse")
        assert notebook.train(job.run, progress=False).from_cache
