"""Every training of a profile as a job, run on this machine's devices or a cluster (issue 15).

    python -m mmvae_nb.launch --profile paper --sections linear aux_label --executor local
    python -m mmvae_nb.launch --profile paper --all --executor submitit --partition gpu
    python -m mmvae_nb.launch --profile paper --status

``jobs`` enumerates the trainings of the chosen sections from the same section objects and
grids the notebooks use (``Section.grid`` with the notebooks' defaults), so a job's results-cache
key is the notebook's: after a launch the notebooks evaluate from the cache and train only what
is missing. A job trains one ``Run`` (for MNIST-SVHN-Text: one repetition of it) and records
its state (running / done / diverged / failed, with wall seconds) as JSON under
``<cache>/launch/<profile>/``; ``status`` reads those records. Executors (``EXECUTORS``):

* ``local`` (the default): with several local GPUs, one worker process per device, each
  training one job at a time (``CUDA_VISIBLE_DEVICES``) until all are done; otherwise every job
  in this process, one after the other;
* ``submitit``: a SLURM job array through submitit (``AutoExecutor``; the cache must be on
  storage the nodes share, ``$MMVAE_NB_CACHE``); ``submitit-local`` runs the same jobs as local
  processes through submitit's ``LocalExecutor`` (how the tests exercise the engine).

A failed job is recorded and the launch goes on; a diverged replica is a result (``training``).
Checkpoints make a killed job resume where it was when launched again.
"""

from __future__ import annotations

import argparse
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
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

import pandas as pd

from mmvae_nb.hardware import CPUTrainingRefused, check_devices
from mmvae_nb.sections.config import PROFILES
from mmvae_nb.sections.section import Run
from mmvae_nb.storage import atomic_write_text, cache_root
from mmvae_nb.writable import check_writable

SECTIONS = ("linear", "aux_label", "five_modalities", "mnist_svhn_text", "relational")
STATUSES = ("running", "stale", "done", "diverged", "failed")
HEARTBEAT_SECONDS = 60.0  # a running job rewrites its record this often
# a running record whose process is gone (same host) or whose heartbeat is older than this is
# "stale": the job died without saying so (kill -9, a node lost); a relaunch retrains it
STALE_AFTER_SECONDS = 5 * HEARTBEAT_SECONDS


@dataclass(frozen=True)
class Job:
    """One training: a section of a profile, its setting (linear: dense or sparse; relational:
    vanilla or extended PolyMNIST), the run and, for MNIST-SVHN-Text, the repetition."""

    section: str
    profile: str
    run: Run
    setting: str = ""  # linear: dense / sparse; relational: the PolyMNIST variant
    repetition: int = 0
    seed: int = 0

    @property
    def label(self) -> str:
        setting = f"{self.setting}/" if self.setting else ""
        repetition = f"#{self.repetition}" if self.section == "mnist_svhn_text" else ""
        return f"{self.section}/{setting}{self.run.label}{repetition}"

    @property
    def id(self) -> str:
        blob = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


@functools.cache
def section_object(section: str, profile: str, seed: int, setting: str):
    """The section object a notebook of ``profile`` builds (one per process and setting)."""
    if section == "linear":
        from mmvae_nb.sections.linear import LinearExperiment

        return LinearExperiment(profile=profile, sparse=setting != "dense", seed=seed)
    if section == "mnist_svhn_text":
        from mmvae_nb.sections.mnist_svhn_text import MSTExperiment

        return MSTExperiment(profile, seed)
    if section == "relational":
        from mmvae_nb.sections.relational import RelationalExperiment

        return RelationalExperiment(profile, setting, seed, progress=False)
    from mmvae_nb.sections.identifiable import IdentifiableExperiment

    return IdentifiableExperiment(section, profile, seed)


