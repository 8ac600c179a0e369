"""The local executor on GPUs (none here: device count and memory patched): n workers per
device from the jobs' compiled memory, the jobs longest first, each worker with its device and
JAX's preallocation off; worker processes with their own environment, a dead one reported."""

import os

import pytest

from mmvae_nb import launch, workers
from mmvae_nb.planning import packing
from mmvae_nb.planning.tables import class_costs

GIB = 2**30


class FakeGPU:
    platform = "gpu"

    def __init__(self, limit: float):
        self.limit = limit

    def memory_stats(self) -> dict:
        return {"bytes_limit": self.limit}


@pytest.fixture(scope="module")
def todo():
    return launch.jobs(["relational", "mnist_svhn_text"], "paper")


@pytest.fixture
def gpus(monkeypatch, tmp_path):
    """``gpus(count, usable GiB)`` patches the devices; every worker run is captured."""
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path))
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(launch.os, "cpu_count", lambda: 16)
    calls = []

    def run(function, items, environments):
        calls.append({"function": function, "items": list(items), "environments": environments})
        for index, program in enumerate(items):
            yield index, [{"job": j.label, "status": "done", "seconds": 1.0} for j in program.jobs]

    monkeypatch.setattr(launch.workers, "run", run)

    def patch(count: int, usable_gib: float):
        limit = usable_gib * GIB / (1 - packing.MEMORY_MARGIN.value)
        monkeypatch.setattr(launch, "_gpus", lambda: [FakeGPU(limit)] * count)
        return calls

    return patch


def test_two_gpus_run_as_many_workers_as_the_largest_jobs_memory_allows(todo, gpus, capsys):
    peaks = class_costs()["peak_bytes"]
    largest = peaks["relational/MoPoE/standard/ours"] + packing.WORKER_BYTES.value
    calls = gpus(2, 1.5 * largest / GIB)  # one MoPoE step fits, two do not
    records = launch.run_local(todo, launch.LaunchOptions())
    assert len(records) == len(todo) and {r["status"] for r in records} == {"done"}
    (call,) = calls
    assert call["function"] is launch.run_program
    assert call["environments"] == [
        {"CUDA_VISIBLE_DEVICES": "0", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"},
        {"CUDA_VISIBLE_DEVICES": "1", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"},
    ]
    programs = launch.programs_of(todo)
    assert sorted(p.id for p in call["items"]) == sorted(p.id for p in programs)
    assert sorted(job.id for p in call["items"] for job in p.jobs) == sorted(j.id for j in todo)
    lead = call["items"][0].lead.run
    assert lead.model == "MoPoE" and lead.bound == "ours"
    assert "1 worker(s) per device" in capsys.readouterr().out


def test_workers_per_device_are_capped_and_the_jobs_go_longest_first(todo, gpus):
    calls = gpus(1, 80)
    launch.run_local(todo, launch.LaunchOptions())
    launch.run_local(todo, launch.LaunchOptions(per_device=2))
    automatic, capped = (len(call["environments"]) for call in calls)
    assert automatic == packing.MAX_PER_DEVICE.value and capped == 2  # one GPU: processes too
    plan = launch.local_plan(launch.programs_of(todo), 1, 80 * GIB, 0)
    seconds = [plan.seconds[program.id] for program in plan.order]
    assert seconds == sorted(seconds, reverse=True) and [p.id for p in calls[0]["items"]] == [
        p.id for p in plan.order
    ]


def test_one_gpu_and_one_worker_trains_in_this_process(todo, gpus, monkeypatch):
    calls = gpus(1, 1)  # nothing fits twice
    trained = []

    def run_program(program):
        trained.extend(program.jobs)
        return [{"status": "done"} for _ in program.jobs]

    monkeypatch.setattr(launch, "run_program", run_program)
    launch.run_local(todo[:3], launch.LaunchOptions())
    assert calls == [] and len(trained) == 3


def test_a_job_whose_worker_died_is_recorded_failed(todo, gpus, monkeypatch):
    gpus(2, 80)

    def dying(function, items, environments):
        yield 0, workers.WorkerDied("worker 7 exited with code -9")

    monkeypatch.setattr(launch.workers, "run", dying)
    (record,) = launch.run_local(todo[:1], launch.LaunchOptions())
    assert record["status"] == "failed" and "exited with code -9" in record["error"]
    assert launch.status("paper")["status"].tolist() == ["failed"]


def test_a_cost_class_missing_from_the_table_is_compiled_at_launch(monkeypatch):
    job = launch.jobs(["aux_label"], "smoke")[0]
    monkeypatch.setattr(launch, "class_costs", lambda: class_costs().iloc[:0])
    ((flops, peak),) = launch.step_costs([job]).values()
    assert flops > 0 and peak > 0


def test_the_launcher_turns_preallocation_off_before_jax_starts(monkeypatch):
    monkeypatch.setenv("XLA_PYTHON_CLIENT_PREALLOCATE", "true")
    seen = []

    def check_devices(profile, sections):
        seen.append(os.environ["XLA_PYTHON_CLIENT_PREALLOCATE"])
        raise launch.CPUTrainingRefused("stop here")

    monkeypatch.setattr(launch, "check_devices", check_devices)
    with pytest.raises(SystemExit):
        launch.main(["--profile", "smoke", "--sections", "aux_label"])
    assert seen == ["false"]


def test_worker_processes_have_their_own_environment_and_a_death_is_reported():
    name = "MMVAE_NB_TEST_WORKER"
    environments = [{name: "a"}, {name: "b"}]
    answers = dict(workers.run(os.getenv, [name] * 6, environments))
    assert sorted(answers) == list(range(6)) and set(answers.values()) <= {"a", "b"}
    assert name not in os.environ  # the parent's environment is as it was
    died = dict(workers.run(os._exit, [3, 3, 3], environments))
    assert sorted(died) == [0, 1, 2]
    assert all(isinstance(answer, workers.WorkerDied) for answer in died.values())
