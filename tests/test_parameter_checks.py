"""Notebook parameters that papermill injected are checked before any work: an unknown name,
a value of the wrong type and a number out of range are refused with the declared parameters
named (papermill itself only logs unknown names and runs the defaults); a run with other rows,
sizes or seed than its profile's writes under <profile>/partial, never over the published
tables."""

import ast
from pathlib import Path

import nbformat
import papermill
import pytest

from mmvae_nb.experiments.parameters import check_injected_parameters, output_profile

DECLARED = "\n".join(
    [
        'profile: str = "quick"  # p',
        "seed: int = 0  # s",
        "epochs: int = 0  # e",
        "rows: list = []  # r",
    ]
)
NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def _history(injected: str) -> list[str]:
    return ["", "import os", DECLARED, "# Parameters\n" + injected, "check_injected_parameters()"]


def test_declared_parameters_of_their_types_pass():
    check_injected_parameters(_history('profile = "smoke"\nepochs = 3\nrows = "[PoE]"\n'))
    check_injected_parameters(["", DECLARED])  # run by hand: nothing injected


@pytest.mark.parametrize(
    "injected, message",
    [
        ('agregations = "PoE"\n', "unknown parameter 'agregations'"),
        ("beta = 0\n", "unknown parameter 'beta'"),
        ('epochs = "abc"\n', "epochs must be int, got 'abc'"),
        ("epochs = True\n", "epochs must be int, got True"),
        ("seed = -1\n", "seed must be in [0, inf]"),
        ("profile = 3\n", "profile must be str, got 3"),
    ],
)
def test_unknown_mistyped_and_out_of_range_parameters_are_refused(injected, message):
    with pytest.raises(ValueError) as error:
        check_injected_parameters(_history(injected))
    assert message in str(error.value)
    assert "This notebook's parameters: profile (str), seed (int), epochs (int)" in str(error.value)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_notebook_checks_its_parameters_first(notebook):
    """The cell after the parameters: its imports, then the check, before anything else."""
    cells = [c for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code"]
    after = next(i for i, c in enumerate(cells) if "parameters" in c.metadata.get("tags", [])) + 1
    body = ast.parse(cells[after].source).body
    first = next(node for node in body if not isinstance(node, (ast.Import, ast.ImportFrom)))
    assert ast.unparse(first) == "outputs = output_profile(profile, check_injected_parameters())"


def test_a_misspelt_parameter_stops_the_notebook_before_any_training(tmp_path):
    notebook = next(p for p in NOTEBOOKS if p.stem == "03_five_modalities")
    with pytest.raises(papermill.PapermillExecutionError, match="unknown parameter 'agregations'"):
        papermill.execute_notebook(
            str(notebook),
            str(tmp_path / notebook.name),
            parameters={"profile": "smoke", "agregations": "PoE"},
            cwd=str(notebook.parent),
            kernel_name="python3",
            progress_bar=False,
        )


def test_only_a_run_of_the_profile_as_published_writes_its_tables(capsys):
    assert output_profile("quick", {}) == "quick"  # by hand, or make quick
    assert output_profile("quick", {"profile": "quick", "progress": False}) == "quick"
    assert output_profile("quick", {"aggregations": ["PoE"], "epochs": 2}) == "quick/partial"
    assert "aggregations, epochs passed" in capsys.readouterr().out
    assert output_profile("smoke", {"seed": 1}) == "smoke/partial"
