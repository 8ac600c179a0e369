"""Models (flax.nnx): distributions, networks, aggregators, priors, decoders, the multi-modal
VAE and its builders. Imports only ``mmvae_nb.data`` and ``mmvae_nb.storage`` below it."""
