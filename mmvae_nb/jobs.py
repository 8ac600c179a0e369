"""Every training of a profile as a job, grouped into programs, and the jobs' records.

A ``Job`` is one training of an experiment (``experiments.registry.EXPERIMENTS``): its profile,
setting and ``Run``; ``jobs`` lists them as the registry gives them (``ExperimentSpec.grids``:
the notebooks' trainings, from the same experiment objects, so a job's results-cache key is the
notebook's). A ``Program`` is the jobs that train as one vmapped program
(``planning.programs.program_key``). A job's state (running / done / diverged / failed, with
wall seconds) is a JSON record under ``<cache>/launch/<profile>/``, rewritten every
``HEARTBEAT_SECONDS`` while it runs (``Heartbeat``); ``status`` reads the records and tells a
live job from one that died without saying so. ``run_program`` trains a program's jobs (as one
program where their trainings allow it, ``TRAIN_TOGETHER``) and records each; a failed job is a
record, never an exception. ``launch`` decides where programs run.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import socket
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from mmvae_nb.experiments.base import Run
from mmvae_nb.experiments.registry import EXPERIMENTS, check_names
from mmvae_nb.planning.programs import program_key
from mmvae_nb.storage import atomic_write_text, cache_root
from mmvae_nb.training.collection import collected_training
from mmvae_nb.training.streaming import StreamingTraining
from mmvae_nb.training.streaming_together import train_streaming_together
from mmvae_nb.training.trainer import ReplicaTraining, train_together

STATUSES = ("running", "stale", "done", "diverged", "failed")
HEARTBEAT_SECONDS = 60.0  # a running job rewrites its record this often
# a running record whose process is gone (same host) or whose heartbeat is older than this is
# "stale": the job died without saying so (kill -9, a node lost); a relaunch retrains it
STALE_AFTER_SECONDS = 5 * HEARTBEAT_SECONDS


@dataclass(frozen=True)
class Job:
    """One training: an experiment (``section``: its registry name) of a profile, its setting
    (linear: dense or sparse; relational: vanilla or extended PolyMNIST) and the run."""

    section: str
    profile: str
    run: Run
    setting: str = ""  # linear: dense / sparse; relational: the PolyMNIST variant
    seed: int = 0

    @property
    def label(self) -> str:
        setting = f"{self.setting}/" if self.setting else ""
        return f"{self.section}/{setting}{self.run.label}"

    @property
    def id(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Program:
    """Jobs that train as ONE vmapped program (``planning.programs.program_key``): the same
    shapes and settings but for beta, data values or seed; a job alone is a program of one."""

    jobs: tuple[Job, ...]

    @property
    def id(self) -> str:
        return hashlib.sha256("".join(job.id for job in self.jobs).encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        more = f" (+{len(self.jobs) - 1} in one program)" if len(self.jobs) > 1 else ""
        return f"{self.jobs[0].label}{more}"

    @property
    def lead(self) -> Job:
        """The job that stands for the program's cost class and steps."""
        return self.jobs[0]


def programs_of(todo: Sequence[Job]) -> list[Program]:
    """``todo`` grouped by ``program_key``, in the order of each program's first job."""
    groups: dict[tuple, list[Job]] = {}
    for job in todo:
        groups.setdefault(program_key(job), []).append(job)
    return [Program(tuple(group)) for group in groups.values()]


@functools.cache
def section_object(section: str, profile: str, seed: int, setting: str):
    """The experiment object a notebook of ``profile`` builds (one per process and setting)."""
    return EXPERIMENTS[section].build(profile, seed, setting)


def jobs(sections: Sequence[str], profile: str, seed: int = 0) -> list[Job]:
    """Every training of the experiments ``sections`` at ``profile``, in the notebooks'
    order (``registry.ExperimentSpec.grids``)."""
    out = []
    for name in check_names(sections):
        build = functools.partial(section_object, name)
        trainings = EXPERIMENTS[name].trainings(profile, seed, build)
        out += [Job(name, profile, run, setting, seed) for setting, run in trainings]
    return out


def record_dir(profile: str) -> Path:
    return cache_root() / "launch" / profile


def write_record(job: Job, **fields) -> dict:
    record = {"job": job.label, "section": job.section, **fields}
    atomic_write_text(json.dumps(record), record_dir(job.profile) / f"{job.id}.json")
    return record


class Heartbeat:
    """While a job runs, its ``running`` record is rewritten every ``HEARTBEAT_SECONDS`` with
    the time, so that ``status`` can tell a live job from a dead one."""

    def __init__(self, job: Job, started: float):
        self.job, self.started, self.stop = job, started, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _write(self) -> None:
        write_record(
            self.job,
            status="running",
            started=self.started,
            heartbeat=time.time(),
            pid=os.getpid(),
            host=socket.gethostname(),
        )

    def _beat(self) -> None:
        while not self.stop.wait(HEARTBEAT_SECONDS):
            self._write()

    def __enter__(self):
        self._write()
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join()


