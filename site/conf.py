"""Sphinx configuration of the site (`make site`): the executed notebooks as they are and the
docs, built offline (MathJax from the sphinx-mathjax-offline wheel, no CDN)."""

project = "mmvae_nb"
author = "mmvae_nb contributors"
html_title = "mmvae_nb: executed notebooks and docs"

extensions = ["myst_nb", "sphinx-mathjax-offline"]

# render the notebooks that `make quick` executed; never run a kernel here
nb_execution_mode = "off"
# myst-nb loads the ipywidgets manager from a CDN on pages with widget state: none, offline
nb_ipywidgets_js = {}
myst_enable_extensions = ["dollarmath", "amsmath"]
# `docs/architecture.md#profiles`-style links from the README and the docs
myst_heading_anchors = 4

exclude_patterns = ["_build", "**/.ipynb_checkpoints"]

html_theme = "sphinx_book_theme"
# the theme's mode when the reader has chosen none (left empty, its script logs a console error)
html_context = {"default_mode": "light"}
