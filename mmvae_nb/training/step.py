"""The one loss and optimisation step shared by both trainers (flax-examples style).

``trainer.train_replicas`` calls ``train_step`` inside a ``lax.scan`` over device-resident
minibatches (vmapped over replicas); ``streaming.train_streaming`` runs it on each epoch's
minibatches, gathered on the device or assembled on the host (``streamed_epochs``). The
optimiser is the official code's (``make_optimizer``): NaN gradients zeroed,
element-wise gradient clipping (``optax.clip``) of the batch-summed loss's gradient, then Adam
with a constant learning rate (App. M) or a cosine decay (``cosine_schedule``, App. P: 5e-4 ->
1e-4 for MNIST-SVHN-Text); which, with which settings, is ``optim.OptimConfig``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import optax
from flax import nnx

from mmvae_nb.objectives.bounds import get_bound

# what the clipping threshold applies to: the gradient of the loss summed over the batch (the
# official code) or of its mean (``loss_fn``, what this project minimises)
CLIP_ON = ("batch_sum", "batch_mean")


def check_clip_on(clip_on: str) -> None:
    if clip_on not in CLIP_ON:
        raise ValueError(f"unknown clip_on {clip_on!r}; choose one of {list(CLIP_ON)}")


def make_optimizer(
    clip_value: float,
    learning_rate=1e-3,
    *,
    clip_on: str = "batch_mean",
    batch_size: int = 1,
    zero_nan_gradients: bool = False,
) -> optax.GradientTransformation:
    """NaN gradients set to 0 (``zero_nan_gradients``), element-wise clipping to
    ``[-clip_value, clip_value]``, then Adam, on the gradient of ``loss_fn`` (the batch mean).

    ``clip_on="batch_sum"`` first multiplies that gradient by ``batch_size``: it is then the
    gradient of the loss summed over the batch, which the official code clips and feeds to Adam
    (``optax.chain(optax.zero_nans(), optax.clip(100.0), optax.adam(lr))`` on
    ``jnp.sum(loss)``: ``gaussian_simulations.py:263-267``, ``iVAE_bimodal_simulation.py:456-460``,
    ``iVAE_multimodal_simulation.py:515-519``, ``multimodal_vae.py:669`` of
    marcelah/MaskedMultimodalVAE@4727856). The updates are the official ones exactly (Adam's eps
    included); the threshold binds at ``clip_value / batch_size`` on the mean's gradient.
    ``clip_on="batch_mean"`` clips the mean's gradient itself.

    ``learning_rate`` is a float, a traced scalar (``train_replicas`` traces it so that changing
    it does not recompile) or an optax schedule (``cosine_schedule``)."""
    check_clip_on(clip_on)
    transforms = [optax.scale(batch_size)] if clip_on == "batch_sum" else []
    if zero_nan_gradients:
        transforms.append(optax.zero_nans())
    transforms += [optax.clip(clip_value), optax.adam(learning_rate)]
    return optax.chain(*transforms)


def cosine_schedule(
    learning_rate: float, final_learning_rate: float, total_steps: int, warmup_steps: int = 0
):
    """Cosine decay from ``learning_rate`` at the first of ``total_steps`` steps to
    ``final_learning_rate`` at the last (App. P: 5e-4 -> 1e-4). Step t (counting from 0) uses
    ``schedule(t)`` (optax's convention), so the decay spans ``total_steps - 1`` intervals.

    ``warmup_steps`` > 0 (not in the paper) first raises the rate linearly from 0 to
    ``learning_rate`` over that many steps and decays over the rest: Adam's first steps move
    every parameter by about one learning rate in a concerted direction, which on
    MNIST-SVHN-Text can blow up a learnable aggregator's posterior scale within a few steps
    (``benchmarks/diagnose_mst.py``)."""
    alpha = final_learning_rate / learning_rate
    if warmup_steps <= 0:
        return optax.cosine_decay_schedule(learning_rate, max(total_steps - 1, 1), alpha=alpha)
    if warmup_steps >= total_steps - 1:
        raise ValueError(f"warmup_steps={warmup_steps} leaves no decay in {total_steps} steps")
    return optax.warmup_cosine_decay_schedule(
        0.0, learning_rate, warmup_steps, total_steps - 1, end_value=final_learning_rate
    )


def loss_fn(
    params, consts, graphdef, bound: str, xs, present, key, beta, subset_sampler="hierarchical"
):
    """Loss = -mean_b L(x_b), L the bound named by `bound` (ours: eq. 4-5 / Algorithm 1;
    mixture: eq. 1) with S ~ rho named by ``subset_sampler`` (``objectives.subsets``).

    ``params``/``consts``: the model's ``nnx.Param`` and remaining state, merged with
    ``graphdef``; ``xs``: list of (B, D_s) arrays; ``present``: (B, M) bool; ``beta``: the KL
    weight."""
    model = nnx.merge(graphdef, params, consts)
    return -jnp.mean(get_bound(bound)(model, xs, present, key, beta, subset_sampler))


def train_step(
    params,
    opt_state,
    consts,
    xs,
    present,
    key,
    beta,
    *,
    graphdef,
    bound,
    optimizer,
    subset_sampler="hierarchical",
):
    """One Adam step on ``loss_fn``: returns ``(params, opt_state, loss)``, the loss being the one
    before the update. Pure; jit it (``graphdef``, ``bound``, ``optimizer``, ``subset_sampler``
    static) or call it inside a jitted scan."""
    loss, grads = jax.value_and_grad(loss_fn)(
        params, consts, graphdef, bound, xs, present, key, beta, subset_sampler
    )
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss


def configured_step(graphdef, config, optimizer):
    """``train_step`` with ``config``'s bound and subset sampler, ``graphdef`` and ``optimizer``
    bound: ``step(params, opt_state, consts, xs, present, key, beta)``, what both trainers (and
    ``training.programs``) run."""
    return functools.partial(
        train_step,
        graphdef=graphdef,
        bound=config.bound,
        optimizer=optimizer,
        subset_sampler=config.subset_sampler,
    )
