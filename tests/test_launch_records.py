"""Launcher records that tell the truth: a running job's record carries its PID, host and a
heartbeat, so a job that died shows as stale; an unreadable record is named and skipped; a
bad profile, an empty cache and a launch that names no section get a message, not a crash or
thousands of CPU-hours."""

import json
import os
import socket
import subprocess
import sys
import time

import pytest

from mmvae_nb import jobs as launch_jobs
from mmvae_nb import launch
from mmvae_nb.experiments.base import Run

JOB = launch.Job("aux_label", "smoke", Run("PoE", "ours"))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path))
    return tmp_path


def _running(started=None, **fields):
    started = time.time() if started is None else started
    return launch_jobs.write_record(JOB, status="running", started=started, **fields)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_running_record_is_stale_once_its_process_or_heartbeat_is_gone(cache):
    host = socket.gethostname()
    _running(heartbeat=time.time(), pid=os.getpid(), host=host)
    assert list(launch.status("smoke")["status"]) == ["running"]
    _running(heartbeat=time.time(), pid=_dead_pid(), host=host)  # killed with -9
    assert list(launch.status("smoke")["status"]) == ["stale"]
    old = time.time() - 2 * launch_jobs.STALE_AFTER_SECONDS  # a node lost: no heartbeat
    _running(heartbeat=old, pid=1, host="another-node")
    assert list(launch.status("smoke")["status"]) == ["stale"]
    _running(started=old)  # a record without heartbeat or PID, as written before them
    assert list(launch.status("smoke")["status"]) == ["stale"]


def test_the_heartbeat_rewrites_the_record_while_the_job_runs(cache, monkeypatch):
    monkeypatch.setattr(launch_jobs, "HEARTBEAT_SECONDS", 0.05)
    path = launch.record_dir("smoke") / f"{JOB.id}.json"
    with launch_jobs.Heartbeat(JOB, time.time()):
        first = json.loads(path.read_text())
        time.sleep(0.3)
        later = json.loads(path.read_text())
    assert first["status"] == later["status"] == "running"
    assert first["pid"] == os.getpid() and first["host"] == socket.gethostname()
    assert later["heartbeat"] > first["heartbeat"]


def test_an_unreadable_record_is_named_and_skipped(cache):
    _running(heartbeat=time.time(), pid=os.getpid(), host=socket.gethostname())
    junk = launch.record_dir("smoke") / "junk.json"
    junk.write_text("{not json")
    with pytest.warns(UserWarning, match="junk.json"):
        table = launch.status("smoke")
    assert list(table["status"]) == ["running"]


def test_bad_profile_empty_cache_and_no_sections_get_messages(cache, capsys):
    with pytest.raises(SystemExit) as bogus:
        launch.main(["--profile", "bogus", "--status"])
    assert bogus.value.code == 2 and "invalid choice: 'bogus'" in capsys.readouterr().err
    launch.main(["--profile", "quick", "--status"])
    assert "no launch records of profile 'quick'" in capsys.readouterr().out
    with pytest.raises(SystemExit) as nothing_named:
        launch.main(["--profile", "smoke"])  # would start every training of the profile
    assert nothing_named.value.code == 2
    assert "--sections" in capsys.readouterr().err and not launch.record_dir("smoke").exists()


def test_progress_announces_each_job_as_it_ends():
    lines = []
    todo = [JOB, launch.Job("aux_label", "smoke", Run("MoE", "ours"))]
    records = [{"status": "done", "seconds": 3.2}, {"status": "failed"}]
    launch._progress(zip(todo, records), len(todo), echo=lambda line, flush: lines.append(line))
    assert lines == [f"[1/2] {todo[0].label}: done (3 s)", f"[2/2] {todo[1].label}: failed"]
