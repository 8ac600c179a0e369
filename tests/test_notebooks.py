"""Every notebook runs end to end under papermill in the smoke profile."""

from pathlib import Path

import nbformat
import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
# smoke runs of these are dominated by XLA compilation, which a cheaper LLVM pipeline halves;
# the MNIST-SVHN-Text notebook is dominated by running convolutions, which it slows 4x
COMPILE_BOUND = {"01_linear", "02_auxiliary_label", "03_five_modalities"}


@pytest.mark.notebook
@pytest.mark.parametrize(
    "notebook",
    [pytest.param(p, marks=pytest.mark.xdist_group(p.stem)) for p in NOTEBOOKS],
    ids=[p.stem for p in NOTEBOOKS],
)
def test_notebook_runs_in_smoke_profile(notebook, tmp_path, monkeypatch):
    if notebook.stem in COMPILE_BOUND:
        monkeypatch.setenv("XLA_FLAGS", "--xla_backend_optimization_level=0")
    papermill.execute_notebook(
        str(notebook),
        str(tmp_path / notebook.name),
        parameters={"profile": "smoke", "progress": False},
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebooks_have_stripped_outputs_and_a_parameters_cell(notebook):
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert any("parameters" in c.metadata.get("tags", []) for c in code)
