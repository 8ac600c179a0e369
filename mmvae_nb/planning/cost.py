"""The cost model of a program's step on one H100: simple, and every constant labelled with its
kind (``measured``, ``estimated``, ``datasheet``) and source.

A program of k same-shape trainings of a cost class whose one training's step costs F FLOPs
(XLA's count) takes per step, alone on the device,

    estimated:  t_alone = t_0 + k F / (P e)
    measured:   t_alone = s (t_m + (k - k_m) F / (P e))

where t_0 is a fixed per-step overhead (kernel launches and the training loop's host round trip,
whatever the step's size: the intercept of a line through the measured GPU steps, which are
tiny), P the H100's dense TF32 peak, e the share of it that the FLOP part reaches, and t_m the
measured seconds per step of a program of k_m trainings of the class on a device whose seconds
are s times an H100's. The FLOP part keeps the device busy; the rest of a step the device waits.
With n > 1 programs on one device (``packing``) the others' work fills those waits, at a
concurrency efficiency c, while the busy parts do not overlap (processes time-slice a GPU), so a
step costs the device

    max(k F / (P e), t_alone / (n c))

seconds. The FLOP floor is every FLOP at the peak: k F / P per step.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from mmvae_nb.planning.tables import class_costs, measured_steps

KINDS = ("measured", "estimated", "datasheet")


@dataclass(frozen=True)
class Constant:
    """One number of the model: its value, unit, kind (``KINDS``) and where it comes from."""

    name: str
    value: float
    unit: str
    kind: str
    source: str

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind {self.kind!r} is none of {KINDS}")

    def display(self) -> str:
        """The value in its unit, as people read it: bytes in GiB, seconds in ms, shares
        (units ``of ...``) in percent."""
        if self.unit == "bytes":
            return f"{self.value / 2**30:.3g} GiB"
        if self.unit == "s":
            return f"{self.value * 1e3:.3g} ms"
        if self.unit.startswith("of "):
            return f"{self.value:.1%} {self.unit}"
        return f"{self.value:.4g} {self.unit}".strip()


TF32_PEAK = Constant(
    "H100 TF32 peak, dense",
    494.7e12,
    "FLOP/s",
    "datasheet",
    "NVIDIA H100 SXM5 datasheet: 989 TFLOPS TF32 with sparsity, half of it dense "
    "(JAX's default matmul precision uses TF32 on it)",
)
FLOP_EFFICIENCY = Constant(
    "FLOP efficiency",
    0.10,
    "of the TF32 peak",
    "estimated",
    "a guess between the Table 7 steps' marginal 2 % (tiny kernels, measured, below) and the "
    "30-50 % large matrix products and convolutions reach in TF32; no larger step has been "
    "timed on a GPU yet (make gpu-slice's rows replace the estimate)",
)
H200_TO_H100 = Constant(
    "H200 -> H100 seconds",
    1.0,
    "x",
    "estimated",
    "same SMs and clocks, so launch- and compute-bound steps take as long; a purely "
    "HBM-bound step would take up to 4.8/3.35 = 1.43x on the H100",
)
CONCURRENCY = Constant(
    "concurrency efficiency",
    0.7,
    "",
    "estimated",
    "programs sharing a device fill each other's waits, less the context switches between "
    "processes (no MPS); not measured yet",
)


def scale_to_h100(device: str) -> float | None:
    """Seconds on one H100 per second on ``device`` (its kind), or None for another device."""
    if "H100" in device:
        return 1.0
    if "H200" in device:
        return H200_TO_H100.value
    return None


def _on_h100(measured: pd.DataFrame) -> pd.DataFrame:
    """The measured steps of H100s and H200s, seconds scaled to an H100, one per cost class
    (an H100's first)."""
    scales = measured["device"].map(scale_to_h100)
    rows = measured[scales.notna()].assign(scale=scales[scales.notna()])
    rows = rows.assign(h100_seconds=rows["seconds_per_step"] * rows["scale"])
    rows = rows.sort_values("device", key=lambda d: ~d.str.contains("H100"), kind="stable")
    return rows.drop_duplicates("cost_class").set_index("cost_class")


def fit_overhead(measured: pd.DataFrame, costs: pd.DataFrame) -> tuple[Constant, Constant]:
    """The per-step overhead t_0 and the marginal FLOP efficiency of the measured steps: the
    least-squares line of H100 seconds per step against FLOPs per step through them."""
    rows = _on_h100(measured).join(costs["flops_per_step"], how="inner")
    if len(rows) < 2:
        raise ValueError("the overhead needs at least two measured steps of known FLOPs")
    flops = rows["flops_per_step"] * rows["trainings"]
    slope, intercept = np.polyfit(flops, rows["h100_seconds"], 1)
    sources = ", ".join(sorted(set(rows["source"])))
    overhead = Constant(
        "per-step overhead t_0",
        float(intercept),
        "s",
        "measured",
        f"intercept of seconds vs FLOPs per step over the {len(rows)} measured steps ({sources})",
    )
    marginal = Constant(
        "marginal FLOP efficiency of the measured steps",
        float(1 / slope / TF32_PEAK.value),
        "of the TF32 peak",
        "measured",
        "slope of the same line (small kernels: a pessimistic bound for larger steps)",
    )
    return overhead, marginal


@dataclass(frozen=True)
class CostModel:
    """The model's constants and the measured steps (H100 seconds per cost class)."""

    overhead: Constant
    marginal: Constant
    measured: pd.DataFrame  # index cost_class: h100_seconds, trainings, source, device
    peak: Constant = TF32_PEAK
    efficiency: Constant = FLOP_EFFICIENCY
    concurrency: Constant = CONCURRENCY

    @classmethod
    def from_tables(cls, measured: pd.DataFrame, costs: pd.DataFrame) -> CostModel:
        overhead, marginal = fit_overhead(measured, costs)
        return cls(overhead, marginal, _on_h100(measured))

    def constants(self) -> list[Constant]:
        return [
            self.peak,
            self.efficiency,
            self.overhead,
            self.marginal,
            H200_TO_H100,
            self.concurrency,
        ]

    def with_efficiency(self, value: float, source: str) -> CostModel:
        """The same model at another FLOP efficiency (a sensitivity)."""
        efficiency = dataclasses.replace(self.efficiency, value=value, source=source)
        return dataclasses.replace(self, efficiency=efficiency)

    def busy_seconds(self, flops: float) -> float:
        """The FLOP part of a step of ``flops`` FLOPs."""
        return flops / (self.peak.value * self.efficiency.value)

    def alone_seconds(self, cost_class: str, trainings: int, flops: float) -> tuple[float, str]:
        """Seconds per step of a program of ``trainings`` trainings of ``cost_class`` (one's
        step ``flops`` FLOPs) alone on an H100, and ``measured`` or ``estimated``."""
        if cost_class in self.measured.index:
            row = self.measured.loc[cost_class]
            extra = (trainings - row["trainings"]) * self.busy_seconds(flops)
            return max(float(row["h100_seconds"]) + extra, 0.0), "measured"
        return self.overhead.value + self.busy_seconds(trainings * flops), "estimated"

    def device_seconds(self, alone: float, busy: float, per_device: int) -> float:
        """What a step costs the device when ``per_device`` programs share it."""
        if per_device <= 1:
            return alone
        return max(busy, alone / (per_device * self.concurrency.value))


@cache
def default_model() -> CostModel:
    """The model of the committed tables."""
    return CostModel.from_tables(measured_steps(), class_costs())
