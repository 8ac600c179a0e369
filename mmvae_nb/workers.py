"""Worker processes, each with its own environment, that pull tasks from one shared queue (the
launcher's local executor on GPUs).

A worker's environment is set before its interpreter starts (a ``spawn`` child inherits the
parent's environment when it starts), so the variables JAX reads once, when its backend
initialises (``CUDA_VISIBLE_DEVICES``, ``XLA_PYTHON_CLIENT_PREALLOCATE``), hold for everything
the worker imports. Tasks start in the order given. A worker that dies holding a task (killed,
out of host memory) has that task answered with ``WorkerDied``; the others go on with the queue,
and when none is left every task not done is answered so.
"""

from __future__ import annotations

import contextlib
import os
import queue
from collections.abc import Callable, Iterator, Mapping, Sequence
from multiprocessing import get_context

POLL_SECONDS = 5.0  # how often the parent looks for dead workers while none reports


class WorkerDied(RuntimeError):
    """The worker running a task exited before answering it."""


@contextlib.contextmanager
def _environment(overrides: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with ``overrides`` inside the block, as it was after."""
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _serve(function: Callable, tasks, answers) -> None:
    """A worker: run ``function`` on each (index, item) of ``tasks`` until ``None``, saying
    which task it holds before it runs it."""
    pid = os.getpid()
    for index, item in iter(tasks.get, None):
        answers.put(("started", pid, index, None))
        answers.put(("done", pid, index, function(item)))


def run(
    function: Callable, items: Sequence, environments: Sequence[Mapping[str, str]]
) -> Iterator[tuple[int, object]]:
    """Run ``function`` (picklable) on every item in worker processes, one per environment of
    ``environments``; yield (index of the item, its answer) as they finish: the function's
    value, or a ``WorkerDied`` for a task whose worker died."""
    context = get_context("spawn")
    tasks, answers = context.Queue(), context.Queue()
    for index, item in enumerate(items):
        tasks.put((index, item))
    for _ in environments:
        tasks.put(None)
    workers = []
    for overrides in environments:
        with _environment(overrides):
            worker = context.Process(target=_serve, args=(function, tasks, answers), daemon=True)
            worker.start()
        workers.append(worker)
    outstanding, held = set(range(len(items))), {}  # held: pid -> index of its task
    try:
        while outstanding:
            try:
                messages = [answers.get(timeout=POLL_SECONDS)]
            except queue.Empty:
                # a worker that ended had sent what it had before its end: read it all first
                dead = [worker for worker in workers if not worker.is_alive()]
                messages = list(_pending(answers))
            else:
                dead = []
            for kind, pid, index, answer in messages:
                if kind == "started":
                    held[pid] = index
                else:
                    held.pop(pid, None)
                    outstanding.discard(index)
                    yield index, answer
            yield from _died(dead, len(dead) == len(workers), held, outstanding)
    finally:
        for worker in workers:
            worker.join(timeout=POLL_SECONDS)
            if worker.is_alive():
                worker.terminate()


def _pending(answers) -> Iterator[tuple]:
    """The messages already in ``answers``, without waiting."""
    while True:
        try:
            yield answers.get_nowait()
        except queue.Empty:
            return


def _died(dead, none_left: bool, held: dict, outstanding: set) -> Iterator[tuple[int, Exception]]:
    """Answers for the tasks that ``dead`` workers held, and for every task left when
    ``none_left``."""
    for worker in dead:
        if worker.pid in held:
            index = held.pop(worker.pid)
            outstanding.discard(index)
            yield index, WorkerDied(f"worker {worker.pid} exited with code {worker.exitcode}")
    if none_left:
        for index in sorted(outstanding):
            yield index, WorkerDied("no worker left to run it")
        outstanding.clear()
