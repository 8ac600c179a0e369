"""The papers' printed numbers, vendored (``PAPER_TABLES.md`` says where each comes from).

Every table is one CSV in the results' schema (``reporting.tables``): key columns
``table,block,bound,aggregation,beta,prior,metric,target,inputs``, then ``mean`` and ``std``
as printed (no std where the paper prints none). The claims engine (``experiments.claims``) reads
them to say whether the paper's own numbers support its sentences; the reporting layer joins
them to ours.
"""

from __future__ import annotations

import re
from importlib import resources

import pandas as pd

# a paper table's file name, e.g. table01_linear_dense.csv, relational_table02_polymnist_fid.csv
TABLE_FILE = re.compile(r"(relational_)?table\d\d_.+\.csv")


def read_table(source) -> pd.DataFrame:
    """A table in the results' schema from a CSV path or file: ``target`` and ``inputs`` as
    strings, "" where empty (so that they join on equal keys)."""
    table = pd.read_csv(source, dtype={"target": str, "inputs": str})
    return table.fillna({"target": "", "inputs": ""})


def open_paper_table(name: str):
    """The vendored paper table ``name`` (``mmvae_nb/reference/<name>.csv``), opened as text."""
    return resources.files(__name__).joinpath(f"{name}.csv").open()


def paper_table(name: str) -> pd.DataFrame:
    """A vendored paper table by file stem, e.g. ``"table01_linear_dense"``."""
    with open_paper_table(name) as f:
        return read_table(f)


def paper_tables() -> dict[str, pd.DataFrame]:
    """Every vendored table of both papers, by file stem."""
    names = sorted(p.name for p in resources.files(__name__).iterdir())
    return {name[:-4]: paper_table(name[:-4]) for name in names if TABLE_FILE.fullmatch(name)}
