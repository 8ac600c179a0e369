"""A read-only or full results cache or output folder stops a run before it trains, with the
folders named (it used to be found at the first save, after the training). Root ignores file
modes, so the filesystem's errors are patched in."""

import errno
import shutil
import tempfile
from collections import namedtuple

import pytest

from mmvae_nb import launch, writable
from mmvae_nb.experiments import base as section
from mmvae_nb.experiments.parameters import output_profile


class NeverTrains:
    """A section whose runs must not start."""

    def grid(self):
        return ["a run"]

    def run(self, *args, **kwargs):
        raise AssertionError("trained despite a folder that cannot take the result")


@pytest.fixture
def read_only(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)


@pytest.fixture
def full_disk(monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(2**20, 2**20 - 2**19, 2**19))


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MMVAE_NB_ROOT", str(tmp_path))
    return tmp_path / "cache"


def test_a_read_only_cache_stops_run_grid_before_training(cache, read_only):
    with pytest.raises(OSError, match="Read-only file system") as error:
        section.run_grid(NeverTrains(), progress=False)
    assert str(cache / "results") in str(error.value) and "MMVAE_NB_CACHE" in str(error.value)


def test_a_full_disk_stops_run_grid_before_training(cache, full_disk):
    with pytest.raises(OSError, match="0 MiB free, a run needs 256"):
        section.run_grid(NeverTrains(), progress=False)


def test_the_notebooks_output_folders_are_checked_before_any_work(cache, read_only):
    with pytest.raises(OSError, match="tables/quick: cannot write"):
        output_profile("quick", {})


def test_the_launcher_checks_its_folders_before_any_job(cache, full_disk, monkeypatch):
    started = []
    monkeypatch.setitem(launch.EXECUTORS, "local", lambda todo, options: started.append(todo))
    with pytest.raises(OSError, match="MiB free"):
        launch.launch(["aux_label"], "smoke")
    assert not started


def test_writable_folders_pass_and_are_created(tmp_path):
    writable.check_writable([tmp_path / "new" / "folder"], min_free_bytes=1)
    assert (tmp_path / "new" / "folder").is_dir()
    assert not list((tmp_path / "new" / "folder").iterdir())  # the probe file is gone
