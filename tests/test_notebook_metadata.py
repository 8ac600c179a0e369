"""The committed notebooks open unmodified in JupyterLab (their kernelspec is the installed
ipykernel's) and keep exercise solutions collapsed in JupyterLab and on the site."""

from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_kernelspec_is_the_installed_kernels(notebook):
    installed = KernelSpecManager().get_kernel_spec("python3")
    kernelspec = nbformat.read(notebook, as_version=4).metadata.kernelspec
    assert kernelspec.name == "python3"
    assert kernelspec.display_name == installed.display_name


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_solutions_hide_their_code_and_outputs(notebook):
    cells = nbformat.read(notebook, as_version=4).cells
    solutions = [c for c in cells if "solution" in c.metadata.get("tags", [])]
    assert solutions
    for cell in solutions:
        assert cell.metadata.jupyter == {"source_hidden": True, "outputs_hidden": True}
        assert "hide-cell" in cell.metadata.tags  # myst-nb: a closed <details> on the site


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_cell_has_an_id(notebook):
    """nbformat 4.5 cells need ids; JupyterLab adds missing ones, marking the notebook modified."""
    cells = nbformat.reads(notebook.read_text(), as_version=nbformat.NO_CONVERT).cells
    ids = [c.get("id") for c in cells]
    assert all(ids) and len(set(ids)) == len(ids)
