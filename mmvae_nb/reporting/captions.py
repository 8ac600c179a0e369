"""Captions under generated-image figures that say, from the measured coherence, whether the
models learned what the figure shows at this profile (a grid of grey squares must not be read
as a result).

Coherence is the accuracy of a pretrained classifier on the generated images (App. L); ten
digit classes make 0.1 its chance level. A figure whose models all stay within ``NEAR_CHANCE``
of chance is captioned as showing untrained decoders.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

NEAR_CHANCE = 0.05  # coherence this close to chance: nothing of the target was learned


@dataclass(frozen=True)
class Caption:
    """A line of Markdown shown under a figure (``_repr_markdown_``)."""

    text: str

    def _repr_markdown_(self) -> str:
        return self.text


def _range(values: pd.Series) -> str:
    low, high = values.min(), values.max()
    return f"{low:.2f}" if round(low, 2) == round(high, 2) else f"{low:.2f}-{high:.2f}"


def coherence_caption(
    what: str, ours: pd.Series, paper: pd.Series, profile: str, chance: float = 0.1
) -> Caption:
    """``what`` (e.g. "SVHN generated from MNIST") with our coherence over the figure's models,
    the paper's over its rows, and whether ours is above chance."""
    if ours.empty:
        return Caption(f"*{what}: coherence not measured at the `{profile}` profile.*")
    text = f"*{what}: coherence {_range(ours)} at the `{profile}` profile (chance {chance:.2f}" + (
        f"; the paper {_range(paper)})." if not paper.empty else ")."
    )
    if ours.max() <= chance + NEAR_CHANCE:
        text += " At chance: these models learned nothing of it at this profile, so the images"
        text += " show what untrained decoders draw, not a result."
    return Caption(text + "*")