def run_job(job: Job) -> dict:
    """Train ``job`` (or find it in the cache) and record how it went, with a heartbeat while it
    runs (stopped before the final record is written); never raises for a training that
    fails: the record says ``failed`` with the error."""
    (record,) = run_program(Program((job,)))
    return record


def run_program(program: Program) -> list[dict]:
    """Train the jobs of ``program`` as one vmapped program where their trainings allow it
    (``_train_together``), then record each job as ``run_job`` does (its training is then in
    the cache; a job the group could not train trains alone), with heartbeats meanwhile."""
    start = time.perf_counter()
    with contextlib.ExitStack() as beating:
        for job in program.jobs:
            beating.enter_context(Heartbeat(job, time.time()))
        together = _train_together(program.jobs)
        outcomes = [_train(job, start) for job in program.jobs]
    return [
        write_record(job, **outcome, trained_together=together)
        for job, outcome in zip(program.jobs, outcomes, strict=True)
    ]


# how each trainer's collected trainings of one program train together
TRAIN_TOGETHER: dict[type, Callable[[list], list]] = {
    ReplicaTraining: functools.partial(train_together, progress=False),
    StreamingTraining: train_streaming_together,
}


def _training_call(job: Job, **options) -> Callable[[], object]:
    """The experiment's call that trains ``job`` (``options``: ``train``'s keywords)."""
    section = section_object(job.section, job.profile, job.seed, job.setting)
    return functools.partial(section.train, job.run, **options)


def _train_together(group: Sequence[Job]) -> int:
    """The uncached trainings of ``group`` as one program (``trainer.train_together``), each
    cached under its job's entry; returns how many trained so (their records say it). With
    fewer than two to train, or trainings that turn out not to share a program (then said),
    nothing happens here (0) and each job trains alone."""
    if len(group) < 2:
        return 0
    try:
        trainings = [collected_training(_training_call(job, progress=False)) for job in group]
    except Exception:  # noqa: BLE001 (the job's own training records the error)
        return 0
    pending = [t for t in trainings if type(t) in TRAIN_TOGETHER and t.cached() is None]
    if len(pending) < 2:
        return 0
    if len({(type(t), t.program_key) for t in pending}) > 1:
        print(f"{group[0].label}: its trainings differ in shape; each trains alone", flush=True)
        return 0
    try:
        TRAIN_TOGETHER[type(pending[0])](pending)
    except Exception as error:  # noqa: BLE001 (each job then trains, and fails, on its own)
        print(f"{group[0].label}: trained together failed ({error}); each trains alone")
        return 0
    return len(pending)


def _train(job: Job, start: float) -> dict:
    """The final record's fields of ``job``: done / diverged with times, or failed."""
    try:
        trained = _training_call(job, progress=False)()
    except Exception as error:  # noqa: BLE001 (a failed job is a record; the launch goes on)
        return dict(
            status="failed",
            seconds=time.perf_counter() - start,
            error=f"{type(error).__name__}: {error}",
            traceback=traceback.format_exc(limit=5),
        )
    diverged = [r for r in range(trained.num_replicas) if trained.diverged_epoch(r) is not None]
    return dict(
        status="diverged" if diverged else "done",
        seconds=time.perf_counter() - start,
        train_seconds=trained.train_seconds,
        from_cache=trained.from_cache,
        diverged_replicas=diverged,
    )


def _alive(record: dict, now: float) -> bool:
    """Whether a ``running`` record's job still runs: its process exists (when it ran on this
    host) and its heartbeat is recent."""
    if now - record.get("heartbeat", record.get("started", 0.0)) > STALE_AFTER_SECONDS:
        return False
    if record.get("host") == socket.gethostname() and "pid" in record:
        try:
            os.kill(record["pid"], 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's live process
            return True
    return True


def read_records(profile: str) -> list[dict]:
    """The job records of ``profile``; a file that is not a readable record is named in a
    warning and skipped."""
    records = []
    for path in sorted(record_dir(profile).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            if not isinstance(record, dict) or "status" not in record:
                raise ValueError("not a job record")
        except (OSError, ValueError) as error:
            warnings.warn(f"skipping launch record {path}: {error}", stacklevel=2)
            continue
        records.append(record)
    return records


def status(profile: str) -> pd.DataFrame:
    """Every recorded job of ``profile``: job, section, status (``running`` only while its job
    is alive, else ``stale``), seconds (and the error)."""
    now = time.time()
    records = [
        r | {"status": "stale"} if r["status"] == "running" and not _alive(r, now) else r
        for r in read_records(profile)
    ]
    columns = ["job", "section", "status", "seconds", "train_seconds", "from_cache", "error"]
    frame = pd.DataFrame(records).reindex(columns=columns)
    return frame.sort_values(["section", "job"], ignore_index=True)
