"""Notebook parameters, as a user passes them to papermill: checked before any work.

``check_injected_parameters()`` (the first statement after each notebook's parameters cell) reads
the cell papermill injected from IPython's input history and refuses a name the parameters
cell does not declare (papermill itself only logs "Passed unknown parameter" and runs the
default grid), a value of another type than the declaration's annotation (``-p epochs abc``),
and a number out of its range (``RANGES``), naming the parameter and listing the declared ones.
``output_profile`` then sends the outputs of a run with other rows, sizes or seed than the
profile's to ``tables/<profile>/partial/``, never over the published tables.

``papermill -p rows '["PoE"]'`` passes the *string* ``'["PoE"]'``, and a notebook iterating it
would see the characters ``[``, ``"``, ``P``, ... This module turns whatever reached the
notebook into a tuple: a list or tuple (the notebook's default, or ``-y "rows: [PoE, MoE]"``),
a string holding a YAML / JSON / Python list literal (``-p rows '["PoE", "MoE"]'``,
``-p rows "[PoE, MoE]"``) or a single item (``-p rows PoE``). Anything else raises a
``ValueError`` that lists the accepted values and the working command-line forms.

Standard library only (plus PyYAML, which papermill depends on, when it is installed, and the
package's stdlib-only ``storage`` and ``writable``), so that it can be imported before anything
heavy.
"""

from __future__ import annotations

import ast
import numbers
from collections.abc import Collection, Mapping

from mmvae_nb.storage import cache_root, project_root
from mmvae_nb.writable import check_writable

__all__ = [
    "as_name_list",
    "as_name_pairs",
    "as_number_list",
    "check_injected_parameters",
    "output_profile",
]

PAPERMILL_HEADER = "# Parameters\n"  # the first line of the cell papermill injects
# the types an annotation of the parameters cell admits (list parameters are read later by
# as_name_list and friends, which accept the string forms of the command line)
ANNOTATED_TYPES = {"int": int, "bool": bool, "str": str, "list": object}
RANGES = {"seed": (0, None), "epochs": (0, None)}  # inclusive bounds; None: unbounded
NEUTRAL = ("profile", "progress", "force_retrain")  # parameters that change no published number
PARTIAL = "partial"  # tables/<profile>/partial/: outputs of a run with other parameters


def _assignments(source: str) -> dict[str, tuple[str | None, object]]:
    """name -> (annotation or None, literal value) of each assignment in a cell's source."""
    found = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            found[node.target.id] = (ast.unparse(node.annotation), ast.literal_eval(node.value))
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = (None, ast.literal_eval(node.value))
    return found


def check_injected_parameters(history=None) -> dict[str, object]:
    """Refuse unknown, mistyped or out-of-range parameters that papermill injected.

    ``history``: the sources of the cells run so far (default: the running IPython kernel's
    ``In``; outside IPython there is nothing to check). The last cell that
    starts with papermill's ``# Parameters`` header holds the injected values, the cell run
    before it the notebook's declarations (``name: type = default``). Without such a cell (the
    notebook run by hand) there is nothing to check. Returns the injected values by name;
    raises ``ValueError`` naming each problem and the declared parameters.
    """
    if history is None:
        from IPython import get_ipython

        shell = get_ipython()
        history = shell.user_ns.get("In", []) if shell is not None else []
    cells = list(history)
    injected_at = next(
        (i for i in range(len(cells) - 1, 0, -1) if cells[i].startswith(PAPERMILL_HEADER)), None
    )
    if injected_at is None:
        return {}
    declared = _assignments(cells[injected_at - 1])
    known = ", ".join(f"{n} ({annotation})" for n, (annotation, _) in declared.items())
    problems, injected = [], _assignments(cells[injected_at])
    for name, (_, value) in injected.items():
        if name not in declared:
            problems.append(f"unknown parameter {name!r}")
            continue
        annotation = declared[name][0]
        expected = ANNOTATED_TYPES.get(annotation, object)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"{name} must be {annotation}, got {value!r}")
            continue
        low, high = RANGES.get(name, (None, None))
        if (low is not None and value < low) or (high is not None and value > high):
            problems.append(f"{name} must be in [{low}, {'inf' if high is None else high}]")
    if problems:
        raise ValueError(f"{'; '.join(problems)}. This notebook's parameters: {known}.")
    return {name: value for name, (_, value) in injected.items()}


def output_profile(profile: str, injected: Mapping[str, object]) -> str:
    """The folder name under tables/ and figures/ for this run's outputs: ``profile`` for a run
    of the profile as published, ``<profile>/partial`` when a parameter that changes a table's
    rows, sizes or numbers was passed (anything but ``NEUTRAL``), so that a run over a subset
    never overwrites the published tables the scorecard reads; says which, and checks that
    both folders, the results cache and the checkpoints take files before any work
    (``writable.check_writable``)."""
    changed = sorted(set(injected) - set(NEUTRAL))
    name = f"{profile}/{PARTIAL}" if changed else profile
    outputs = [project_root() / kind / name for kind in ("tables", "figures")]
    check_writable([cache_root() / "results", cache_root() / "checkpoints", *outputs])
    if changed:
        print(
            f"{', '.join(changed)} passed: this run's tables and figures go to tables/{name}/ "
            f"and figures/{name}/; tables/{profile}/ is left as it is"
        )
    return name


