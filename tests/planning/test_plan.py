"""The paper profile's GPU plan (``mmvae_nb.planning``, ``launch --plan``): programs grouped by
``program_key``, every section and the totals, labelled constants, measured steps overriding the
estimate, the committed copies current, and nothing compiled."""

import pandas as pd
import pytest

from mmvae_nb import hardware, launch
from mmvae_nb.experiments.registry import EXPERIMENTS
from mmvae_nb.planning import packing, plan
from mmvae_nb.planning.cost import KINDS, Constant, CostModel, default_model
from mmvae_nb.planning.programs import cost_class, program_key
from mmvae_nb.planning.tables import class_costs, measured_steps
from mmvae_nb.training.programs import StepProgram


@pytest.fixture(scope="module")
def todo():
    return launch.jobs(list(EXPERIMENTS), "paper")


@pytest.fixture(scope="module")
def programs(todo):
    return plan.programs(todo)


def test_programs_group_a_cost_class_and_mst_repetitions(todo, programs):
    table, _ = programs
    mst = [job for job in todo if job.section == "mnist_svhn_text"]
    repetitions = {job.run.repetition for job in mst}
    assert len(repetitions) > 1
    assert len({program_key(job) for job in mst}) == len(repetitions) * len(
        {cost_class(job) for job in mst}
    )
    poe_plus = [job for job in mst if cost_class(job) == "mnist_svhn_text/PoE+/standard/ours"]
    betas = {job.run.beta for job in poe_plus if job.run.repetition == 0}
    assert len(betas) == 3 and len({program_key(j) for j in poe_plus}) == len(repetitions)
    linear = [job for job in todo if job.section == "linear"]
    assert len({program_key(job) for job in linear}) == len({cost_class(job) for job in linear})
    relational = [job for job in todo if job.section == "relational"]  # variants apart
    assert len({program_key(job) for job in relational}) == len(relational)
    assert table["trainings"].sum() == len(todo)
    assert (table["trainings"] >= 1).all()


def test_every_section_is_planned_and_the_total_is_the_sum(programs):
    table, per_device = programs
    summary = plan.sections(table)
    assert list(summary["section"]) == [*EXPERIMENTS, "total"]
    rows, total = summary.iloc[:-1], summary.iloc[-1]
    for column in plan.SUMMED:
        assert total[column] == pytest.approx(rows[column].sum())
    assert (rows["programs"] <= rows["trainings"]).all()
    assert (rows["programs"] < rows["trainings"]).any()  # some trainings run as one program
    assert (summary["floor_hours"] < summary["hours"]).all()
    assert (summary["hours"] <= summary["hours_alone"] + 1e-12).all()  # packing never costs
    assert total["memory_gib"] == rows["memory_gib"].max()
    assert 1 <= per_device <= packing.MAX_PER_DEVICE.value


def test_every_constant_is_labelled_with_its_kind_and_source():
    constants = [*default_model().constants(), *packing.CONSTANTS]
    assert all(c.kind in KINDS and c.source and c.name for c in constants)
    assert {c.kind for c in constants} == set(KINDS)
    with pytest.raises(ValueError, match="kind 'guessed'"):
        Constant("x", 1.0, "", "guessed", "nowhere")


def test_a_measured_step_overrides_the_estimate(todo):
    costs, measured = class_costs(), measured_steps()
    label = "relational/SumPooling/standard/ours"
    flops = float(costs.loc[label, "flops_per_step"])
    base = CostModel.from_tables(measured, costs)
    estimate, kind = base.alone_seconds(label, 2, flops)
    assert kind == "estimated"
    assert estimate == pytest.approx(base.overhead.value + base.busy_seconds(2 * flops))
    row = {"device": "NVIDIA H200", "cost_class": label, "trainings": 1}
    row |= {"seconds_per_step": 0.5, "source": "test"}
    model = CostModel.from_tables(pd.concat([measured, pd.DataFrame([row])]), costs)
    seconds, kind = model.alone_seconds(label, 2, flops)
    assert kind == "measured"
    assert seconds == pytest.approx(0.5 + model.busy_seconds(flops))  # one more training
    before, _ = plan.programs(todo, base)
    after, _ = plan.programs(todo, model)
    changed = after["program"].str.split("#").str[0] == label
    assert (after.loc[changed, "source"] == "measured").all()
    assert after.loc[changed, "hours"].sum() > before.loc[changed, "hours"].sum()
    summary = plan.sections(after).set_index("section")
    assert summary.loc["relational", "measured"] == changed.sum()


def test_measured_steps_of_other_devices_are_ignored():
    costs = class_costs()
    label = "aux_label/PoE/standard/ours"
    rows = pd.DataFrame(
        [
            {"device": "NVIDIA H200", "cost_class": label, "trainings": 1},
            {"device": "NVIDIA A100", "cost_class": label, "trainings": 1},
            {"device": "NVIDIA H100 80GB HBM3", "cost_class": label, "trainings": 1},
            {"device": "cpu", "cost_class": "aux_label/MoE/standard/ours", "trainings": 1},
        ]
    ).assign(seconds_per_step=[1e-3, 1e-4, 2e-3, 1e-5], source="test")
    model = CostModel.from_tables(pd.concat([measured_steps(), rows]), costs)
    assert model.measured.loc[label, "h100_seconds"] == 2e-3  # an H100's own, not the H200's
    assert model.measured.loc["aux_label/MoE/standard/ours", "device"] == "NVIDIA H200"


def test_the_committed_copies_are_the_plans(todo):
    readme = plan.README.read_text()
    start, end = (readme.index(marker) for marker in plan.MARKERS)
    block = readme[start + len(plan.MARKERS[0]) + 1 : end]
    assert block == plan.render(todo, markdown=True, constants=False), "run `make plan`"
    committed = pd.read_csv(hardware.GPU_PLAN_TABLE)
    expected = plan.section_hours(todo)
    pd.testing.assert_frame_equal(committed, expected, check_dtype=False, rtol=1e-3)


def test_the_command_prints_the_plan_without_compiling(monkeypatch, capsys):
    def no_compilation(*args, **kwargs):
        raise AssertionError("the plan compiled a program")

    monkeypatch.setattr(StepProgram, "compile", no_compilation)
    monkeypatch.setattr(StepProgram, "flops", no_compilation)
    launch.main(["--plan", "--sections", "relational", "mnist_svhn_text"])
    out = capsys.readouterr().out
    rows = [line.split()[0] for line in out.splitlines() if line[:1].islower()]
    assert {"relational", "mnist_svhn_text", "total"} <= set(rows) and "linear" not in rows
    assert "measured" in out and "estimated" in out and "FLOP floor" in out
    with pytest.raises(SystemExit):
        launch.main(["--plan", "--write", "--sections", "relational"])


def test_workers_per_device_fit_the_largest_programs():
    gib = 2**30
    margin, worker = packing.MEMORY_MARGIN.value, packing.WORKER_BYTES.value
    device = 10 * gib / (1 - margin)  # 10 GiB usable
    assert packing.workers_per_device([4 * gib - worker] * 5, device, cap=8) == 2
    assert packing.workers_per_device([0.5 * gib] * 5, device, cap=3) == 3  # the cap
    assert packing.workers_per_device([9 * gib, 0.1 * gib], device, cap=4) == 1  # largest first
    assert packing.workers_per_device([40 * gib], device, cap=4) == 1  # at least one
    assert packing.longest_first(["a", "bbb", "cc", "dd"], len) == ["bbb", "cc", "dd", "a"]
