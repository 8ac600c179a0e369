"""Data on the device for the streaming trainer (``training.placement``, ``streamed_epochs``):
the batches gathered on the device are the host's, bit for bit, from the same random state; a
training on the device is the host's to float rounding, resumed from either's checkpoint; the
size rule keeps data too large for the device on the host and says so."""

import dataclasses
import logging

import jax
import numpy as np
import pytest
from flax import nnx

from mmvae_nb.data.mnist_svhn_text import MnistSvhnText, pair_indices
from mmvae_nb.data.polymnist import PolyMNIST
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.training import placement, streamed_epochs
from mmvae_nb.training.optim import OptimConfig
from mmvae_nb.training.streaming import train_streaming
from mmvae_nb.training.trainer import TrainConfig


def _mst(n_mnist=50, n_svhn=40) -> MnistSvhnText:
    """Triples of random uint8 images (every pixel value occurs) with MoPoE's pairing."""
    rng = np.random.default_rng(3)
    mnist_labels, svhn_labels = rng.integers(0, 10, n_mnist), rng.integers(0, 10, n_svhn)
    pairs = pair_indices(mnist_labels, svhn_labels, dups=2, seed=0)
    return MnistSvhnText(
        rng.integers(0, 256, (n_mnist, 28, 28), dtype=np.uint8),
        rng.integers(0, 256, (n_svhn, 32, 32, 3), dtype=np.uint8),
        pairs,
        mnist_labels[pairs[:, 0]],
        "test",
        "train",
    )


def _polymnist(n=45, modalities=2) -> PolyMNIST:
    rng = np.random.default_rng(4)
    images = tuple(rng.random((n, 28, 28, 3), dtype=np.float32) for _ in range(modalities))
    return PolyMNIST("vanilla", "train", images, rng.integers(0, 10, n), np.full((n, 2), -1))


@pytest.mark.parametrize("make", [_mst, _polymnist], ids=["mnist_svhn_text", "polymnist"])
def test_device_batches_are_the_host_batches_bit_for_bit(make):
    """A whole epoch (its last batch smaller, dropped by the trainer, its draws consumed):
    every full batch equal, dtypes included, and the random state where ``batches`` leaves it."""
    data, batch_size = make(), 16
    host_rng, device_rng = np.random.default_rng(0), np.random.default_rng(0)
    host = [xs for xs, _ in data.batches(batch_size, host_rng)]
    draws = data.epoch_draws(batch_size, device_rng)
    assert host_rng.bit_generator.state == device_rng.bit_generator.state
    gather = jax.jit(jax.vmap(type(data).device_batch, in_axes=(None, 0)))
    device = gather(jax.device_put(data.device_arrays()), draws)
    steps = len(data) // batch_size
    assert len(host) == steps + 1 and len(device[0]) == steps
    for step in range(steps):
        for m, x in enumerate(host[step]):
            assert device[m].dtype == x.dtype
            np.testing.assert_array_equal(np.asarray(device[m][step]), x)


# the streaming trainings' schedule: App. P's cosine decay, at tiny scale
COSINE = OptimConfig(learning_rate=1e-2, schedule="cosine", final_learning_rate=1e-3)


def _tiny(key):
    return mlp_vae((784, 3072, 568), 2, "PoE", rngs=nnx.Rngs(key), encoder_hidden=(4,))


class _Killed(Exception):
    pass


def _watched(data, calls: list, kill_at=None):
    """``data`` whose ``batches`` and ``epoch_draws`` record their calls in ``calls`` (which
    path trains) and raise ``_Killed`` at call ``kill_at``."""

    def counted(method):
        def wrapped(*args):
            calls.append(method.__name__)
            if len(calls) == kill_at:
                raise _Killed
            return method(*args)

        return wrapped

    watched = dataclasses.replace(data)
    for method in (data.batches, data.epoch_draws):
        object.__setattr__(watched, method.__name__, counted(method))
    return watched


