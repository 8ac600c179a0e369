"""JAX next to plain PyTorch on this machine, in one process: training steps/s of the same
models with the same batch and optimiser, plus the linear step's achieved GFLOP/s and the
model-steps/s of vmapped seeds.

    python benchmarks/bench_torch.py [--steps 50] [--mst-steps 10]

Needs the optional ``bench`` extra (``pip install -e '.[bench]'``; PyTorch's CPU wheel is
enough: ``pip install torch --index-url https://download.pytorch.org/whl/cpu``); with
``multivae`` installed too it also times MultiVae's MVAE on (a).

(a) Linear section, PoE (Table 17: 5 modalities of width 60, encoders 60-512-512-60, latent 30,
    linear-Gaussian decoders), batch 500, Adam 1e-3.
(b) MNIST-SVHN-Text PoE (Tables 21-22), batch 250, Adam 5e-4 (``bench_mst``'s models).
Both PyTorch versions have the mixture bound's structure (one subset S ~ rho per example, one
reparameterised sample from q(z | x_S), all present modalities decoded, sticking-the-landing
KL estimate), and JAX runs the same bound (``bounds.mixture_bound``).
(c) GFLOP/s of the linear JAX step (XLA's cost analysis of the compiled step x steps/s) against
    a 2048 x 2048 float32 matmul measured in the same run.
(d) model-steps/s of the library's trainer (``train.train_replicas``, as ``bench_linear``) for
    5 seeds (data sets and initialisations) of the linear PoE model vmapped into one program,
    against one model (5 sequential runs have the one-model rate).
Prints; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from bench_mst import jax_step_rate, torch_step_rate, torch_steps_per_second
from flax import nnx

from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.objectives.bounds import mixture_bound

MODALITIES, WIDTH, LATENT, HIDDEN, BATCH = 5, 60, 30, 512, 500


def linear_poe(seed: int):
    """The linear section's PoE model at the paper's sizes (``LinearExperiment`` pads every
    modality to the widest, 60)."""
    return mlp_vae(
        (WIDTH,) * MODALITIES,
        LATENT,
        "PoE",
        rngs=nnx.Rngs(seed),
        encoder_hidden=(HIDDEN, HIDDEN),
        noise_std=1.0,
    )


def linear_batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    xs = [jnp.asarray(rng.normal(size=(BATCH, WIDTH)), jnp.float32) for _ in range(MODALITIES)]
    return xs, jnp.ones((BATCH, MODALITIES), bool)


def functional_step(model, learning_rate):
    """(pure step(state, key) -> (state, loss), initial state) for ``model`` with Adam."""
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)
    graphdef, state = nnx.split((model, optimizer))
    xs, present = linear_batch()

    def step(state, key):
        model, optimizer = nnx.merge(graphdef, state)

        def loss(model):
            return -jnp.mean(mixture_bound(model, xs, present, key))

        value, grads = nnx.value_and_grad(loss)(model)
        optimizer.update(model, grads)
        return nnx.state((model, optimizer)), value

    return step, state


def run_steps(step, state, steps: int, keys) -> float:
    """Seconds for ``steps`` calls after one warm-up (compilation) call."""
    state, value = step(state, keys[0])
    jax.block_until_ready(value)
    start = time.perf_counter()
    for i in range(steps):
        state, value = step(state, keys[i % len(keys)])
    jax.block_until_ready(value)
    return time.perf_counter() - start


def jax_linear(steps: int):
    """(steps/s, GFLOP per step) of the linear PoE step."""
    step, state = functional_step(linear_poe(0), 1e-3)
    keys = jax.random.split(jax.random.key(0), 16)
    # one compilation, timed and cost-analysed (calling the jitted function would compile again)
    compiled = jax.jit(step, donate_argnums=0).lower(state, keys[0]).compile()
    flops = compiled.cost_analysis()["flops"]
    return steps / run_steps(compiled, state, steps, keys), flops / 1e9


def matmul_gflops(n: int = 2048, repeats: int = 20) -> float:
    a = jnp.asarray(np.random.default_rng(0).normal(size=(n, n)), jnp.float32)
    matmul = jax.jit(lambda a, b: a @ b)
    jax.block_until_ready(matmul(a, a))
    start = time.perf_counter()
    for _ in range(repeats):
        out = matmul(a, a)
    jax.block_until_ready(out)
    return 2 * n**3 * repeats / (time.perf_counter() - start) / 1e9


def torch_linear(steps: int) -> float:
    """steps/s of the same linear PoE model and mixture-bound step in plain PyTorch."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    encoders = nn.ModuleList(
        nn.Sequential(
            nn.Linear(WIDTH, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, HIDDEN),
            nn.ReLU(),
            nn.Linear(HIDDEN, 2 * LATENT),
        )
        for _ in range(MODALITIES)
    )
    decoders = nn.ModuleList(nn.Linear(LATENT, WIDTH) for _ in range(MODALITIES))
    params = [*encoders.parameters(), *decoders.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    xs = [torch.randn(BATCH, WIDTH) for _ in range(MODALITIES)]
    log_2pi = float(np.log(2 * np.pi))

    def loss():
        gamma = torch.rand(BATCH, 1)
        mask = (torch.rand(BATCH, MODALITIES) < gamma).float()  # S ~ rho (Remark 1)
        experts = torch.stack([enc(x) for enc, x in zip(encoders, xs)], 1)
        mean, log_std = experts[..., :LATENT], experts[..., LATENT:]
        precision = torch.exp(-2 * log_std) * mask[..., None]
        var = 1 / (1 + precision.sum(1))  # N(0, I) prior expert
        mu = var * (precision * mean).sum(1)
        z = mu + var.sqrt() * torch.randn_like(mu)
        log_lik = sum(
            (-0.5 * (log_2pi + (x - dec(z)) ** 2)).sum(-1) for dec, x in zip(decoders, xs)
        )
        mu_stop, var_stop = mu.detach(), var.detach()  # sticking the landing
        log_q = (-0.5 * (log_2pi + var_stop.log() + (z - mu_stop) ** 2 / var_stop)).sum(-1)
        log_p = (-0.5 * (log_2pi + z**2)).sum(-1)
        return -(log_lik - (log_q - log_p)).mean()

    return torch_steps_per_second(optimizer, loss, steps)


def multivae_linear(steps: int) -> float | None:
    """steps/s of MultiVae's MVAE (PoE with a prior expert) with the same encoders, linear
    decoders, batch and optimiser, trained on its joint ELBO only (``use_subsampling=False``:
    one encoder and decoder pass per step, as in our step; with subsampling it would also
    re-encode the 5 unimodal subsets). None when ``multivae`` is not installed."""
    try:
        import torch
        from multivae.data.datasets.base import MultimodalBaseDataset
        from multivae.models import MVAE, MVAEConfig
        from pythae.models.base.base_utils import ModelOutput
        from pythae.models.nn.base_architectures import BaseDecoder, BaseEncoder
    except ImportError:
        return None
    from torch import nn

    class Encoder(BaseEncoder):
        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Linear(WIDTH, HIDDEN),
                nn.ReLU(),
                nn.Linear(HIDDEN, HIDDEN),
                nn.ReLU(),
                nn.Linear(HIDDEN, 2 * LATENT),
            )

        def forward(self, x):
            mean, log_std = self.net(x).chunk(2, -1)
            return ModelOutput(embedding=mean, log_covariance=2 * log_std)

    class Decoder(BaseDecoder):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(LATENT, WIDTH)

        def forward(self, z):
            return ModelOutput(reconstruction=self.linear(z))

    torch.manual_seed(0)
    names = [f"m{s}" for s in range(MODALITIES)]
    config = MVAEConfig(
        n_modalities=MODALITIES,
        latent_dim=LATENT,
        input_dims={name: (WIDTH,) for name in names},
        use_subsampling=False,
        warmup=0,
    )
    model = MVAE(
        config,
        encoders={name: Encoder() for name in names},
        decoders={name: Decoder() for name in names},
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    batch = MultimodalBaseDataset(data={name: torch.randn(BATCH, WIDTH) for name in names})

    return torch_steps_per_second(optimizer, lambda: model(batch, epoch=1).loss, steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="linear-model steps per timing")
    parser.add_argument("--mst-steps", type=int, default=10, help="MST steps per timing")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(os.cpu_count())
    from bench_linear import measure

    print(f"jax {jax.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs")
    peak = matmul_gflops()
    jax_rate, gflop = jax_linear(args.steps)
    torch_rate = torch_linear(args.steps)
    multivae_rate = multivae_linear(args.steps)
    trainer = {r: measure("PoE", "mixture", r, 5, HIDDEN)["model_steps_per_s"] for r in (1, 5)}
    mst_jax = jax_step_rate("mixture", True, args.mst_steps)
    mst_torch = torch_step_rate(args.mst_steps)
    rows = [
        ("(a) linear PoE, batch 500", jax_rate, torch_rate),
        ("(b) MST PoE, batch 250", mst_jax, mst_torch),
    ]
    print(f"\n{'mixture-bound step':<28}{'JAX steps/s':>12}{'PyTorch':>10}{'JAX/PyTorch':>13}")
    for name, ours, theirs in rows:
        print(f"{name:<28}{ours:>12.1f}{theirs:>10.1f}{ours / theirs:>12.2f}x")
    if multivae_rate is None:
        print("MultiVae not installed (pip install multivae): its MVAE skipped")
    else:
        print(
            f"(a) MultiVae MVAE, joint ELBO: {multivae_rate:.1f} steps/s; "
            f"JAX / MultiVae {jax_rate / multivae_rate:.2f}x"
        )
    achieved = gflop * jax_rate
    print(
        f"\n(c) linear step: {gflop:.3f} GFLOP (XLA cost analysis) x {jax_rate:.1f} steps/s = "
        f"{achieved:.0f} GFLOP/s; 2048^2 float32 matmul: {peak:.0f} GFLOP/s "
        f"({achieved / peak:.0%} of it)"
    )
    print(
        f"(d) linear PoE, library trainer: 5 seeds vmapped {trainer[5]:.1f} model-steps/s, one "
        f"model {trainer[1]:.1f} ({trainer[5] / trainer[1]:.2f}x)"
    )


if __name__ == "__main__":
    main()
