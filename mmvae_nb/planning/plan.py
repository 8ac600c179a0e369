"""The paper profile's plan on one H100: per section and in total, its trainings, the programs
they run as (``programs.program_key``), Adam steps, FLOPs, memory per program, the FLOP floor
and the projected GPU hours of the cost model (``cost``), with n programs per device
(``packing``). ``python -m mmvae_nb.launch --plan`` prints it from the committed tables in
seconds, nothing compiled.

Memory of a program of k trainings: k x one training's compiled peak (arguments, outputs and
temporaries of its step, XLA on a CPU), since the vmapped program holds k copies of each.

``write`` keeps its two committed copies current (``make plan``): the README's block between
``MARKERS`` and ``reference/paper_gpu_plan.csv``, which the CPU refusal
(``hardware.check_devices``) reads for the projected GPU hours per section.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from mmvae_nb.hardware import GPU_PLAN_TABLE
from mmvae_nb.planning import packing
from mmvae_nb.planning.cost import CostModel, default_model
from mmvae_nb.planning.programs import paper_steps, program_key
from mmvae_nb.planning.tables import class_costs
from mmvae_nb.storage import PACKAGE_ROOT, atomic_write_text

README = PACKAGE_ROOT.parent / "README.md"
MARKERS = ("<!-- gpu-plan:start -->", "<!-- gpu-plan:end -->")
SUMMED = (  # the section table's columns that add up to the total
    "trainings",
    "programs",
    "program_steps",
    "pflop",
    "floor_hours",
    "hours_alone",
    "hours",
    "measured",
)
GIB = 2**30
SENSITIVITY = 0.30  # another FLOP efficiency the plan reports the total at
LARGEST = 5  # cost classes named as the largest


def programs(todo: Sequence, model: CostModel | None = None) -> tuple[pd.DataFrame, int]:
    """One row per program of ``todo`` (paper-profile jobs, in their order) with its cost, and
    the programs per device (``packing.workers_per_device`` on an H100)."""
    model, costs = model or default_model(), class_costs()
    groups: dict[tuple, list] = {}
    for job in todo:
        groups.setdefault(program_key(job), []).append(job)
    missing = sorted({key[0] for key in groups} - set(costs.index))
    if missing:
        raise ValueError(
            f"cost classes {missing} are not in the committed table: compile them "
            "(python -m mmvae_nb.paper_programs --out benchmarks/results/paper_programs_cpu.csv)"
        )
    rows = []
    for (label, member), members in groups.items():
        steps = {paper_steps(job) for job in members}
        if len(steps) > 1:
            raise ValueError(f"the trainings of program {label} take {sorted(steps)} steps")
        k, flops = len(members), float(costs.loc[label, "flops_per_step"])
        alone, source = model.alone_seconds(label, k, flops)
        section = members[0].section
        rows.append(
            {
                "section": section,
                "program": label + (f"#{member}" if member else ""),
                "trainings": k,
                "steps": steps.pop(),
                "flops_per_step": k * flops,
                "memory_bytes": k * float(costs.loc[label, "peak_bytes"]),
                "alone_seconds": alone,
                "busy_seconds": model.busy_seconds(k * flops),
                "source": source,
            }
        )
    table = pd.DataFrame(rows)
    per_device = packing.workers_per_device(
        table["memory_bytes"], packing.H100_BYTES.value, int(packing.MAX_PER_DEVICE.value)
    )
    device = [
        model.device_seconds(a, b, per_device)
        for a, b in zip(table["alone_seconds"], table["busy_seconds"])
    ]
    table["pflop"] = table["flops_per_step"] * table["steps"] / 1e15
    table["floor_hours"] = table["pflop"] * 1e15 / model.peak.value / 3600
    table["hours_alone"] = table["alone_seconds"] * table["steps"] / 3600
    table["hours"] = pd.Series(device) * table["steps"] / 3600
    return table, per_device


def sections(table: pd.DataFrame) -> pd.DataFrame:
    """Per section (in the order of ``table``) and ``total``: the summed columns (``SUMMED``),
    the steps of one training and the largest program's memory."""
    table = table.assign(programs=1, program_steps=table["steps"])
    table = table.assign(measured=(table["source"] == "measured").astype(int))
    grouped = table.groupby("section", sort=False)
    out = grouped[list(SUMMED)].sum()
    out["steps_per_training"] = grouped["steps"].max()
    out["memory_gib"] = grouped["memory_bytes"].max() / GIB
    out.loc["total"] = out[list(SUMMED)].sum()
    out.loc["total", "memory_gib"] = table["memory_bytes"].max() / GIB
    return out.rename_axis("section").reset_index()


COLUMNS = {  # section table column -> heading, format
    "section": ("section", "{}"),
    "trainings": ("trainings", "{:.0f}"),
    "programs": ("programs", "{:.0f}"),
    "steps_per_training": ("Adam steps per training", "{:,.0f}"),
    "program_steps": ("program steps (M)", "{:.2f}"),
    "pflop": ("PFLOP", "{:,.1f}"),
    "memory_gib": ("GiB per program (max)", "{:.2f}"),
    "floor_hours": ("FLOP floor (h)", "{:.2f}"),
    "hours_alone": ("H100 h, one at a time", "{:.2f}"),
    "hours": ("H100 h, packed", "{:.2f}"),
    "measured": ("programs measured", "{:.0f}"),
}