def _train(data, on_device, cache=None, kill_at=None, epochs_done=0, description="train"):
    """4 epochs of 4 steps (68 triples, batches of 16) with KL warm-up and model selection
    (epoch 2's scores lowest), checkpointed at every epoch under ``cache`` (with one): (the
    run, the data calls)."""
    calls, scores = [], [3.0, 1.0, 2.0, 4.0][epochs_done:]
    trained = train_streaming(
        _tiny,
        _watched(data, calls, kill_at),
        TrainConfig(epochs=4, batch_size=16, optim=dataclasses.replace(COSINE, kl_warmup_steps=6)),
        cache_key="k" if cache else None,
        cache_dir=cache,
        progress=False,
        checkpoint_seconds=0,
        select_on=lambda model: scores.pop(0),
        data_on_device=on_device,
        description=description,
    )
    return trained, calls


def _params(trained):
    return jax.tree.leaves(jax.tree.map(np.asarray, nnx.state(trained.model(0), nnx.Param)))


def _same(trained, reference):
    """The same training to float rounding: losses, selection and parameters."""
    np.testing.assert_allclose(trained.loss_history, reference.loss_history, rtol=1e-5)
    assert trained.selection == reference.selection
    for a, b in zip(_params(trained), _params(reference)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_a_training_on_the_device_is_the_hosts_and_resumes_from_either_checkpoint(
    tmp_path, monkeypatch
):
    """On a CPU the device path runs one step per call; the scan of whole epochs (what it runs
    on an accelerator) is forced after that."""
    data = _mst()
    host, host_calls = _train(data, False)
    assert host.selection["epoch"] == 2
    device, device_calls = _train(data, True)
    assert host_calls == ["batches"] * 4 and device_calls == ["epoch_draws"] * 4
    _same(device, host)
    monkeypatch.setattr(streamed_epochs, "steps_per_call", lambda platform, steps: steps)
    _same(_train(data, True)[0], host)
    # killed on the device after 2 epochs, resumed on the host: the data order goes on
    with pytest.raises(_Killed):
        _train(data, True, tmp_path, kill_at=3)
    resumed, calls = _train(data, False, tmp_path, epochs_done=2)
    assert calls == ["batches"] * 2
    _same(resumed, host)


def test_the_size_rule_keeps_data_too_large_for_the_device_on_the_host(monkeypatch, caplog):
    data = _mst()
    size = placement.tree_bytes(data.device_arrays())
    monkeypatch.setattr(placement, "memory_budget", lambda: (4 * size, "test memory"))
    assert placement.choose_placement(data).on_device
    monkeypatch.setattr(placement, "memory_budget", lambda: (4 * size - 1, "test memory"))
    chosen = placement.choose_placement(data)
    assert not chosen.on_device
    assert "batches assembled on the host" in chosen.reason and "test memory" in chosen.reason
    assert placement.choose_placement(data, data_on_device=True).on_device
    with caplog.at_level(logging.INFO, logger="mmvae_nb.training.streaming"):
        _, calls = _train(data, None, description="tiny")
    assert calls == ["batches"] * 4
    assert caplog.messages.count(f"tiny: {chosen.reason}") == 1


def test_data_without_device_batches_stays_on_the_host():
    class Streamed:
        def __len__(self):
            return 10

        def batches(self, batch_size, rng):
            yield [np.zeros((batch_size, 2), np.float32)], None

    chosen = placement.choose_placement(Streamed())
    assert not chosen.on_device and "no device batches" in chosen.reason
    with pytest.raises(ValueError, match="no device batches"):
        placement.choose_placement(Streamed(), data_on_device=True)


def test_one_compiled_program_per_configuration_whatever_the_seed_and_beta():
    data = _mst()
    _train(data, True)
    compiled = streamed_epochs._device_steps._cache_size()
    config = TrainConfig(epochs=4, batch_size=16, seed=1, beta=0.5, optim=COSINE)
    run = train_streaming(_tiny, data, config, progress=False, data_on_device=True)
    assert np.all(np.isfinite(run.loss_history))
    assert streamed_epochs._device_steps._cache_size() == compiled
