"""Discrete choices with straight-through gradients (the relational model, App. E.1-E.2).

* ``gumbel_softmax_st``: a categorical draw by the Gumbel-max trick, one-hot in the forward pass,
  with the gradient of its Gumbel-softmax relaxation (Jang et al. 2016; Maddison et al. 2016;
  straight-through, Bengio et al. 2013);
* ``neural_sort``: Grover et al. (2019), eq. (4): the relaxed sorting permutation
      P[i, :] = softmax(((d + 1 - 2 i) s - A_s 1) / tau),  A_s[j, k] = |s_j - s_k|, i = 1..d,
  whose rows tend to the one-hot rows of the permutation that sorts s decreasingly as tau -> 0;
* ``gumbel_top_k_st``: a draw of an ordered selection without replacement from the
  Plackett-Luce distribution with scores s, by sorting s + Gumbel noise (Gumbel-top-k; Kool et
  al. 2020; Xie & Ermon 2019), hard in the forward pass with NeuralSort's gradient;
* ``plackett_luce_place_log_probs``: the log-probability of each place of such a draw given
  the places before it (their sum over the first k places: that of an ordered k-selection).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def straight_through(hard, soft):
    """``hard`` in the forward pass, the gradient of ``soft`` in the backward pass."""
    return soft + jax.lax.stop_gradient(hard - soft)


def gumbel_softmax_st(key, logits, temperature: float):
    """A one-hot draw from Categorical(softmax(logits)) over the last axis with the
    Gumbel-softmax gradient at ``temperature``: (one_hot, index)."""
    noisy = logits + jax.random.gumbel(key, logits.shape, logits.dtype)
    index = jnp.argmax(noisy, axis=-1)
    hard = jax.nn.one_hot(index, logits.shape[-1], dtype=logits.dtype)
    return straight_through(hard, jax.nn.softmax(noisy / temperature, axis=-1)), index


def neural_sort(scores, temperature: float):
    """NeuralSort's relaxed permutation matrix (Grover et al. 2019, eq. 4): scores (..., d) ->
    (..., d, d); row i (0-based) tends to the one-hot of the (i + 1)-th largest score."""
    d = scores.shape[-1]
    pairwise = jnp.abs(scores[..., :, None] - scores[..., None, :])  # A_s
    row_sums = jnp.sum(pairwise, axis=-1)  # A_s 1
    ranks = d + 1 - 2 * (jnp.arange(d, dtype=scores.dtype) + 1)  # d + 1 - 2 i, i = 1..d
    logits = ranks[:, None] * scores[..., None, :] - row_sums[..., None, :]
    return jax.nn.softmax(logits / temperature, axis=-1)


def gumbel_top_k_st(key, scores, temperature: float):
    """An ordered draw without replacement from Plackett-Luce(scores) over the last axis:
    (permutation matrix (..., d, d), hard in the forward pass with NeuralSort's gradient of the
    Gumbel-perturbed scores; order (..., d), the indices in the order drawn)."""
    noisy = scores + jax.random.gumbel(key, scores.shape, scores.dtype)
    order = jnp.argsort(-noisy, axis=-1)
    hard = jax.nn.one_hot(order, scores.shape[-1], dtype=scores.dtype)
    return straight_through(hard, neural_sort(noisy, temperature)), order


def plackett_luce_place_log_probs(scores, order):
    """log P(place i of ``order`` | places < i) under Plackett-Luce(scores), for every place:
    s_{order_i} - logsumexp_{j not in order_<i} s_j -> (..., d). The sum over the first k
    places is the log-probability of the ordered k-selection order_<k."""
    picked = jnp.take_along_axis(scores, order, axis=-1)  # scores in drawn order
    # logsumexp over the not-yet-drawn: a reverse cumulative logsumexp of the drawn order
    remaining = jax.lax.cumlogsumexp(picked, axis=picked.ndim - 1, reverse=True)
    return picked - remaining
