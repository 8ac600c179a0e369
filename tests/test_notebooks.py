"""Every notebook runs end to end under papermill in the smoke profile; papermill reads every
parameter with its help, and list parameters given on the command line as strings work."""

import ast
import json
from pathlib import Path

import nbformat
import papermill
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
# every cell runs, on a grid of one fixed and one learnable scheme per table (each compiles its
# own programs, ~8 s per configuration), with our bound where the notebook's cells do not
# need both; every aggregator x prior x bound takes a step in test_model_combinations.py,
# every model trains for a few steps in test_train.py / test_mst_models.py, and both bounds
# train in test_train.py, test_mst_models.py and notebook 02
SMOKE_GRIDS = {
    "01_linear": {
        "aggregations": ["PoE", "SumPooling"],
        "equivariant_aggregations": ["SumPooling (equivariant)"],
        "bounds": ["ours"],
    },
    "02_aux_label": {"rows": [["PoE", "standard"], ["SumPoolingMixture", "gmm"]]},
    "03_five_modalities": {
        "rows": [["PoE", "standard"], ["SelfAttention", "gmm"]],
        "bounds": ["ours"],
    },
    "04_mnist_svhn_text": {"bounds": ["ours"]},
    "05_relational": {"variants": ["vanilla"]},  # the extended variant: in make quick
}


@pytest.mark.notebook
@pytest.mark.parametrize(
    "notebook",
    NOTEBOOKS,
    ids=[p.stem for p in NOTEBOOKS],
)
def test_notebook_runs_in_smoke_profile(notebook, tmp_path, monkeypatch):
    """The kernel inherits the test processes' XLA flags (tests/conftest.py) and environment:
    its outputs go under tmp_path, and a run over a subset of the grid writes them to
    tables/smoke/partial, never over the profile's own tables."""
    assert set(SMOKE_GRIDS[notebook.stem]) <= set(papermill.inspect_notebook(str(notebook)))
    monkeypatch.setenv("MMVAE_NB_ROOT", str(tmp_path))
    papermill.execute_notebook(
        str(notebook),
        str(tmp_path / notebook.name),
        parameters={"profile": "smoke", "progress": False, **SMOKE_GRIDS[notebook.stem]},
        cwd=str(notebook.parent),
        kernel_name="python3",
        progress_bar=False,
    )
    tables = tmp_path / "tables" / "smoke"
    published = sorted(p.name for p in tables.glob("*.csv"))
    partial = sorted(p.name for p in (tables / "partial").glob("*.csv"))
    subset = bool(SMOKE_GRIDS[notebook.stem])
    assert (not published and partial) if subset else (published and not partial)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_notebooks_have_stripped_outputs_and_a_parameters_cell(notebook):
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert any("parameters" in c.metadata.get("tags", []) for c in code)


def _cells(notebook):
    """The notebook, its parameters cell and the code cell right after it."""
    nb = nbformat.read(notebook, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    index = next(i for i, c in enumerate(code) if "parameters" in c.metadata.get("tags", []))
    return nb, code[index], code[index + 1]


def _assigned(source):
    """(name, annotation, value node) of every assignment in a cell, in order."""
    found = []
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Assign):
            targets = node.targets
        else:
            continue
        annotation = ast.unparse(node.annotation) if isinstance(node, ast.AnnAssign) else None
        found += [(t.id, annotation, node.value) for t in targets if isinstance(t, ast.Name)]
    return found


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_papermill_lists_every_parameter_with_its_help(notebook):
    _, parameters, _ = _cells(notebook)
    names = [name for name, _, _ in _assigned(parameters.source)]
    inferred = papermill.inspect_notebook(str(notebook))
    assert list(inferred) == names  # a line papermill cannot parse is silently dropped
    assert all(inferred[name]["help"].strip() for name in names), inferred


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_parameters_are_typed_literals_one_per_line(notebook):
    _, parameters, _ = _cells(notebook)
    tree = ast.parse(parameters.source)
    lines = [line for line in parameters.source.splitlines() if line.strip()]
    assert len(tree.body) == len(lines)
    inferred = papermill.inspect_notebook(str(notebook))
    for name, annotation, value in _assigned(parameters.source):
        literal = ast.literal_eval(value)  # raises unless the default is a literal
        assert annotation == type(literal).__name__, name
        assert inferred[name]["inferred_type_name"] == annotation


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_imports_cell_shows_whole_claim_texts(notebook):
    nb = nbformat.read(notebook, as_version=4)
    imports = next(
        c for c in nb.cells if c.cell_type == "code" and "import pandas as pd" in c.source
    )
    assert 'pd.set_option("display.max_colwidth", None)' in imports.source


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_list_parameter_is_read_right_after_the_parameters_cell(notebook):
    _, parameters, check = _cells(notebook)
    lists = [name for name, annotation, _ in _assigned(parameters.source) if annotation == "list"]
    read = {
        name: ast.unparse(value.func)
        for name, _, value in _assigned(check.source)
        if isinstance(value, ast.Call)
        and value.args
        and isinstance(value.args[0], ast.Name)
        and value.args[0].id == name
    }
    assert lists and set(read) == set(lists), read
    assert all(func.startswith("as_") for func in read.values()), read


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


# list parameters as `papermill -p NAME VALUE` passes them (strings), with the expected values;
# every other list parameter is passed as the JSON string of its default
COMMAND_LINE = {
    "01_linear": {
        "aggregations": ('["PoE", "SumPooling"]', ("PoE", "SumPooling")),
        "bounds": ("ours", ("ours",)),
    },
    "02_aux_label": {
        "rows": (
            "[[PoE, standard], [SumPooling, gmm]]",
            (("PoE", "standard"), ("SumPooling", "gmm")),
        )
    },
    "03_five_modalities": {"etas": (0.5, (0.5,)), "rows": ('[["MoE", "gmm"]]', (("MoE", "gmm"),))},
    "05_relational": {
        "rows": ('["mrVAE", "MoPoE"]', ("mrVAE", "MoPoE")),
        "variants": ("extended", ("extended",)),
    },
    "04_mnist_svhn_text": {
        "rows": ('["PoE"]', ("PoE",)),
        "private_rows": ("[SumPooling]", ("SumPooling",)),
        "beta_rows": ("PoE+", ("PoE+",)),
    },
}


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_list_parameters_passed_as_strings_on_the_command_line(notebook):
    """`-p rows '["PoE"]'` injects a string; the cell after the parameters turns it into names."""
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    _, parameters, check = _cells(notebook)
    given, expected = {}, {}
    for name, annotation, value in _assigned(parameters.source):
        if annotation == "list":
            default = ast.literal_eval(value)
            given[name], expected[name] = COMMAND_LINE[notebook.stem].get(
                name, (json.dumps(default), _tuples(default))
            )
    nb = load_notebook_node(str(notebook))  # as papermill's command line loads it
    nb = parameterize_notebook(nb, given, kernel_name="python3", language="python")
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    namespace = {}
    for cell in (parameters, injected, check):
        exec(cell.source, namespace)
    assert {name: namespace[name] for name in expected} == expected
