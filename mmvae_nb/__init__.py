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
* ``experiments``  ``registry.EXPERIMENTS`` (the one list of experiments), one package per
                   experiment in one shape (``base.Experiment``: typed configs per profile, the
                   grid of runs, evaluation, table and figure specs, the paper's claims as
                   data) and the framework they share (configs, claims engine, specs);
* ``reporting``    tables (CSV + Markdown in the paper's layout), figures (with the numbers
                   behind each), the scorecard;
* ``planning``     the paper profile's trainings as programs, their cost model and GPU plan;
* ``workers``      worker processes with their own environment (several per GPU);
* ``launch``       every training as a job, grouped into programs, on local GPUs or SLURM;
                   ``paper_programs`` and ``gpu_slice`` compile and time the paper's steps;
* ``cli``          ``python -m mmvae_nb list | run <experiment>``.

What a notebook or a user needs is importable from the package itself (``__all__``), loaded
on first use so that ``import mmvae_nb`` stays cheap::

    from mmvae_nb import EXPERIMENTS, run_grid, summarise, publish

The paper's numbers (``reference/``) are vendored for side-by-side comparison only.
"""

from __future__ import annotations

import importlib

# public name -> the module that defines it
_API = {
    "EXPERIMENTS": "mmvae_nb.experiments.registry",
    "experiment": "mmvae_nb.experiments.registry",
    "Run": "mmvae_nb.experiments.base",
    "run_grid": "mmvae_nb.experiments.base",
    "diverged_runs": "mmvae_nb.experiments.base",
    "profile_config": "mmvae_nb.experiments.configs",
    "summarise": "mmvae_nb.experiments.table_specs",
    "as_name_list": "mmvae_nb.experiments.parameters",
    "as_name_pairs": "mmvae_nb.experiments.parameters",
    "as_number_list": "mmvae_nb.experiments.parameters",
    "check_injected_parameters": "mmvae_nb.experiments.parameters",
    "output_profile": "mmvae_nb.experiments.parameters",
    "check_devices": "mmvae_nb.hardware",
    "BOUNDS": "mmvae_nb.objectives.bounds",
    "PRIORS": "mmvae_nb.models.priors",
    "ClaimBlocks": "mmvae_nb.reporting.claim_blocks",
    "publish_figure": "mmvae_nb.reporting.figures",
    "save_figure": "mmvae_nb.reporting.figures",
    "publish": "mmvae_nb.reporting.tables",
    "publish_divergences": "mmvae_nb.reporting.tables",
    "write_csv": "mmvae_nb.reporting.tables",
    "write_timings": "mmvae_nb.reporting.tables",
    "coherence_caption": "mmvae_nb.reporting.captions",
    "paper_table": "mmvae_nb.reference",
}
__all__ = sorted(_API)


def __getattr__(name: str):
    if name not in _API:
        raise AttributeError(f"module 'mmvae_nb' has no attribute {name!r}")
    return getattr(importlib.import_module(_API[name]), name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
