"""The paper-layout Markdown of a reproduced table: every cell once, grids no wider than
``MAX_COLUMNS`` (wide tables split per bound), a bound that each row has alone as a row label."""

import pytest

from mmvae_nb.reference import paper_table
from mmvae_nb.reporting.layout import MAX_COLUMNS, render_paper_layout
from mmvae_nb.reporting.tables import table_spec


def _grids(markdown):
    """Each Markdown grid as (header cells, body rows of cells)."""
    grids, lines = [], [line for line in markdown.splitlines() if line.startswith("|")]
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if set(line) <= {"|", "-"}:
            continue
        if not grids or len(cells) != len(grids[-1][0]) or cells[0] == grids[-1][0][0] != "":
            grids.append((cells, []))
        else:
            grids[-1][1].append(cells)
    return grids


@pytest.mark.parametrize(
    "name",
    [
        "table04_mst_coherence_unimodal",  # 18 columns per bound in the paper
        "table10_mst_coherence_bimodal",
        "table07_aux_label",
        "relational_table01_polymnist_coherence",
        "table01_linear_dense",
    ],
)
def test_every_cell_appears_once_in_grids_no_wider_than_the_limit(name):
    ours = paper_table(name).assign(n_runs=1)
    ours["mean"] = range(len(ours))  # distinct values, printed as "k.000..."
    markdown = render_paper_layout(ours, name, table_spec(name))
    grids = _grids(markdown)
    assert all(len(header) <= MAX_COLUMNS for header, _ in grids)
    printed = [
        cell
        for header, body in grids
        for row in body
        if "ours" in row
        for cell in row[row.index("ours") + 1 :]
        if cell
    ]
    assert sorted(float(c.split(" ")[0]) for c in printed) == list(range(len(ours)))


def test_a_bound_that_each_row_has_alone_is_a_row_label():
    name = "relational_table01_polymnist_coherence"
    ours = paper_table(name).assign(n_runs=1)
    (header, body), *rest = _grids(render_paper_layout(ours, name, table_spec(name)))
    assert not rest and header[:2] == ["aggregation", "bound"]
    assert {row[1] for row in body if "ours" in row} == {"mrVAE ELBO", "MoPoE objective"}