def jobs(sections: Sequence[str], profile: str, seed: int = 0) -> list[Job]:
    """Every training of ``sections`` at ``profile``, in the notebooks' order."""
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        raise ValueError(f"unknown sections {unknown}; choose from {list(SECTIONS)}")
    out = []
    for section in sections:
        if section == "linear":
            from mmvae_nb.sections.linear import EQUIVARIANT_AGGREGATIONS

            dense = section_object(section, profile, seed, "dense")
            sparse = section_object(section, profile, seed, "sparse")
            betas = sparse.config.grid.betas
            grids = (
                ("dense", dense.grid()),
                ("sparse", sparse.grid()),
                ("sparse", sparse.grid(EQUIVARIANT_AGGREGATIONS, betas=betas)),
            )
            out += [Job(section, profile, r, s, seed=seed) for s, grid in grids for r in grid]
        elif section == "mnist_svhn_text":
            setup = section_object(section, profile, seed, "")
            repetitions = range(setup.config.training.repetitions)
            out += [
                Job(section, profile, r, repetition=k, seed=seed)
                for r in setup.grid()
                for k in repetitions
            ]
        elif section == "relational":
            from mmvae_nb.sections.config import RELATIONAL

            for variant in RELATIONAL[profile].grid.variants:
                grid = section_object(section, profile, seed, variant).grid()
                out += [Job(section, profile, r, variant, seed=seed) for r in grid]
        else:
            grid = section_object(section, profile, seed, "").grid()
            out += [Job(section, profile, r, seed=seed) for r in grid]
    return out


def record_dir(profile: str) -> Path:
    return cache_root() / "launch" / profile


def _record(job: Job, **fields) -> dict:
    record = {"job": job.label, "section": job.section, **fields}
    atomic_write_text(json.dumps(record), record_dir(job.profile) / f"{job.id}.json")
    return record


