"""``make gpu-slice`` on a CPU with a tiny budget: paper programs compiled and timed until the
budget is spent, then trainings started only when their projected time fits."""

import time

import pandas as pd
import pytest

from mmvae_nb import gpu_slice
from mmvae_nb.jobs import jobs
from mmvae_nb.planning.programs import cost_class


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path / "cache"))
    return tmp_path


def test_the_slice_measures_paper_programs_and_starts_no_training_that_cannot_fit(cache):
    printed = []
    programs_csv = cache / "programs.csv"
    todo = jobs(["aux_label"], "paper")
    table = gpu_slice.measure_programs(
        todo, time.monotonic() + 1.0, programs_csv, repeats=1, echo=printed.append
    )
    assert 1 <= len(table) < len({cost_class(j) for j in todo})  # stopped by the budget
    row = pd.read_csv(programs_csv).iloc[0]
    assert row["status"] == "ok" and row["replicas"] == 8 and row["paper_steps"] == 80_000
    assert row["seconds_per_step"] > 0 and row["peak_bytes"] > 0 and row["flops_per_step"] > 0
    assert any("budget spent" in line for line in printed)

    step_seconds = {row["cost_class"]: row["seconds_per_step"]}
    records = gpu_slice.train_sections(
        ["aux_label"],
        step_seconds,
        time.monotonic() + 5.0,
        cache / "tables",
        cache / "timings.csv",
        echo=printed.append,
    )
    assert records.empty  # 80,000 paper steps do not fit in 5 s
    assert any("not started" in line for line in printed)


def test_trainings_that_fit_are_trained_evaluated_and_written_once(cache):
    smoke = jobs(["aux_label"], "smoke")[:2]
    fast = {cost_class(job): 1e-9 for job in smoke}
    tables, timings = cache / "tables", cache / "timings.csv"

    def train():
        deadline = time.monotonic() + 600
        return gpu_slice.train_sections(
            ["aux_label"], fast, deadline, tables, timings, echo=lambda _: None, profile="smoke"
        )

    records = train()
    assert list(records["job"]) == [job.label for job in smoke]
    runs = pd.read_csv(tables / gpu_slice.runs_file("aux_label"))
    assert set(runs["bound"]) == {job.run.bound for job in smoke}
    assert {"llh", "mcc", "train_seconds"} <= set(runs.columns)
    assert len(pd.read_csv(timings)) == 2
    again = train()
    assert again.empty  # the per-run CSV already holds them


def test_the_command_writes_the_programs_table_of_this_device(cache, capsys):
    gpu_slice.main(["--budget", "1", "--sections", "aux_label", "--train", "--out", str(cache)])
    written = cache / "benchmarks" / "results" / f"paper_programs_{gpu_slice.device_slug()}.csv"
    assert len(pd.read_csv(written)) == 1  # the first class, then the budget was spent
    out = capsys.readouterr().out
    assert out.startswith("JAX ") and "gpu slice:" in out