def _literal(text: str):
    """The Python value of a list literal written as YAML, JSON or Python; ``text`` if none."""
    try:
        return ast.literal_eval(text)  # JSON lists of strings and numbers are Python literals
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        pass
    try:
        import yaml
    except ImportError:  # pragma: no cover - papermill installs PyYAML
        return text
    try:
        return yaml.safe_load(text)  # bare words: [PoE, MoE], [[PoE, standard]]
    except yaml.YAMLError:
        return text


def _parsed(value, single):
    """``value`` as a list: a list/tuple as is, a string holding a list literal parsed, and a
    string or number that ``single`` accepts as one item; ``None`` when it is none of those."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("[", "(")):
            value = _literal(text)
            return list(value) if isinstance(value, (list, tuple)) else None
        return [value] if single(value) else None
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value] if single(value) else None


def _fail(name: str, problem: str, accepted: str, example: str, flat_example: str):
    raise ValueError(
        f"{name}: {problem}. Accepted: {accepted}. Pass a list on the command line as YAML, "
        f"-y \"{name}: {example}\", or as a JSON string, -p {name} '{flat_example}'."
    )


def as_name_list(value, name: str, allowed: Collection[str] | None = None) -> tuple[str, ...]:
    """The names in ``value`` as a tuple, each checked against ``allowed`` (``None``: any).

    ``value`` may be a list or tuple of strings, a string holding a YAML, JSON or Python list
    literal (``'["PoE", "MoE"]'``, ``"[PoE, MoE]"``, ``"('PoE',)"``) or one name (``"PoE"``).
    An empty list gives ``()``. Anything else, or a name not in ``allowed``, raises a
    ``ValueError`` naming ``name``, the accepted names and the command-line forms that work.
    """
    allowed = None if allowed is None else tuple(dict.fromkeys(allowed))
    shown = list(allowed) if allowed is not None else ["PoE", "SumPooling"]
    accepted = f"a list of names from {list(allowed)}" if allowed is not None else "a list of names"
    example = f"[{', '.join(shown[:2])}]"
    flat_example = f'["{shown[0]}"]' if shown else "[]"

    items = _parsed(value, lambda v: isinstance(v, str) and bool(v.strip()))
    if items is None:
        _fail(name, f"cannot read {value!r} as a list of names", accepted, example, flat_example)
    names = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            _fail(name, f"{item!r} in {value!r} is not a name", accepted, example, flat_example)
        if allowed is not None and item not in allowed:
            _fail(name, f"unknown name {item!r}", accepted, example, flat_example)
        names.append(item)
    return tuple(names)


def as_name_pairs(
    value, name: str, allowed_first: Collection[str], allowed_second: Collection[str]
) -> tuple[tuple[str, str], ...]:
    """The ``(first, second)`` name pairs in ``value`` (e.g. ``(aggregation, prior)`` rows).

    ``value`` may be a list or tuple of two-name lists, or a string holding one as a YAML, JSON
    or Python literal (``'[["PoE", "standard"]]'``, ``"[[PoE, standard], [MoE, gmm]]"``).
    Anything else, or a name not allowed in its position, raises a ``ValueError`` naming the
    accepted names and the command-line forms that work.
    """
    first, second = tuple(dict.fromkeys(allowed_first)), tuple(dict.fromkeys(allowed_second))
    accepted = (
        f"a list of [name, name] pairs, the first from {list(first)}, "
        f"the second from {list(second)}"
    )
    example = f"[[{first[0]}, {second[0]}]]"
    flat_example = f'[["{first[0]}", "{second[0]}"]]'

    items = _parsed(value, lambda v: False)
    if items is None:
        _fail(name, f"cannot read {value!r} as a list of pairs", accepted, example, flat_example)
    pairs = []
    for item in items:
        if not (isinstance(item, (list, tuple)) and len(item) == 2):
            _fail(name, f"{item!r} in {value!r} is not a pair", accepted, example, flat_example)
        a, b = item
        if a not in first or b not in second:
            _fail(name, f"unknown pair {list(item)!r}", accepted, example, flat_example)
        pairs.append((a, b))
    return tuple(pairs)


def as_number_list(value, name: str) -> tuple[float, ...]:
    """The numbers in ``value`` as a tuple of floats.

    ``value`` may be a number (``-p etas 0.5``), a list or tuple of numbers, or a string
    holding a number or a YAML, JSON or Python list literal (``'[0.0, 0.5]'``). Booleans and
    anything else raise a ``ValueError`` showing the command-line forms that work.
    """

    def is_number(v):
        return isinstance(v, numbers.Real) and not isinstance(v, bool)

    accepted, example = "a number or a list of numbers", "[0.0, 0.5]"
    if isinstance(value, str) and not value.strip().startswith(("[", "(")):
        value = _literal(value.strip())  # -r etas 0.5 passes the string "0.5"
    items = _parsed(value, is_number)
    if items is None:
        _fail(name, f"cannot read {value!r} as a list of numbers", accepted, example, example)
    for item in items:
        if not is_number(item):
            _fail(name, f"{item!r} in {value!r} is not a number", accepted, example, example)
    return tuple(float(item) for item in items)
