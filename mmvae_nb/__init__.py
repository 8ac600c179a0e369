"""mmvae_nb: a reference JAX reproduction of Hirt, Campolo, Leong, Ortega, *Learning multi-modal
generative models with permutation-invariant encoders and tighter variational bounds* (TMLR 2024).

Layers, bottom to top; a module imports only its own layer and the ones below it
(``tests/test_layers.py`` enforces it):

* ``storage``      paths, the cache directory, atomic writes;
* ``data``         generators and loaders, one module per data set (vendored files in
                   ``datasets/``);
* ``models``       distributions (the ``Posterior`` protocol), networks, ``aggregators`` (one
                   registry declaring each entry's properties), priors, decoders,
                   ``MultimodalVAE`` and its builders;
* ``objectives``   the masked bound (eq. 4-5, Algorithm 1), the mixture bound (eq. 1), rho;
* ``training``     ``loss_fn`` / ``train_step``, the scan trainer (device-resident data, vmapped
                   replicas) and the streaming trainer (host batches), the results cache;
* ``evaluation``   likelihoods (exact linear-Gaussian, importance sampling), MCC,
                   rate/distortion, coherence, classifiers;
* ``sections``     one module per paper section in one shape (``section.Section``): typed
                   configs per profile, the grid of runs, evaluation, table and figure
                   specs, and the paper's claims as data;
* ``reporting``    tables (CSV + Markdown in the paper's layout), figures (with the numbers
                   behind each), the scorecard.

The paper's numbers (``reference/``) are vendored for side-by-side comparison only.
"""
