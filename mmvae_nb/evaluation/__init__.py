"""Evaluation of trained models: exact linear-Gaussian and importance-sampled likelihoods
(App. L), MCC, rate/distortion terms (eq. 6), conditional coherence and latent classification,
and the coherence classifiers (MoPoE's architectures)."""