def _cells(summary: pd.DataFrame) -> list[list[str]]:
    rows = []
    for _, row in summary.iterrows():
        cells = []
        for column, (_, form) in COLUMNS.items():
            value = row[column]
            if column == "program_steps":
                value = value / 1e6
            cells.append("" if pd.isna(value) else form.format(value))
        rows.append(cells)
    return rows


def _grid(header: list[str], rows: list[list[str]], markdown: bool, numbers: bool) -> list[str]:
    """A table as Markdown or aligned text (``numbers``: every column but the first right)."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(r) + " |" for r in rows]
    widths = [max(len(c) for c in column) for column in zip(header, *rows)]
    return [
        "  ".join(
            c.rjust(w) if numbers and i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))
        ).rstrip()
        for r in [header, *rows]
    ]


def render(
    todo: Sequence,
    *,
    markdown: bool = False,
    model: CostModel | None = None,
    constants: bool = True,
) -> str:
    """The plan of ``todo`` as text (or Markdown): the section table, the packing, the largest
    programs, the total at other FLOP efficiencies and (``constants``) every constant with its
    kind and source, else a line saying where they are."""
    model = model or default_model()
    table, per_device = programs(todo, model)
    summary = sections(table)
    total = summary.iloc[-1]
    header = [heading for heading, _ in COLUMNS.values()]
    lines = [
        f"Plan of the paper profile on one H100: {total['trainings']:.0f} trainings as "
        f"{total['programs']:.0f} programs (same-shape trainings vmapped as one), "
        f"{per_device} programs per device; nothing compiled (committed tables).",
        "",
        *_grid(header, _cells(summary), markdown, numbers=True),
        "",
    ]
    classes = table.assign(cost_class=table["program"].str.split("#").str[0])
    classes = classes.groupby("cost_class")[["trainings", "hours"]].sum()
    largest = classes.nlargest(LARGEST, "hours")
    longest = table.loc[table["hours_alone"].idxmax()]
    lines += [
        f"- Packed: {per_device} programs per device (the {per_device} largest, each with "
        f"{packing.WORKER_BYTES.display()} for its worker, fit in "
        f"{1 - packing.MEMORY_MARGIN.value:.0%} of {packing.H100_BYTES.display()}). "
        f"Longest program: {longest['program']}, {longest['hours_alone']:.2f} h alone, a lower "
        "bound on the wall time with one device.",
        "- Largest cost classes (trainings, packed H100 hours, share of the total): "
        + "; ".join(
            f"{label} ({row.trainings:.0f}, {row.hours:.2f} h, {row.hours / total['hours']:.0%})"
            for label, row in largest.iterrows()
        )
        + ".",
    ]
    sensitivity = [
        (model.marginal.value, "the Table 7 steps' marginal, measured"),
        (SENSITIVITY, "an estimate for large convolutions"),
    ]
    totals = [
        f"{programs(todo, model.with_efficiency(value, why))[0]['hours'].sum():.1f} h at "
        f"{value:.1%} ({why})"
        for value, why in sensitivity
    ]
    lines.append(f"- The total at other FLOP efficiencies: {'; '.join(totals)}.")
    every = [*model.constants(), *packing.CONSTANTS]
    if not constants:
        kinds = pd.Series([c.kind for c in every]).value_counts()
        counts = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        lines.append(
            f"- Its {len(every)} constants ({counts}), each with its source: "
            "`python -m mmvae_nb.launch --plan`."
        )
        return "\n".join(lines) + "\n"
    rows = [[c.name, c.display(), c.kind, c.source] for c in every]
    lines += ["", *_grid(["constant", "value", "kind", "source"], rows, markdown, numbers=False)]
    return "\n".join(lines) + "\n"


def section_hours(todo: Sequence) -> pd.DataFrame:
    """The committed per-section copy (``hardware.GPU_PLAN_TABLE``)."""
    columns = ["section", "trainings", "programs", "pflop", "floor_hours", "hours"]
    summary = sections(programs(todo)[0])
    return summary[summary["section"] != "total"][columns].rename(columns={"hours": "gpu_hours"})


def replace_block(document: Path, block: str) -> None:
    """Replace the text between the ``MARKERS`` of ``document`` with ``block``."""
    text = document.read_text()
    start, end = (text.find(marker) for marker in MARKERS)
    if start < 0 or end < start:
        raise ValueError(f"{document} has no {MARKERS[0]} ... {MARKERS[1]} block")
    atomic_write_text(text[: start + len(MARKERS[0])] + "\n" + block + text[end:], document)


def write(todo: Sequence, readme: Path = README, table: Path = GPU_PLAN_TABLE) -> None:
    """Rewrite the plan's committed copies: ``readme``'s block (Markdown) and ``table``."""
    replace_block(readme, render(todo, markdown=True, constants=False))
    frame = section_hours(todo)
    atomic_write_text(frame.to_csv(index=False, float_format="%.4g"), table)
