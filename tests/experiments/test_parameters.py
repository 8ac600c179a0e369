"""List-valued notebook parameters as papermill passes them (mmvae_nb.experiments.parameters)."""

import ast
import sys
from pathlib import Path

import pytest

from mmvae_nb.experiments import parameters
from mmvae_nb.experiments.parameters import as_name_list, as_name_pairs, as_number_list

NAMES = ("PoE", "MoE", "SumPooling", "SelfAttention")
PRIORS = ("standard", "gmm")


@pytest.mark.parametrize(
    "value, expected",
    [
        (["PoE", "MoE"], ("PoE", "MoE")),  # the notebook's default, or -y "rows: [PoE, MoE]"
        (("PoE",), ("PoE",)),
        ([], ()),
        ('["PoE", "MoE"]', ("PoE", "MoE")),  # -p rows '["PoE", "MoE"]' (JSON)
        ('["PoE"]', ("PoE",)),  # the command line: not the characters [ " P o E " ]
        ("[PoE, SumPooling]", ("PoE", "SumPooling")),  # -p rows "[PoE, SumPooling]" (YAML)
        ("  [ PoE ,MoE ] ", ("PoE", "MoE")),
        ("('PoE', 'MoE')", ("PoE", "MoE")),  # Python tuple literal
        ("['SelfAttention']", ("SelfAttention",)),  # Python list literal
        ("[]", ()),
        ("PoE", ("PoE",)),  # -p rows PoE
    ],
)
def test_name_list_accepts_lists_and_their_command_line_forms(value, expected):
    assert as_name_list(value, "rows", NAMES) == expected


def test_name_list_keeps_names_with_spaces_and_parentheses_whole():
    allowed = ("PoE (equivariant)", "SumPooling (equivariant)")
    assert as_name_list("PoE (equivariant)", "rows", allowed) == ("PoE (equivariant)",)
    assert as_name_list('["SumPooling (equivariant)"]', "rows", allowed) == allowed[1:]


def test_name_list_without_allowed_accepts_any_name():
    assert as_name_list("[a, b]", "names") == ("a", "b")
    assert as_name_list("anything", "names", None) == ("anything",)


@pytest.mark.parametrize(
    "value",
    [
        "Foo",  # unknown name
        "[PoE, Foo]",
        "[",  # what iterating '["PoE"]' used to hand the aggregator
        '["PoE"',  # unterminated list
        "PoE, MoE",  # not a list literal, and no such name
        "",
        "   ",
        3,
        None,
        {"PoE": 1},
        "[1, 2]",
        [1],
        [["PoE"]],
        '[["PoE", "standard"]]',
        "{PoE: 1}",
    ],
)
def test_name_list_refuses_anything_else_and_shows_what_works(value):
    with pytest.raises(ValueError) as error:
        as_name_list(value, "rows", NAMES)
    message = str(error.value)
    assert message.startswith("rows: ")
    assert str(list(NAMES)) in message  # the accepted names
    assert '-y "rows: [PoE, MoE]"' in message  # the YAML form
    assert "-p rows '[\"PoE\"]'" in message  # the JSON-string form


def test_name_list_error_lists_each_allowed_name_once():
    with pytest.raises(ValueError, match=r"from \['PoE', 'MoE'\]\."):
        as_name_list("Foo", "rows", ["PoE", "MoE", "PoE"])


@pytest.mark.parametrize(
    "value, expected",
    [
        ([["PoE", "standard"], ["MoE", "gmm"]], (("PoE", "standard"), ("MoE", "gmm"))),
        ((("PoE", "standard"),), (("PoE", "standard"),)),
        ([], ()),
        ('[["PoE", "standard"]]', (("PoE", "standard"),)),  # -p rows '[["PoE", "standard"]]'
        ("[[PoE, standard], [SumPooling, gmm]]", (("PoE", "standard"), ("SumPooling", "gmm"))),
        ("[('MoE', 'gmm')]", (("MoE", "gmm"),)),
        ("[]", ()),
    ],
)
def test_name_pairs_accepts_lists_of_pairs_and_their_command_line_forms(value, expected):
    assert as_name_pairs(value, "rows", NAMES, PRIORS) == expected


@pytest.mark.parametrize(
    "value",
    [
        "PoE",
        '["PoE", "standard"]',  # one pair without the outer list
        ["PoE", "standard"],
        [["PoE"]],
        [["PoE", "standard", "gmm"]],
        [["Foo", "standard"]],
        [["PoE", "foo"]],
        [["standard", "PoE"]],
        "[[PoE, standard]",
        3,
    ],
)
def test_name_pairs_refuses_anything_else_and_shows_what_works(value):
    with pytest.raises(ValueError) as error:
        as_name_pairs(value, "rows", NAMES, PRIORS)
    message = str(error.value)
    assert message.startswith("rows: ")
    assert str(list(NAMES)) in message and str(list(PRIORS)) in message
    assert '-y "rows: [[PoE, standard]]"' in message
    assert '-p rows \'[["PoE", "standard"]]\'' in message


@pytest.mark.parametrize(
    "value, expected",
    [
        ([0.0, 0.5], (0.0, 0.5)),
        ((0, 1), (0.0, 1.0)),
        (0.5, (0.5,)),  # -p etas 0.5 (papermill converts numbers)
        (0, (0.0,)),
        ("[0.0, 0.5]", (0.0, 0.5)),  # -p etas '[0.0, 0.5]'
        ("0.5", (0.5,)),  # -r etas 0.5
        ("[]", ()),
    ],
)
def test_number_list_accepts_numbers_and_their_command_line_forms(value, expected):
    result = as_number_list(value, "etas")
    assert result == expected and all(type(v) is float for v in result)


@pytest.mark.parametrize("value", [True, [True], "half", "[half]", [[0.5]], None, "[0.5"])
def test_number_list_refuses_anything_else_and_shows_what_works(value):
    with pytest.raises(ValueError, match=r"^etas: .*-y \"etas: \[0\.0, 0\.5\]\".*-p etas '\["):
        as_number_list(value, "etas")


def _imported(path: Path) -> set[str]:
    """The modules a source file imports (dotted names, as written)."""
    tree = ast.parse(path.read_text())
    nodes = list(ast.walk(tree))
    plain = {alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names}
    return plain | {n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.module}


def test_module_imports_only_the_standard_library_and_yaml():
    """...and the package's own stdlib-only modules, and IPython inside the check that reads a
    running kernel's history, so that a notebook can import it before anything heavy."""
    package = Path(parameters.__file__).parents[1]
    own = {m for m in _imported(Path(parameters.__file__)) if m.startswith("mmvae_nb.")}
    assert own == {"mmvae_nb.storage", "mmvae_nb.writable"}
    files = [Path(parameters.__file__), *(package / f"{m.split('.')[1]}.py" for m in own)]
    modules = {m.split(".")[0] for path in files for m in _imported(path)}
    allowed = set(sys.stdlib_module_names) | {"yaml", "IPython", "mmvae_nb"}
    assert modules <= allowed, modules - allowed
