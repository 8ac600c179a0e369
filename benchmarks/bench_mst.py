"""MNIST-SVHN-Text speed on this machine: layers, the PoE training step, and plain PyTorch.

    python benchmarks/bench_mst.py [--steps 10] [--no-torch]
    python benchmarks/bench_mst.py --streaming [--steps 40]

1. The SVHN decoder's transposed convolutions (Table 22b) and the encoder's strided ones
   (Table 21b), batch 250, in each formulation of ``mmvae_nb.conv``: forward pass, and forward
   pass with both gradients.
2. One training step of the MST PoE model (shared 40-d latent, batch 250, Adam) with each bound,
   with the per-layer fastest formulations (``fast=True``) and with XLA's kernels throughout.
3. The same model and step in plain PyTorch (optional: ``pip install torch``), PoE with the
   mixture bound's structure (one subset per example, one reparameterised sample), and the
   JAX/PyTorch ratio.
Prints steps/s and examples/s; nothing is asserted.

``--streaming`` instead times the streaming trainer's epochs at the quick profile's shapes (the
PoE and SumPooling rows with our bound, batch 32, 60,000 MNIST and 30,000 SVHN-sized uint8
images, epochs of ``--steps`` steps) on host batches and with the data on the device
(``bench_streaming``; benchmarks/results/bench_mst_streaming_quick.txt).
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from mmvae_nb.data.mnist_svhn_text import MODALITY_DIMS
from mmvae_nb.experiments.mnist_svhn_text.experiment import make_mst_model
from mmvae_nb.models.conv import STRIDED, TRANSPOSED
from mmvae_nb.objectives.bounds import get_bound

BATCH = 250


def timed(fn, *args, repeats: int = 5) -> float:
    """Median seconds of ``fn(*args)`` after one warm-up call (compilation)."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _forward_and_gradients(layer, x, k, repeats):
    """ms of the forward pass and of forward + both gradients (what a training step needs)
    of ``layer(x, k)``, with a fixed random cotangent."""
    probe = jnp.asarray(np.random.default_rng(1).normal(size=layer(x, k).shape), x.dtype)
    forward = jax.jit(layer)
    both = jax.jit(jax.grad(lambda x, k: jnp.sum(probe * layer(x, k)), argnums=(0, 1)))
    times = [timed(forward, x, k, repeats=repeats), timed(both, x, k, repeats=repeats)]
    return "/".join(f"{1e3 * t:5.1f}" for t in times)


def layer_table(repeats: int):
    rng = np.random.default_rng(0)
    print("\n1. layers, batch 250, ms of forward / forward + input and weight gradients")
    for size, c_in, c_out in ((4, 64, 64), (8, 64, 32), (16, 32, 3)):
        x = jnp.asarray(rng.normal(size=(BATCH, size, size, c_in)), jnp.float32)
        k = jnp.asarray(rng.normal(size=(4, 4, c_in, c_out)), jnp.float32) * 0.05
        cells = [f"{n} {_forward_and_gradients(f, x, k, repeats)}" for n, f in TRANSPOSED.items()]
        print(f"  tConv({c_out},4,2) {size}x{size}x{c_in}: " + " | ".join(cells))
    for size, c_in, c_out in ((32, 3, 32), (16, 32, 64), (8, 64, 64)):
        x = jnp.asarray(rng.normal(size=(BATCH, size, size, c_in)), jnp.float32)
        k = jnp.asarray(rng.normal(size=(4, 4, c_in, c_out)), jnp.float32) * 0.05
        cells = [f"{n} {_forward_and_gradients(f, x, k, repeats)}" for n, f in STRIDED.items()]
        print(f"  Conv({c_out},4,2) {size}x{size}x{c_in}: " + " | ".join(cells))


