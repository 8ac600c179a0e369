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
                   replicas, same-shape trainings as one program) and the streaming trainer
                   (minibatches drawn on the host, gathered on the device where the data fit),
                   the results cache;
* ``evaluation``   likelihoods (exact linear-Gaussian, importance sampling), MCC,
                   rate/distortion, coherence, classifiers;
* ``sections``     one module per paper section in one shape (``section.Section``): typed
                   configs per profile, the grid of runs, evaluation, table and figure
                   specs, and the paper's claims as data;
* ``reporting``    tables (CSV + Markdown in the paper's layout), figures (with the numbers
                   behind each), the scorecard;
* ``planning``     the paper profile's trainings as programs, their cost model and GPU plan;
* ``workers``      worker processes with their own environment (several per GPU);
* ``launch``       every training as a job, grouped into programs, on local GPUs or SLURM;
                   ``paper_programs`` and ``gpu_slice`` compile and time the paper's steps.

The paper's numbers (``reference/``) are vendored for side-by-side comparison only.
"""
