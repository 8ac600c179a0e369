"""Every training of a profile as a job, run on this machine's devices or a cluster (issue 15).

    python -m mmvae_nb.launch --profile paper --sections linear aux_label --executor local
    python -m mmvae_nb.launch --profile paper --all --executor submitit --partition gpu
    python -m mmvae_nb.launch --profile paper --status
    python -m mmvae_nb.launch --plan [--markdown]   # GPU hours projected, nothing compiled

``jobs`` enumerates the trainings of the chosen sections from the same section objects and
grids the notebooks use (``Section.grid`` with the notebooks' defaults), so a job's results-cache
key is the notebook's: after a launch the notebooks evaluate from the cache and train only what
is missing. A job trains one ``Run`` (for MNIST-SVHN-Text: one repetition of it) and records
its state (running / done / diverged / failed, with wall seconds) as JSON under
``<cache>/launch/<profile>/``; ``status`` reads those records. Executors (``EXECUTORS``):

* ``local`` (the default): on GPUs, n worker processes per device (``CUDA_VISIBLE_DEVICES``,
  JAX's preallocation off: ``XLA_PYTHON_CLIENT_PREALLOCATE=false``), n chosen so that the n
  largest jobs' compiled memory fits the device's (``planning.packing``; at most
  ``--per-device``), the jobs started longest first from one queue every worker pulls from;
  without a GPU (or with one GPU and n = 1) every job in this process, one after the other;
* ``submitit``: a SLURM job array through submitit (``AutoExecutor``; the cache must be on
  storage the nodes share, ``$MMVAE_NB_CACHE``); ``submitit-local`` runs the same jobs as local
  processes through submitit's ``LocalExecutor`` (how the tests exercise the engine).

A failed job is recorded and the launch goes on; a diverged replica is a result (``training``).
Checkpoints make a killed job resume where it was when launched again.

``--plan`` prints what the paper profile costs on one H100 (``planning.plan``: trainings,
programs, steps, FLOPs, memory, projected hours, every constant's source) from committed tables;
``--plan --write`` rewrites its committed copies (README block, ``reference/paper_gpu_plan.csv``).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import json
import logging
import os
import socket
import threading
import time
import traceback
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from mmvae_nb import workers
from mmvae_nb.hardware import CPUTrainingRefused, check_devices
from mmvae_nb.planning import packing
from mmvae_nb.planning import plan as gpu_plan
from mmvae_nb.planning.cost import default_model
from mmvae_nb.planning.programs import cost_class, paper_steps, program_key
from mmvae_nb.planning.tables import class_costs
from mmvae_nb.sections.config import PROFILES
from mmvae_nb.sections.section import Run
from mmvae_nb.storage import atomic_write_text, cache_root
from mmvae_nb.training.collection import collected_training
from mmvae_nb.training.programs import capture_training
from mmvae_nb.training.streaming import StreamingTraining
from mmvae_nb.training.streaming_together import train_streaming_together
from mmvae_nb.training.trainer import ReplicaTraining, train_together
from mmvae_nb.writable import check_writable

SECTIONS = ("linear", "aux_label", "five_modalities", "mnist_svhn_text", "relational")
STATUSES = ("running", "stale", "done", "diverged", "failed")
HEARTBEAT_SECONDS = 60.0  # a running job rewrites its record this often
# a running record whose process is gone (same host) or whose heartbeat is older than this is
# "stale": the job died without saying so (kill -9, a node lost); a relaunch retrains it
STALE_AFTER_SECONDS = 5 * HEARTBEAT_SECONDS
# JAX preallocates 75 % of a GPU to its process unless told not to: off in the launcher and its
# workers, so that several share a device (each takes what its program needs)
NO_PREALLOCATION = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


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
    (record,) = run_program(Program((job,)))
    return record


def run_program(program: Program) -> list[dict]:
    """Train the jobs of ``program`` as one vmapped program where their trainings allow it
    (``_train_together``), then record each job as ``run_job`` does (its training is then in
    the cache; a job the group could not train trains alone), with heartbeats meanwhile."""
    start = time.perf_counter()
    with contextlib.ExitStack() as beating:
        for job in program.jobs:
            beating.enter_context(_Heartbeat(job, time.time()))
        together = _train_together(program.jobs)
        outcomes = [_train(job, start) for job in program.jobs]
    return [
        _record(job, **outcome, trained_together=together)
        for job, outcome in zip(program.jobs, outcomes, strict=True)
    ]


# how each trainer's collected trainings of one program train together
TRAIN_TOGETHER: dict[type, Callable[[list], list]] = {
    ReplicaTraining: functools.partial(train_together, progress=False),
    StreamingTraining: train_streaming_together,
}


def _training_call(job: Job, **options) -> Callable[[], object]:
    """The section call that trains ``job`` (``options``: ``train``'s keywords)."""
    section = section_object(job.section, job.profile, job.seed, job.setting)
    if job.section == "mnist_svhn_text":
        options["repetition"] = job.repetition
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


# ----------------------------------------------------------------------------- executors
def _gpus() -> list:
    import jax

    return [d for d in jax.local_devices() if d.platform == "gpu"]


def _device_bytes(gpus: Sequence) -> float:
    """The memory JAX may use on the smallest of ``gpus`` (its allocator's limit)."""
    return float(min(d.memory_stats()["bytes_limit"] for d in gpus))


def _device_ids(count: int) -> list[str]:
    """What ``CUDA_VISIBLE_DEVICES`` names each of this process's ``count`` GPUs."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    return visible.split(",")[:count] if visible else [str(i) for i in range(count)]


def step_costs(todo: Sequence[Job]) -> dict[str, tuple[float, float]]:
    """XLA's FLOPs and compiled peak bytes of one step of each cost class of ``todo``: the
    committed table's (the paper's shapes, at least any other profile's), else compiled now
    on this machine from the job's own section."""
    committed = class_costs()
    costs = {}
    for job in todo:
        label = cost_class(job)
        if label in costs:
            continue
        if label in committed.index:
            row = committed.loc[label]
            costs[label] = (float(row["flops_per_step"]), float(row["peak_bytes"]))
            continue
        section = section_object(job.section, job.profile, job.seed, job.setting)
        program = capture_training(
            lambda section=section, job=job: section.train(
                job.run, force_retrain=True, progress=False
            )
        )
        costs[label] = (program.flops(), float(program.memory_bytes()["peak_bytes"]))
    return costs


@dataclass(frozen=True)
class LocalPlan:
    """How ``run_local`` runs on GPUs: the programs longest first, their projected seconds and
    compiled bytes, and how many workers share each device."""

    order: list[Program]
    seconds: dict[str, float]  # program id -> projected H100 seconds alone (paper steps)
    bytes: dict[str, float]  # program id -> compiled peak bytes of its step, all its trainings
    per_device: int
    cap: int
    device_bytes: float

    def describe(self, gpus: int) -> str:
        largest = sorted(self.bytes.values(), reverse=True)[: self.per_device]
        first = self.order[0]
        return (
            f"local executor: {gpus} GPU(s), {self.per_device} worker(s) per device "
            f"(the {len(largest)} largest steps, {' + '.join(f'{b / 2**30:.2f}' for b in largest)} "
            f"GiB with {packing.WORKER_BYTES.value / 2**30:.0f} GiB per worker, fit in "
            f"{1 - packing.MEMORY_MARGIN.value:.0%} of {self.device_bytes / 2**30:.1f} GiB; "
            f"at most {self.cap}), {gpus * self.per_device} in all; programs longest first from "
            f"one queue, from {first.label} ({self.seconds[first.id] / 3600:.2f} H100 h "
            "projected at the paper's steps)"
        )


def local_plan(
    programs: Sequence[Program], gpus: int, device_bytes: float, per_device: int
) -> LocalPlan:
    """The packing of ``programs`` on ``gpus`` devices of ``device_bytes``: workers per device
    from the programs' compiled memory (a program of k trainings: k times one's step, an upper
    bound), capped by ``per_device`` (0: ``packing.MAX_PER_DEVICE`` and this machine's CPU cores
    per device, for the workers' host-side work)."""
    costs, model = step_costs([program.lead for program in programs]), default_model()
    seconds, sizes = {}, {}
    for program in programs:
        label, size = cost_class(program.lead), len(program.jobs)
        flops, peak = costs[label]
        alone, _ = model.alone_seconds(label, size, flops)
        seconds[program.id] = alone * paper_steps(program.lead)
        sizes[program.id] = size * peak
    cores = max((os.cpu_count() or 1) // gpus, 1)
    cap = per_device or min(int(packing.MAX_PER_DEVICE.value), cores)
    workers_per = packing.workers_per_device(sizes.values(), device_bytes, cap)
    order = packing.longest_first(programs, lambda program: seconds[program.id])
    return LocalPlan(order, seconds, sizes, workers_per, cap, device_bytes)


def worker_environments(gpus: int, per_device: int) -> list[dict[str, str]]:
    """One environment per worker: its device, JAX's preallocation off; the devices taken in
    turn, so that the first jobs spread over them."""
    ids = _device_ids(gpus)
    return [
        {"CUDA_VISIBLE_DEVICES": ids[device], **NO_PREALLOCATION}
        for _ in range(per_device)
        for device in range(gpus)
    ]


def _progress(pairs: Iterable[tuple[Job, dict]], total: int, echo=print) -> list[dict]:
    """The records as they arrive, each announced: ``[k/N] job: status (seconds)``."""
    out = []
    for k, (job, record) in enumerate(pairs, 1):
        seconds = record.get("seconds")
        took = f" ({seconds:.0f} s)" if seconds is not None else ""
        echo(f"[{k}/{total}] {job.label}: {record['status']}{took}", flush=True)
        out.append(record)
    return out


def _failed(program: Program, error: BaseException) -> list[dict]:
    """The records of a program whose process was lost (no record was written)."""
    return [
        _record(job, status="failed", error=f"{type(error).__name__}: {error}")
        for job in program.jobs
    ]


def _pairs(program: Program, records: list[dict]) -> Iterable[tuple[Job, dict]]:
    return zip(program.jobs, records, strict=True)


def run_local(todo: Sequence[Job], options: LaunchOptions) -> list[dict]:
    """The jobs as programs (``programs_of``). Without a GPU, every program in this process in
    order. On GPUs, the programs longest first (``local_plan``), in this process where that
    makes one worker in all, else in worker processes (``workers``), n per device, each taking
    the next program when it is done; the records in the order they finish. JAX's
    preallocation must be off in this process before JAX starts here (``main`` sees to it), or
    this process holds 75 % of each GPU."""
    programs = programs_of(todo)
    gpus = _gpus()
    if not gpus:
        return _progress((pair for p in programs for pair in _pairs(p, run_program(p))), len(todo))
    plan = local_plan(programs, len(gpus), _device_bytes(gpus), options.per_device)
    print(plan.describe(len(gpus)), flush=True)
    if len(gpus) * plan.per_device == 1:
        pairs = (pair for p in plan.order for pair in _pairs(p, run_program(p)))
        return _progress(pairs, len(todo))
    environments = worker_environments(len(gpus), plan.per_device)

    def records():
        for index, answer in workers.run(run_program, plan.order, environments):
            program = plan.order[index]
            if isinstance(answer, Exception):  # its worker died: no record was written
                answer = _failed(program, answer)
            yield from _pairs(program, answer)

    return _progress(records(), len(todo))


def run_submitit(todo: Sequence[Job], options: LaunchOptions) -> list[dict]:
    """A job array through submitit, one array task per program: SLURM (``cluster=None``:
    whatever submitit detects) or, with ``options.cluster = "local"``, local processes."""
    import submitit

    programs = programs_of(todo)
    folder = record_dir(todo[0].profile) / "submitit"
    executor = submitit.AutoExecutor(folder=folder, cluster=options.cluster)
    parameters = {"timeout_min": options.timeout_min}
    if options.cluster != "local":
        parameters |= {"gpus_per_node": 1, "slurm_array_parallelism": options.parallelism}
        if options.partition:
            parameters["slurm_partition"] = options.partition
    executor.update_parameters(**parameters)

    def results():
        submitted = executor.map_array(run_program, programs)
        for program, task in zip(programs, submitted, strict=True):
            try:
                records = task.result()
            except Exception as error:  # noqa: BLE001 (killed by the scheduler, out of memory)
                records = _failed(program, error)
            yield from _pairs(program, records)

    return _progress(results(), len(todo))


@dataclass(frozen=True)
class LaunchOptions:
    """Engine settings: of the cluster executors, and workers per GPU of ``local``."""

    cluster: str | None = None  # submitit's cluster: None (detect, SLURM), "local", "debug"
    partition: str = ""
    timeout_min: int = 600
    parallelism: int = 64
    per_device: int = 0  # local: at most this many workers per GPU (0: automatic)


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
    """What a launch will train: the number of jobs and programs per section."""
    programs = pd.Series([program.lead.section for program in programs_of(todo)])
    counts = pd.DataFrame(
        {
            "trainings": pd.Series([job.section for job in todo]).value_counts(sort=False),
            "programs": programs.value_counts(sort=False),
        }
    )
    lines = [
        f"  {section:16s} {row.trainings:4d} trainings in {row.programs:4d} programs"
        for section, row in counts.iterrows()
    ]
    return "\n".join(
        [f"{len(todo)} trainings in {len(programs)} programs to run or find in the cache:", *lines]
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Training needs --sections or --all (every section of the profile: at the paper "
        "profile, hours of GPU time: --plan says how many); --status and --plan need neither.",
    )
    parser.add_argument("--profile", default="paper", choices=PROFILES)
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, help="default: all (--all)")
    parser.add_argument("--all", action="store_true", help="every section of the profile")
    parser.add_argument("--executor", default="local", choices=[*EXECUTORS, "submitit-local"])
    parser.add_argument("--partition", default="", help="SLURM partition (submitit)")
    parser.add_argument("--timeout-min", type=int, default=600, help="per job (submitit)")
    parser.add_argument(
        "--per-device", type=int, default=0, help="local: at most N workers per GPU (0: automatic)"
    )
    parser.add_argument("--status", action="store_true", help="show the records and stop")
    parser.add_argument("--plan", action="store_true", help="the paper profile's GPU plan; stop")
    parser.add_argument("--markdown", action="store_true", help="--plan as Markdown")
    parser.add_argument(
        "--write", action="store_true", help="--plan: rewrite its README block and CSV copy"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")  # the trainers' one-liners
    sections = args.sections or list(SECTIONS)
    if args.plan:
        if args.profile != "paper":
            parser.error("--plan projects the paper profile's trainings")
        if args.write and args.sections:
            parser.error("--write keeps the copies of every section's plan: drop --sections")
        todo = jobs(sections, "paper")
        if args.write:
            gpu_plan.write(todo)
        print(gpu_plan.render(todo, markdown=args.markdown), end="")
        return
    if not args.status:
        if not (args.sections or args.all):
            parser.error(f"name --sections (of {', '.join(SECTIONS)}) or pass --all")
        os.environ.update(NO_PREALLOCATION)  # before JAX starts here (check_devices)
        try:
            check_devices(args.profile, sections)
        except CPUTrainingRefused as refusal:
            parser.exit(2, f"{refusal}\n")
        executor, cluster = args.executor, None
        if executor == "submitit-local":
            executor, cluster = "submitit", "local"
        print(plan(jobs(sections, args.profile)), flush=True)
        options = LaunchOptions(
            cluster, args.partition, args.timeout_min, per_device=args.per_device
        )
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