def jax_step_rate(bound: str, fast: bool, steps: int) -> float:
    model = make_mst_model("PoE", rngs=nnx.Rngs(0), fast=fast)
    optimizer = nnx.Optimizer(model, optax.adam(5e-4), wrt=nnx.Param)
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.random((BATCH, d)), jnp.float32) for d in MODALITY_DIMS]
    present = jnp.ones((BATCH, 3), bool)
    bound_fn = get_bound(bound)

    @nnx.jit
    def step(model, optimizer, key):
        def loss(model):
            return -jnp.mean(bound_fn(model, xs, present, key))

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return value

    key = jax.random.key(0)
    jax.block_until_ready(step(model, optimizer, key))
    start = time.perf_counter()
    for i in range(steps):
        value = step(model, optimizer, jax.random.fold_in(key, i))
    jax.block_until_ready(value)
    return steps / (time.perf_counter() - start)


def torch_step_rate(steps: int) -> float:
    import torch
    from torch import nn

    torch.manual_seed(0)

    def mlp(*widths, final=None):
        layers = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                layers.append(nn.ReLU())
        return nn.Sequential(*layers, *(final or []))

    class View(nn.Module):
        def __init__(self, *shape):
            super().__init__()
            self.shape = shape

        def forward(self, x):
            return x.reshape(x.shape[0], *self.shape)

    latent = 40
    encoders = nn.ModuleList(
        [
            mlp(784, 400, 400, 80),
            nn.Sequential(
                View(3, 32, 32),
                nn.Conv2d(3, 32, 4, 2, 1),
                nn.ReLU(),
                nn.Conv2d(32, 64, 4, 2, 1),
                nn.ReLU(),
                nn.Conv2d(64, 64, 4, 2, 1),
                nn.ReLU(),
                nn.Conv2d(64, 128, 4, 1, "same"),
                nn.ReLU(),
                nn.Flatten(),
                nn.Linear(2048, 80),
            ),
            nn.Sequential(
                View(8, 71),
                Transpose(),
                nn.Conv1d(71, 128, 1),
                nn.ReLU(),
                nn.Conv1d(128, 128, 4, 2, 1),
                nn.ReLU(),
                nn.Conv1d(128, 128, 4, 2, 0),
                nn.ReLU(),
                nn.Flatten(),
                nn.Linear(128, 80),
            ),
        ]
    )
    decoders = nn.ModuleList(
        [
            mlp(latent, 400, 400, 784, final=[nn.Sigmoid()]),
            nn.Sequential(
                nn.Linear(latent, 128),
                nn.ReLU(),
                View(128, 1, 1),
                nn.ConvTranspose2d(128, 64, 4, 1, 0),
                nn.ReLU(),
                nn.ConvTranspose2d(64, 64, 4, 2, 1),
                nn.ReLU(),
                nn.ConvTranspose2d(64, 32, 4, 2, 1),
                nn.ReLU(),
                nn.ConvTranspose2d(32, 3, 4, 2, 1),
                nn.Flatten(),
            ),
            nn.Sequential(
                nn.Linear(latent, 128),
                nn.ReLU(),
                View(128, 1),
                nn.ConvTranspose1d(128, 128, 4, 1, 0),
                nn.ReLU(),
                nn.ConvTranspose1d(128, 128, 4, 2, 1),
                nn.ReLU(),
                nn.Conv1d(128, 71, 1),
                Transpose(),
                nn.Flatten(),
            ),
        ]
    )
    log_scales = nn.ParameterList([nn.Parameter(torch.zeros(d)) for d in (784, 3072)])
    params = [*encoders.parameters(), *decoders.parameters(), *log_scales]
    optimizer = torch.optim.Adam(params, lr=5e-4)
    xs = [torch.rand(BATCH, d) for d in MODALITY_DIMS]
    weights = (3072 / 784, 1.0, 384.0)

    def loss():
        mask = (torch.rand(BATCH, 3) < 0.5).float()
        experts = [enc(x) for enc, x in zip(encoders, xs)]
        mean = torch.stack([e[:, :latent] for e in experts], 1)
        precision = torch.exp(-2 * torch.stack([e[:, latent:] for e in experts], 1))
        precision = precision * mask[..., None]
        var = 1 / (1 + precision.sum(1))
        mu = var * (precision * mean).sum(1)
        z = mu + var.sqrt() * torch.randn_like(mu)
        log_lik = 0.0
        for s, (dec, x) in enumerate(zip(decoders, xs)):
            out = dec(z)
            if s < 2:
                scale = 1e-3 + torch.exp(log_scales[s])
                ll = (-torch.log(2 * scale) - (x - out).abs() / scale).sum(-1)
            else:
                ll = (x.reshape(BATCH, 8, 71) * out.reshape(BATCH, 8, 71).log_softmax(-1)).sum(
                    (-1, -2)
                )
            log_lik = log_lik + weights[s] * ll
        kl = 0.5 * (var + mu**2 - 1 - var.log()).sum(-1)
        return -(log_lik - kl).mean()

    return torch_steps_per_second(optimizer, loss, steps)