class _Heartbeat:
    """While a job runs, its ``running`` record is rewritten every ``HEARTBEAT_SECONDS`` with
    the time, so that ``status`` can tell a live job from a dead one."""

    def __init__(self, job: Job, started: float):
        self.job, self.started, self.stop = job, started, threading.Event()
        self.thread = threading.Thread(target=self._beat, daemon=True)

    def _write(self) -> None:
        _record(
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
    start = time.perf_counter()
    with _Heartbeat(job, time.time()):
        outcome = _train(job, start)
    return _record(job, **outcome)


def _train(job: Job, start: float) -> dict:
    """The final record's fields of ``job``: done / diverged with times, or failed."""
    try:
        section = section_object(job.section, job.profile, job.seed, job.setting)
        if job.section == "mnist_svhn_text":
            trained = section.train(job.run, repetition=job.repetition, progress=False)
        else:
            trained = section.train(job.run, progress=False)
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


# ----------------------------------------------------------------------------- executors
def _gpu_count() -> int:
    import jax

    return len([d for d in jax.local_devices() if d.platform == "gpu"])


def _bind_device(devices) -> None:
    os.environ["CUDA_VISIBLE_DEVICES"] = str(devices.get())


def _progress(records, todo: Sequence[Job], echo=print) -> list[dict]:
    """The records as they arrive, each announced: ``[k/N] job: status (seconds)``."""
    out = []
    for k, (job, record) in enumerate(zip(todo, records), 1):
        seconds = record.get("seconds")
        took = f" ({seconds:.0f} s)" if seconds is not None else ""
        echo(f"[{k}/{len(todo)}] {job.label}: {record['status']}{took}", flush=True)
        out.append(record)
    return out


def run_local(todo: Sequence[Job], options: LaunchOptions) -> list[dict]:
    """One worker process per local GPU when there are several, else this process."""
    gpus = _gpu_count()
    if gpus <= 1:
        return _progress(map(run_job, todo), todo)
    context = get_context("spawn")
    devices = context.Queue()
    for device in range(gpus):
        devices.put(device)
    with ProcessPoolExecutor(gpus, context, initializer=_bind_device, initargs=(devices,)) as pool:
        return _progress(pool.map(run_job, todo), todo)


def run_submitit(todo: Sequence[Job], options: LaunchOptions) -> list[dict]:
    """A job array through submitit: SLURM (``cluster=None``: whatever submitit detects) or,
    with ``options.cluster = "local"``, local processes."""
    import submitit

    folder = record_dir(todo[0].profile) / "submitit"
    executor = submitit.AutoExecutor(folder=folder, cluster=options.cluster)
    parameters = {"timeout_min": options.timeout_min}
    if options.cluster != "local":
        parameters |= {"gpus_per_node": 1, "slurm_array_parallelism": options.parallelism}
        if options.partition:
            parameters["slurm_partition"] = options.partition
    executor.update_parameters(**parameters)

    def results():
        for job, submitted in zip(todo, executor.map_array(run_job, list(todo)), strict=True):
            try:
                yield submitted.result()
            except Exception as error:  # noqa: BLE001 (killed by the scheduler, out of memory)
                yield _record(job, status="failed", error=f"{type(error).__name__}: {error}")

    return _progress(results(), todo)


@dataclass(frozen=True)
class LaunchOptions:
    """Engine settings of the cluster executors (ignored by ``local``)."""

    cluster: str | None = None  # submitit's cluster: None (detect, SLURM), "local", "debug"
    partition: str = ""
    timeout_min: int = 600
    parallelism: int = 64


EXECUTORS: dict[str, Callable[[Sequence[Job], LaunchOptions], list[dict]]] = {
    "local": run_local,
    "submitit": run_submitit,
}


def launch(
    sections: Sequence[str],
    profile: str,
    executor: str = "local",
    options: LaunchOptions | None = None,
    *,
    seed: int = 0,
) -> pd.DataFrame:
    """Run every job of ``sections`` with ``executor``; returns the jobs' records."""
    if executor not in EXECUTORS:
        raise ValueError(f"unknown executor {executor!r}; choose from {list(EXECUTORS)}")
    todo = jobs(sections, profile, seed)
    check_writable([cache_root() / "results", cache_root() / "checkpoints", record_dir(profile)])
    records = EXECUTORS[executor](todo, options or LaunchOptions())
    return pd.DataFrame(records)


def plan(todo: Sequence[Job]) -> str:
    """What a launch will train: the number of jobs per section."""
    counts = pd.Series([job.section for job in todo]).value_counts(sort=False)
    lines = [f"  {section:16s} {n:4d} trainings" for section, n in counts.items()]
    return "\n".join([f"{len(todo)} trainings to run or find in the cache:", *lines])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Training needs --sections or --all (every section of the profile: at the paper "
        "profile, GPU-days); --status needs neither.",
    )
    parser.add_argument("--profile", default="paper", choices=PROFILES)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, help="default: all (--all)")
    parser.add_argument("--all", action="store_true", help="every section of the profile")
    parser.add_argument("--executor", default="local", choices=[*EXECUTORS, "submitit-local"])
    parser.add_argument("--partition", default="", help="SLURM partition (submitit)")
    parser.add_argument("--timeout-min", type=int, default=600, help="per job (submitit)")
    parser.add_argument("--status", action="store_true", help="show the records and stop")
    args = parser.parse_args(argv)
    sections = args.sections or list(SECTIONS)
    if not args.status:
        if not (args.sections or args.all):
            parser.error(f"name --sections (of {', '.join(SECTIONS)}) or pass --all")
        try:
            check_devices(args.profile, sections)
        except CPUTrainingRefused as refusal:
            parser.exit(2, f"{refusal}\n")
        executor, cluster = args.executor, None
        if executor == "submitit-local":
            executor, cluster = "submitit", "local"
        print(plan(jobs(sections, args.profile)), flush=True)
        options = LaunchOptions(cluster, args.partition, args.timeout_min)
        launch(sections, args.profile, executor, options)
    table = status(args.profile)
    table = table[table["section"].isin(sections)]
    if table.empty:
        print(f"no launch records of profile {args.profile!r} in {record_dir(args.profile)}")
        return
    print(table.to_string(index=False))
    print(table["status"].value_counts().reindex(STATUSES, fill_value=0).to_string())


if __name__ == "__main__":
    main()
