"""Every code path README.md and docs/**/*.md name exists; every `file.py::name` is defined.

A pointer is a backticked token (`mmvae_nb/objectives/bounds.py`, `objectives/subsets.py`,
`bounds.py::masked_bound`, `tests/objectives/test_bounds.py::test_x`, `docs/results.md`) or the
target of a markdown link ([text](docs/performance.md), [text](../mmvae_nb/x.py)). A backticked path
is found at the repository root, relative to the document, relative to mmvae_nb/, or as the one file
under the searched folders whose path ends with it: so a bare `bounds.py` or `test_bounds.py`, as
the README's tables write them, resolves when the name is unique. A link target resolves relative to
its document, as a markdown renderer reads it. `file.py::name` (a function, class, test or
module-level name, or `Class.method`; only the part before any `(`) must be defined in that file; a
token `::name` refers to the last file named earlier on the same line. In a backticked command only
the words with a folder are paths. Not checked: outputs and local state (tables/, figures/, build/,
.cache, .venv), absolute paths, globs (`*`, `{`, `<`), files of other repositories the docs quote
(``EXTERNAL``) and fenced code blocks.
"""

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
# where bare names are looked up
SEARCHED = ("mmvae_nb", "tests", "notebooks", "benchmarks", "scripts")
IGNORED = ("tables/", "figures/", "build/", ".cache", ".venv")  # outputs and local state
BARE_SUFFIXES = (".py", ".ipynb")  # a name without a folder is a pointer only with these
# files of other repositories that the docs quote (the official code, MoPoE), not ours
EXTERNAL = {
    "mmnist/networks/ConvNetworksImgCMNIST.py",
    "encoding_models.py",
    "multimodal_vae.py",
    "gaussian_simulations.py",
    "iVAE_bimodal_simulation.py",
    "iVAE_multimodal_simulation.py",
}

CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(([^)\s]+)\)")
PATH = re.compile(r"[\w.\-/]+")
LINE_NUMBERS = re.compile(r":\d+(-\d+)?$")


def _lines(document):
    """(line number, text) of the document outside fenced code blocks."""
    fenced = False
    for number, line in enumerate(document.read_text().splitlines(), 1):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield number, line


@cache
def _files():
    """Every file under the searched folders, as a path relative to the root."""
    return [
        path.relative_to(ROOT).as_posix()
        for folder in SEARCHED
        for path in (ROOT / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]


def _resolve(name, document):
    """The file or folder a backticked path names, or an error message."""
    for base in (ROOT, document.parent, ROOT / "mmvae_nb"):
        if (base / name).exists():
            return base / name
    if name.endswith("/"):
        return "not found"
    matches = [f for f in _files() if f == name or f.endswith("/" + name)]
    if len(matches) == 1:
        return ROOT / matches[0]
    return "not found" if not matches else f"ambiguous: {', '.join(sorted(matches))}"


@cache
def _defined(path):
    """The names a Python file defines: top-level functions, classes, assignments, methods."""
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        targets = node.targets if isinstance(node, ast.Assign) else []
        targets += [node.target] if isinstance(node, ast.AnnAssign) else []
        names.update(t.id for t in targets if isinstance(t, ast.Name))
        if isinstance(node, ast.ClassDef):
            names.update(
                f"{node.name}.{item.name}"
                for item in node.body
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            )
    return names


def _is_pointer(name):
    if not PATH.fullmatch(name) or name.startswith(IGNORED + ("/",)) or name in EXTERNAL:
        return False
    if "/" in name:
        return name.endswith("/") or re.search(r"\.\w+$", name) is not None
    return name.endswith(BARE_SUFFIXES)


def _check(token, document, last):
    """(problem or None, the file a following `::name` refers to) for one backticked token."""
    name, _, member = LINE_NUMBERS.sub("", token).partition("::")
    if name:
        if not _is_pointer(name):
            return None, None
        last = _resolve(name, document)
        if isinstance(last, str):
            return last, None
    if member and last is not None and last.suffix == ".py":
        member = member.split("(")[0].replace("::", ".")
        if member not in _defined(last):
            return f"{member} is not defined in {last.relative_to(ROOT)}", last
    return None, last


def _problems(document):
    """(where, token, why) for every pointer of the document that does not resolve."""
    shown = document.relative_to(ROOT) if document.is_relative_to(ROOT) else document.name
    for number, line in _lines(document):
        last = None  # the file the line named last, for a following `::name`
        for span in CODE_SPAN.findall(line):
            words = span.split()
            # in a command (`papermill notebooks/01_linear.ipynb out.ipynb`), only its paths
            for token in words if len(words) == 1 else [w for w in words if "/" in w[1:]]:
                problem, last = _check(token, document, last)
                if problem:
                    yield f"{shown}:{number}", token, problem
        for target in LINK.findall(line):
            target = target.split("#")[0]
            if not target or "://" in target or target.startswith("mailto:"):
                continue
            path = (document.parent / target).resolve()
            relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else ""
            if not relative.startswith(IGNORED) and not path.exists():
                yield f"{shown}:{number}", target, "link target not found"


def test_every_code_path_the_docs_name_exists():
    problems = [p for document in DOCUMENTS for p in _problems(document)]
    assert not problems, "stale pointers in the docs:\n" + "\n".join(
        f"  {where}: `{token}` ({why})" for where, token, why in problems
    )


def test_every_lab_note_is_linked():
    linked = {
        (document.parent / target.split("#")[0]).resolve()
        for document in DOCUMENTS
        for _, line in _lines(document)
        for target in LINK.findall(line)
    }
    notes = sorted((ROOT / "docs" / "notes").glob("*.md"))
    assert notes
    unlinked = [note.relative_to(ROOT).as_posix() for note in notes if note not in linked]
    assert not unlinked, f"lab notes no document links to: {unlinked}"


def test_the_checker_finds_a_missing_file_a_missing_name_and_a_missing_link(tmp_path):
    document = tmp_path / "doc.md"
    document.write_text(
        "`mmvae_nb/objectives/bounds.py::masked_bound`, `::no_such_function`\n"
        "`objectives/no_such_file.py` and [a link](no_such_page.md)\n"
        "```\n`mmvae_nb/in_a_code_block.py`\n```\n"
        "`tables/quick/anything.md`, `experiments/*/claims.py`, `make quick`\n"
    )
    assert [(where, token) for where, token, _ in _problems(document)] == [
        ("doc.md:1", "::no_such_function"),
        ("doc.md:2", "objectives/no_such_file.py"),
        ("doc.md:2", "no_such_page.md"),
    ]