def torch_steps_per_second(optimizer, loss, steps: int) -> float:
    """steps/s of ``loss().backward()`` + ``optimizer.step()`` after one warm-up step."""

    def step():
        optimizer.zero_grad()
        loss().backward()
        optimizer.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps / (time.perf_counter() - start)


class Transpose:  # swaps the last two axes (channels-last <-> PyTorch's channels-first)
    def __new__(cls):
        from torch import nn

        class _Transpose(nn.Module):
            def forward(self, x):
                return x.transpose(-1, -2)

        return _Transpose()


def streaming_table(steps: int, repeats: int) -> None:
    """The streaming trainer's epochs, host batches against data on the device (quick profile:
    ``EXPERIMENTS["mnist_svhn_text"].profiles["quick"]``), on random images of the quick data's
    sizes."""
    from bench_streaming import epoch_seconds, loop_convolution_ms, report

    from mmvae_nb.data.mnist_svhn_text import MnistSvhnText, pair_indices
    from mmvae_nb.experiments.mnist_svhn_text.config import MNIST_SVHN_TEXT

    quick = MNIST_SVHN_TEXT["quick"]
    rng = np.random.default_rng(0)
    mnist_labels, svhn_labels = rng.integers(0, 10, 60_000), rng.integers(0, 10, 30_000)
    pairs = pair_indices(mnist_labels, svhn_labels, dups=quick.data.dups, seed=0)
    full = MnistSvhnText(
        rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8),
        rng.integers(0, 256, (30_000, 32, 32, 3), dtype=np.uint8),
        pairs,
        mnist_labels[pairs[:, 0]],
        "random images",
        "train",
    )
    config = quick.training.train_config(bound="ours", beta=1.0, seed=0)
    for row in quick.grid.rows:
        seconds = epoch_seconds(
            lambda key, row=row: make_mst_model(row, rngs=nnx.Rngs(key)),
            full.subset(steps * config.batch_size),
            config,
            total_steps=config.epochs * (len(full) // config.batch_size),
            repeats=repeats,
        )
        report(f"\nMST {row}, ours, batch {config.batch_size}", seconds, steps)
    alone, scanned = loop_convolution_ms()
    print(
        f"\none strided convolution's gradient step, CPU ms: {alone:.2f} alone, {scanned:.2f} in"
        f" a lax.scan ({scanned / alone:.0f}x)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--streaming", action="store_true")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {os.cpu_count()} CPUs")
    if args.streaming:
        streaming_table(args.steps or 40, args.repeats)
        return
    args.steps = args.steps or 10
    layer_table(repeats=3)
    print(f"\n2. MST PoE training step, batch {BATCH} (steps/s, examples/s)")
    rates = {}
    for bound in ("mixture", "ours"):
        for fast in (False, True):
            rate = jax_step_rate(bound, fast, args.steps)
            rates[bound, fast] = rate
            kind = "per-layer fastest" if fast else "XLA convolutions"
            print(
                f"  JAX {bound:>7} bound, {kind:<16} {rate:6.2f} steps/s  {BATCH * rate:7.0f} ex/s"
            )
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            print("\n3. PyTorch not installed; skipped")
            return
        torch.set_num_threads(os.cpu_count())
        rate = torch_step_rate(args.steps)
        print(
            f"\n3. plain PyTorch {torch.__version__} (mixture-bound structure): {rate:6.2f} steps/s"
        )
        print(
            f"   JAX / PyTorch (mixture bound, fast layers): {rates['mixture', True] / rate:.2f}x"
        )


if __name__ == "__main__":
    main()
