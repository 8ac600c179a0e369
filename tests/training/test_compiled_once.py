"""Programs compiled once per configuration: the subset log-likelihood of every model of one
architecture is one program, and JAX's persistent compilation cache is on as soon as a run is
looked up in the results cache (notebooks that only load models compile their evaluation with
it)."""

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from mmvae_nb.evaluation import likelihood
from mmvae_nb.models.builders import mlp_vae
from mmvae_nb.training.cache import load_cached_run, run_path


def test_subset_log_likelihoods_of_models_of_one_architecture_share_their_programs(key):
    rng = np.random.default_rng(0)
    xs = [jnp.asarray(rng.normal(size=(6, d)), jnp.float32) for d in (3, 4)]
    options = dict(num_particles=4, particles_per_chunk=2, batch_size=3)

    def model(seed):
        return mlp_vae((3, 4), 2, "PoE", rngs=nnx.Rngs(seed), encoder_hidden=(8,))

    first = likelihood.subset_log_likelihoods(model(0), xs, [(0, 1), (1,)], key, **options)
    compiled = likelihood._subset_log_likelihood._cache_size()
    second = model(1)
    table = likelihood.subset_log_likelihoods(second, xs, [(0, 1), (1,)], key, **options)
    assert likelihood._subset_log_likelihood._cache_size() == compiled
    assert not np.allclose(first.value, table.value)

    @jax.jit
    def direct(batch, mask, key):
        return likelihood.importance_sampled_log_likelihood(second, batch, mask, key, 4, 2)

    for subset, value in zip([(0, 1), (1,)], table.value):
        mask = jnp.zeros((3, 2), bool).at[:, list(subset)].set(True)
        values = [
            direct([x[i : i + 3] for x in xs], mask, jax.random.fold_in(key, i // 3))
            for i in (0, 3)
        ]
        np.testing.assert_allclose(value, np.mean(np.concatenate(values)), rtol=1e-6)


def test_looking_a_run_up_in_the_results_cache_turns_the_compilation_cache_on(tmp_path):
    previous = (
        jax.config.jax_compilation_cache_dir,
        jax.config.jax_persistent_cache_min_compile_time_secs,
    )
    try:
        assert load_cached_run(run_path(tmp_path, "k", "digest"), None, None) is None
        assert jax.config.jax_compilation_cache_dir == str(tmp_path / "jax")
        assert jax.config.jax_persistent_cache_min_compile_time_secs == 0.0
        assert (tmp_path / "jax").is_dir()
    finally:
        jax.config.update("jax_compilation_cache_dir", previous[0])
        jax.config.update("jax_persistent_cache_min_compile_time_secs", previous[1])
