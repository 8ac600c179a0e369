"""``experiments.registry.EXPERIMENTS`` is the one list of experiments: every consumer reads it,
no module or Makefile line lists the experiments again, and each entry is whole (notebook,
tables, claims on its own outputs)."""

import ast
import json
import re
from pathlib import Path

import pytest

from mmvae_nb import cli, launch
from mmvae_nb.experiments.linear.claims import TRAINING_TIME
from mmvae_nb.experiments.registry import (
    EXPERIMENTS,
    check_names,
    experiment,
    paper_claims,
    table_spec,
)

ROOT = Path(__file__).resolve().parents[2]
NAMES = set(EXPERIMENTS)
REGISTRY = ROOT / "mmvae_nb" / "experiments" / "registry.py"


def _stray_literals(path: Path, kinds=(ast.Tuple, ast.List, ast.Set, ast.Dict)) -> list[str]:
    """Literals of ``kinds`` in ``path`` that name three or more experiments."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, kinds):
            continue
        elements = node.keys if isinstance(node, ast.Dict) else node.elts
        named = {e.value for e in elements if isinstance(e, ast.Constant) and e.value in NAMES}
        if len(named) >= 3:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {sorted(named)}")
    return found


def test_no_module_lists_the_experiments_but_the_registry():
    library = [p for p in (ROOT / "mmvae_nb").rglob("*.py") if p != REGISTRY]
    stray = [hit for path in library for hit in _stray_literals(path)]
    # a script may key its own parameters by experiment, never list them
    scripts = [*(ROOT / "benchmarks").glob("*.py"), *(ROOT / "scripts").glob("*.py")]
    sequences = (ast.Tuple, ast.List, ast.Set)
    stray += [hit for path in scripts for hit in _stray_literals(path, sequences)]
    assert not stray, f"experiments listed outside the registry: {stray}"


def test_the_makefile_lists_no_experiments():
    lines = (ROOT / "Makefile").read_text().splitlines()
    words = [(k, set(re.findall(r"[a-z_]+", line)) & NAMES) for k, line in enumerate(lines, 1)]
    stray = [f"Makefile:{k}" for k, named in words if len(named) >= 3]
    assert not stray, f"the Makefile lists experiments (use $(EXPERIMENTS)): {stray}"


def test_one_name_per_experiment_its_notebook_and_make_target():
    notebooks = {p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert notebooks == {e.notebook for e in EXPERIMENTS.values()}
    for name, entry in EXPERIMENTS.items():
        assert entry.name == name and re.fullmatch(rf"\d\d_{name}\.ipynb", entry.notebook)
    rules = cli.make_rules()
    assert all(f"{e.name}: build/$(PROFILE)/{e.notebook}" in rules for e in EXPERIMENTS.values())
    order = re.search(r"EXPERIMENTS := (.*)", rules).group(1).split()
    assert sorted(order) == sorted(NAMES)


def test_every_table_belongs_to_one_experiment_and_is_found():
    owners: dict[str, list[str]] = {}
    for entry in EXPERIMENTS.values():
        for table in entry.tables:
            owners.setdefault(table, []).append(entry.name)
            assert table_spec(table) is entry.tables[table]
    assert all(len(names) == 1 for names in owners.values()), owners
    with pytest.raises(ValueError, match="no experiment makes a table named 'table99'"):
        table_spec("table99")


def test_each_experiment_s_claims_read_only_its_own_outputs():
    for entry in EXPERIMENTS.values():
        own = set(entry.tables) | set(entry.figures)
        for claim in entry.claims:
            assert set(claim.sources) <= own | {TRAINING_TIME}, (entry.name, claim.id)
    ids = [claim.id for claim in paper_claims()]
    assert len(ids) == len(set(ids)) == 50


def test_unknown_names_are_refused_with_the_known_ones():
    with pytest.raises(ValueError, match=r"unknown experiment 'auxiliary_label'.*'aux_label'"):
        experiment("auxiliary_label")
    with pytest.raises(ValueError, match="unknown experiments"):
        check_names(["linear", "identifiable"])
    assert check_names([]) == list(EXPERIMENTS)


@pytest.mark.parametrize("name", ["aux_label", "mnist_svhn_text"])
def test_the_launcher_runs_exactly_the_registry_s_trainings(name):
    entry = EXPERIMENTS[name]
    jobs = launch.jobs([name], "smoke")
    assert [(j.setting, j.run) for j in jobs] == entry.trainings("smoke")
    assert all(j.section == name for j in jobs)
    if name == "mnist_svhn_text":  # a repetition is a Run field: no special case in the launcher
        reps = entry.config("smoke").training.repetitions
        assert {j.run.repetition for j in jobs} == set(range(reps))


def _notebook_defaults(notebook: str) -> dict:
    """The parameters cell of ``notebooks/<notebook>``: name -> default value."""
    cells = json.loads((ROOT / "notebooks" / notebook).read_text())["cells"]
    (cell,) = [c for c in cells if "parameters" in c["metadata"].get("tags", [])]
    tree = ast.parse("".join(cell["source"]))
    return {
        n.target.id: ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.AnnAssign)
    }


def test_the_notebooks_defaults_train_what_the_registry_gives_the_launcher():
    """A notebook's grid parameters default to its experiment's own (or to ``[]``: the
    profile's), so that with its defaults it asks for the trainings the launcher ran and finds
    them in the cache instead of retraining quietly."""
    from mmvae_nb.experiments.identifiable.experiment import ROWS
    from mmvae_nb.experiments.linear.experiment import AGGREGATIONS, EQUIVARIANT_AGGREGATIONS
    from mmvae_nb.objectives.bounds import BOUND_NAMES

    own = {
        "aggregations": list(AGGREGATIONS),
        "equivariant_aggregations": list(EQUIVARIANT_AGGREGATIONS),
        "bounds": list(BOUND_NAMES),
        "rows": [list(row) for row in ROWS],
    }
    for entry in EXPERIMENTS.values():
        defaults = _notebook_defaults(entry.notebook)
        for name, value in defaults.items():
            if isinstance(value, list) and value and name in own:
                assert value == own[name], (entry.notebook, name)
        if "etas" in defaults:  # trained together: the profile's missing rates
            assert tuple(defaults["etas"]) == entry.profiles["quick"].data.etas
