"""Variational objectives: the paper's masked bound (eq. 4-5, Algorithm 1), the mixture-based
bound (eq. 1), the subset sampler rho (Remark 1) and their sticking-the-landing estimators."""
