"""A cache that a group can share and that never loses a finished training: files take the
user's umask (not mkstemp's 0600), downloaded data follows the cache, hints name real options,
an unreadable entry's warning gives no advice to unpickle, and an entry that cannot be written
is kept elsewhere with its path said."""

import errno
import os
import stat
import urllib.request

import numpy as np
import pytest

from mmvae_nb import storage
from mmvae_nb.data import mnist_svhn_text
from mmvae_nb.training import cache


def test_written_files_take_the_users_umask(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    path = tmp_path / "table.csv"
    storage.atomic_write_text("a,b\n", path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask == storage.NEW_FILE_MODE


def test_downloaded_data_follows_the_cache_wherever_a_command_runs(tmp_path, monkeypatch):
    monkeypatch.delenv("MMVAE_NB_DATA", raising=False)
    monkeypatch.setenv("MMVAE_NB_CACHE", str(tmp_path / "shared"))
    monkeypatch.chdir(tmp_path)
    assert storage.data_dir() == tmp_path / "shared" / "data"
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "shared" / "data" / "svhn")):
        mnist_svhn_text.svhn_path("test_32x32.mat", download=False)
    monkeypatch.setenv("MMVAE_NB_DATA", str(tmp_path / "elsewhere"))
    assert storage.data_dir() == tmp_path / "elsewhere"


def test_the_offline_hint_names_the_stand_in_option(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise OSError(errno.ENETUNREACH, "Network is unreachable")

    monkeypatch.setattr(urllib.request, "urlretrieve", offline)
    with pytest.raises(FileNotFoundError) as error:
        mnist_svhn_text.svhn_path("test_32x32.mat", data_dir=tmp_path)
    assert "svhn='standin'" in str(error.value) and "dataset=" not in str(error.value)


def test_a_pickled_entry_is_refused_without_advice_to_unpickle_it(tmp_path):
    entry = tmp_path / "entry.npz"
    np.savez(entry, loss_history=np.array([{"code": "anything"}], dtype=object))
    with pytest.warns(UserWarning, match="pickled objects, which are never loaded") as caught:
        assert cache.load_cached(entry, cache.load_arrays) is None
    assert not any("trust" in str(w.message) for w in caught)


def test_an_entry_that_cannot_be_written_is_kept_elsewhere_and_said(tmp_path, monkeypatch):
    target = tmp_path / "full" / "entry.npz"
    write = cache.atomic_write_bytes

    def disk_full_at_target(data, path):
        if path == target:
            raise OSError(errno.ENOSPC, "No space left on device")
        write(data, path)

    monkeypatch.setattr(cache, "atomic_write_bytes", disk_full_at_target)
    monkeypatch.setattr(cache, "rescue_path", lambda path: tmp_path / "rescued" / path.name)
    with pytest.raises(OSError, match="the trained state is kept at .*rescued/entry.npz"):
        cache.save_arrays(target, {"w": np.arange(3.0)}, {"train_seconds": 1.0})
    header, arrays = cache.load_arrays(tmp_path / "rescued" / "entry.npz")
    assert header == {"train_seconds": 1.0} and arrays["w"].tolist() == [0.0, 1.0, 2.0]
