"""Tables join the paper's on their keys; outputs are byte-stable."""

import hashlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from mmvae_nb.reference import paper_table, read_table
from mmvae_nb.reporting.figures import publish_figure, save_figure
from mmvae_nb.reporting.tables import KEY_COLUMNS, join_paper, write_table


def test_paper_tables_are_vendored_with_the_schema():
    table = paper_table("table01_linear_dense")
    assert list(table.columns) == KEY_COLUMNS + ["mean", "std"]
    assert len(table) == 24


def test_reproduced_table_joins_every_paper_cell(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_ROOT", str(tmp_path))
    paper = paper_table("table01_linear_dense")
    ours = paper.assign(mean=paper["mean"] + 1.0, std=0.1, n_runs=2)
    path = write_table(ours, "table01_linear_dense", "smoke", "test data")
    joined = join_paper(read_table(path), paper)
    assert joined["paper_mean"].notna().all()
    assert ((joined["mean"] - joined["paper_mean"]).round(9) == 1.0).all()
    first = path.read_bytes()
    write_table(ours, "table01_linear_dense", "smoke", "test data")
    assert path.read_bytes() == first
    markdown = (tmp_path / "tables/smoke/table01_linear_dense.md").read_text()
    assert markdown.startswith("**Table 1 — ")
    # ours: one decimal more than the paper prints; the paper's cell as printed, under ours
    assert "| PoE | ours | 1.030 (0.100) |" in markdown
    assert "|  | paper | 0.03 (0.058) |" in markdown


def test_figures_are_byte_identical_on_rerun(tmp_path, monkeypatch):
    monkeypatch.setenv("MMVAE_NB_ROOT", str(tmp_path))

    def draw():
        fig, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        png = save_figure(fig, "figXX", "smoke")
        plt.close(fig)
        return [hashlib.sha256(p.read_bytes()).hexdigest() for p in (png, png.with_suffix(".pdf"))]

    assert draw() == draw()


def test_two_smoke_runs_of_a_section_write_byte_identical_tables_and_figures(tmp_path, monkeypatch):
    """The linear section's pipeline (train from scratch, evaluate, summarise, write the table
    and the rate/distortion figure) twice with the same seed, each into a fresh output root and
    results cache: the CSV, its Markdown rendering and the figures agree byte for byte."""
    from mmvae_nb.experiments.base import run_grid
    from mmvae_nb.experiments.linear import experiment as linear
    from mmvae_nb.experiments.linear import figures as linear_figures
    from mmvae_nb.experiments.table_specs import summarise

    def run(name):
        root = tmp_path / name
        monkeypatch.setenv("MMVAE_NB_ROOT", str(root))
        monkeypatch.setenv("MMVAE_NB_CACHE", str(root / ".cache"))
        experiment = linear.LinearExperiment(profile="smoke", sparse=False, seed=0)
        runs = run_grid(experiment, experiment.grid(["PoE"], ["ours"]), progress=False)
        table = summarise(runs, linear.TABLES["table01_linear_dense"])
        write_table(table, "table01_linear_dense", "smoke", "test")
        spec = linear_figures.FIGURES["fig03_linear_dense_rate_distortion"]
        plt.close(publish_figure(runs, spec, "smoke"))
        outputs = sorted((root / "tables").rglob("*.*")) + sorted((root / "figures").rglob("*.*"))
        return {p.relative_to(root): p.read_bytes() for p in outputs}

    first, second = run("first"), run("second")
    assert len(first) == 5  # table csv, md; figure png, pdf, csv
    assert first == second


def test_the_inventory_names_every_paper_table_and_figure_not_written(tmp_path, monkeypatch):
    from mmvae_nb.reporting import inventory

    monkeypatch.setenv("MMVAE_NB_ROOT", str(tmp_path))
    stems = inventory.expected_tables()
    assert "table16_mst_latent_classification_beta" in stems
    assert "relational_table02_polymnist_fid" in stems and len(stems) == 18
    assert len(inventory.missing_outputs("rehearse")) == 18 + 12
    (tmp_path / "tables" / "rehearse" / f"{stems[0]}.csv").write_text("x")
    (tmp_path / "figures" / "rehearse" / "fig07_aux_label_mixture.png").write_text("x")
    missing = inventory.missing_outputs("rehearse")
    assert f"{stems[0]}.csv" not in missing and "fig07_*.png" not in missing
    assert len(missing) == 18 + 12 - 2
