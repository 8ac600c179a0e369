"""Every training of a profile as a job, run on this machine's devices or a cluster (issue 15).

    python -m mmvae_nb.launch --profile paper --sections linear aux_label --executor local
    python -m mmvae_nb.launch --profile paper --all --executor submitit --partition gpu
    python -m mmvae_nb.launch --profile paper --status
    python -m mmvae_nb.launch --plan [--markdown]   # GPU hours projected, nothing compiled

The jobs are the chosen experiments' trainings as the registry gives them (``jobs.jobs``: the
notebooks' trainings, from the same experiment objects), so a job's results-cache key is the
notebook's: after a launch the notebooks evaluate from the cache and train only what is
missing. Each program of jobs trains and records its jobs (``jobs.run_program``); this module
decides where programs run. Executors (``EXECUTORS``):

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
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from mmvae_nb import workers
from mmvae_nb.experiments.configs import PROFILES
from mmvae_nb.experiments.registry import EXPERIMENTS
from mmvae_nb.hardware import CPUTrainingRefused, check_devices
from mmvae_nb.jobs import (
    STATUSES,
    Job,
    Program,
    jobs,
    programs_of,
    record_dir,
    run_program,
    section_object,
    status,
    write_record,
)
from mmvae_nb.planning import packing
from mmvae_nb.planning import plan as gpu_plan
from mmvae_nb.planning.cost import default_model
from mmvae_nb.planning.programs import cost_class, paper_steps
from mmvae_nb.planning.tables import class_costs
from mmvae_nb.storage import cache_root
from mmvae_nb.training.programs import capture_training
from mmvae_nb.writable import check_writable

# JAX preallocates 75 % of a GPU to its process unless told not to: off in the launcher and its
# workers, so that several share a device (each takes what its program needs)
NO_PREALLOCATION = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


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
        write_record(job, status="failed", error=f"{type(error).__name__}: {error}")
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
    parser.add_argument(
        "--sections", nargs="+", choices=list(EXPERIMENTS), help="default: all (--all)"
    )
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
    sections = args.sections or list(EXPERIMENTS)
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
            parser.error(f"name --sections (of {', '.join(EXPERIMENTS)}) or pass --all")
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
