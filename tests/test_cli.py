"""``python -m mmvae_nb``: ``list`` reads the registry, ``run`` finds an experiment by its name or
its notebook and passes parameters as papermill's ``-p`` does."""

import subprocess
import sys

import pytest

from mmvae_nb import cli
from mmvae_nb.experiments.registry import EXPERIMENTS


def test_list_names_every_experiment_with_its_notebook_and_tables(capsys):
    cli.main(["list"])
    out = capsys.readouterr().out
    for entry in EXPERIMENTS.values():
        assert f"{entry.name:16s} {entry.notebook}" in out
        assert all(table in out for table in entry.tables)


def test_an_experiment_is_found_by_its_name_or_its_notebook():
    assert cli.find("aux_label") is cli.find("02_aux_label") is EXPERIMENTS["aux_label"]
    with pytest.raises(SystemExit, match="unknown experiment 'auxiliary_label'"):
        cli.find("auxiliary_label")


def test_parameters_are_python_literals_or_text():
    assert cli.parameter_value("4") == 4 and cli.parameter_value("[1, 2]") == [1, 2]
    assert cli.parameter_value("PoE") == "PoE" and cli.parameter_value("True") is True


def test_the_module_runs_as_a_command():
    done = subprocess.run(
        [sys.executable, "-m", "mmvae_nb", "run", "nothing", "--profile", "smoke"],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0 and "unknown experiment 'nothing'" in done.stderr
