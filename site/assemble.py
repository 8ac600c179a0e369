"""Assemble build/site-src/, the Sphinx source tree of `make site`: site/ (conf, index), the
docs, the notebooks as `make quick` executed them (never re-executed here), and copies of the
files the docs and notebooks link to with relative paths (../mmvae_nb/..., ../tables/quick/...,
../README.md), so that each link resolves inside the site as it does in the repository."""

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "quick"
EXECUTED = ROOT / "build" / PROFILE
OUT = ROOT / "build" / "site-src"
# top-level files that pages link to as ../<name> (a .md one becomes a page, others downloads)
ROOT_FILES = ["README.md", "Makefile", "LICENSE", "CITATION.cff", "pyproject.toml"]
# folders copied whole: link targets and images (the findings' plot in benchmarks/results)
FOLDERS = [f"figures/{PROFILE}", "benchmarks/results", "docs"]


def executed_notebooks() -> list[Path]:
    """The executed copy of each of notebooks/*; exits saying what to run if any is missing."""
    paths = [EXECUTED / p.name for p in sorted((ROOT / "notebooks").glob("0*.ipynb"))]
    missing = [str(p.relative_to(ROOT)) for p in paths if not p.exists()]
    if missing:
        sys.exit(f"make site: {', '.join(missing)} missing: run `make quick` first")
    return paths


def data_of(stem: str) -> Path | None:
    """The CSV a figure was drawn from: same stem, beside it or among the tables."""
    for folder in (f"figures/{PROFILE}", f"tables/{PROFILE}"):
        if (ROOT / folder / f"{stem}.csv").exists():
            return Path(folder) / f"{stem}.csv"
    return None


def figures_page() -> str:
    """Markdown of the page listing every figure with its PDF and data, every table with its
    CSV; the tables' pages sit in its hidden toctree."""
    figures, tables = ROOT / "figures" / PROFILE, ROOT / "tables" / PROFILE
    lines = [
        f"# Figures and tables with their data ({PROFILE} profile)",
        "",
        f"Every figure in `figures/{PROFILE}/` with its PDF and, where one exists, the CSV it was "
        f"drawn from; every table in `tables/{PROFILE}/` with its CSV.",
        "",
        "## Figures",
    ]
    for png in sorted(figures.glob("*.png")):
        rel = f"figures/{PROFILE}/{png.stem}"
        links = [f"[PNG]({rel}.png)"]
        if png.with_suffix(".pdf").exists():
            links.append(f"[PDF]({rel}.pdf)")
        if csv := data_of(png.stem):
            links.append(f"[CSV]({csv.as_posix()})")
        lines += ["", f"### {png.stem}", "", f"```{{image}} {rel}.png", ":width: 720px", "```"]
        lines += ["", " · ".join(links)]
    mds = sorted(tables.glob("*.md"))
    lines += ["", "## Tables", ""]
    for md in mds:
        rel = f"tables/{PROFILE}/{md.stem}"
        csv = f" · [CSV]({rel}.csv)" if md.with_suffix(".csv").exists() else ""
        lines.append(f"- [{md.stem}]({rel}.md){csv}")
    with_md = {md.stem for md in mds}
    lines += ["", "Data without a rendered table:", ""]
    lines += [
        f"- [{csv.name}](tables/{PROFILE}/{csv.name})"
        for csv in sorted(tables.glob("*.csv"))
        if csv.stem not in with_md
    ]
    lines += ["", "```{toctree}", ":hidden:", ""]
    lines += [f"tables/{PROFILE}/{md.stem}" for md in mds]
    return "\n".join(lines + ["```", ""])


def main() -> None:
    notebooks = executed_notebooks()
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    for src in [ROOT / "site" / "conf.py", *(ROOT / "site").glob("*.md")]:
        shutil.copy2(src, OUT)
    for name in ROOT_FILES:
        shutil.copy2(ROOT / name, OUT)
    for folder in FOLDERS:
        shutil.copytree(ROOT / folder, OUT / folder)
    # the library's sources, targets of the notebooks' ../mmvae_nb/... links (downloads)
    for py in (ROOT / "mmvae_nb").rglob("*.py"):
        (OUT / py.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(py, OUT / py.relative_to(ROOT))
    (OUT / "notebooks").mkdir()
    for nb in notebooks:  # solutions carry myst-nb's hide-cell tag: a closed <details>
        shutil.copy2(nb, OUT / "notebooks" / nb.name)
    # the tables: each .md a page, titled by its stem (its first line is a bold caption)
    tables = OUT / "tables" / PROFILE
    tables.mkdir(parents=True)
    for src in sorted((ROOT / "tables" / PROFILE).iterdir()):
        if src.suffix == ".md":
            (tables / src.name).write_text(f"# {src.stem}\n\n{src.read_text()}")
        else:
            shutil.copy2(src, tables)
    (OUT / "figures.md").write_text(figures_page())


if __name__ == "__main__":
    main()
