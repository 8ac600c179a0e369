"""Cache entries hold data only; an unreadable entry is named and retrained; writes are whole."""

import pickle
import threading

import jax
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.training.cache import (
    UnreadableEntry,
    load_arrays,
    load_run,
    save_arrays,
    state_arrays,
)
from mmvae_nb.training.trainer import TrainConfig, train_replicas

CONFIG = TrainConfig(epochs=2, batch_size=10, epochs_per_call=1)


def _make(width=8):
    return lambda key, _: mlp_vae(
        (3, 4), 2, "SumPooling", rngs=nnx.Rngs(key), encoder_hidden=(width,)
    )


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(2, 20, 3)).astype(np.float32), rng.normal(size=(2, 20, 4))]
    return [x.astype(np.float32) for x in xs], np.ones((2, 20, 2), bool)


def _train(data, cache_dir, make=None, **kwargs):
    return train_replicas(
        make or _make(), *data, CONFIG, cache_key="k", cache_dir=cache_dir, progress=False, **kwargs
    )


def _entry(cache_dir):
    (path,) = (cache_dir / "results").glob("*")
    return path


def _same_parameters(a, b):
    for x, y in zip(jax.tree.leaves(a.state), jax.tree.leaves(b.state), strict=True):
        np.testing.assert_array_equal(x, y)


def test_an_entry_is_an_npz_archive_without_pickles(data, tmp_path):
    trained = _train(data, tmp_path)
    path = _entry(tmp_path)
    assert path.suffix == ".npz"
    header, arrays = load_arrays(path)  # allow_pickle=False inside
    assert header == {"train_seconds": trained.train_seconds}
    assert all(a.dtype != object for a in arrays.values())
    np.testing.assert_array_equal(arrays["loss_history"], trained.loss_history)
    loaded = _train(data, tmp_path)
    assert loaded.from_cache
    _same_parameters(loaded, trained)


@pytest.mark.parametrize(
    "content",
    [b"", np.random.default_rng(0).bytes(100), pickle.dumps({"state": {}})],
    ids=["empty file", "100 random bytes", "a pickle"],
)
def test_an_unreadable_entry_is_named_and_retrained(data, tmp_path, content):
    trained = _train(data, tmp_path)
    path = _entry(tmp_path)
    path.write_bytes(content)
    with pytest.raises(UnreadableEntry, match=str(path)):
        load_run(path, *nnx.split(_make()(jax.random.key(0), None)))
    with pytest.warns(UserWarning, match=f"unreadable cache entry, retraining: {path}"):
        again = _train(data, tmp_path)
    assert not again.from_cache
    _same_parameters(again, trained)
    assert _train(data, tmp_path).from_cache  # the retrained run replaced the bad entry


def test_an_entry_of_another_structure_is_unreadable(data, tmp_path):
    """An archive whose arrays are not the model's (here: a wider encoder's) is refused by
    name, whatever its file name says."""
    path = tmp_path / "entry.npz"
    wide = nnx.split(_make(16)(jax.random.key(0), None))[1]
    save_arrays(
        path, {**state_arrays(wide), "loss_history": np.zeros((1, 2))}, {"train_seconds": 1}
    )
    graphdef, state = nnx.split(_make(8)(jax.random.key(0), None))
    with pytest.raises(UnreadableEntry, match=r"is float32\[\d+(, \d+)?\], the model's float32"):
        load_run(path, graphdef, state)
    save_arrays(path, {"loss_history": np.zeros((1, 2))}, {"train_seconds": 1})
    with pytest.raises(UnreadableEntry, match="other arrays than the model's"):
        load_run(path, graphdef, state)


def test_concurrent_writers_of_one_entry_leave_a_whole_file(tmp_path):
    """Two writers racing on one entry (as two jobs finishing the same training): every read
    in between and the entry left behind is one writer's whole archive."""
    path = tmp_path / "entry.npz"
    contents = {name: np.full((200, 200), value) for name, value in (("a", 1.0), ("b", 2.0))}

    def write(name):
        for _ in range(20):
            save_arrays(path, {"x": contents[name]}, {"writer": name})

    threads = [threading.Thread(target=write, args=(name,)) for name in contents]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        if path.exists():
            header, arrays = load_arrays(path)
            np.testing.assert_array_equal(arrays["x"], contents[header["writer"]])
    for thread in threads:
        thread.join()
    header, arrays = load_arrays(path)
    np.testing.assert_array_equal(arrays["x"], contents[header["writer"]])
    assert not list(tmp_path.glob("*.tmp"))
