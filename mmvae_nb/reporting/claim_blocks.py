"""The claims a notebook checked, shown as one short block per claim instead of a wide table.

A claims table (``experiments.claims.evaluate``: one row per claim) is read with its registry
(``CLAIMS`` of a ``sections.*_claims`` module) so that a quotation several claims share is shown
once, above the claims that check its parts (``Claim.scope``). Each claim's block says our
verdict with the difference and its spread, the verdict on the paper's own numbers, and the
evidence. Jupyter and the site render it as Markdown (``_repr_markdown_``); the table itself
stays the data (it is what the notebooks write and the scorecard reads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby

import numpy as np
import pandas as pd

from mmvae_nb.experiments.claims import Claim


def _difference(difference: float, spread: float) -> str:
    """'+0.012 vs spread 0.0041', or '' when nothing was measured."""
    if np.isnan(difference):
        return ""
    difference = 0.0 if abs(difference) < 1e-12 else difference  # equal cells, up to rounding
    return f"{difference:+.3g} vs " + ("no spread" if np.isnan(spread) else f"spread {spread:.3g}")


def _verdict(status: str, difference: float, spread: float) -> str:
    detail = _difference(difference, spread)
    return f"**{status}**" + (f" ({detail})" if detail else "")


@dataclass(frozen=True)
class ClaimBlocks:
    """The rows of a claims table with their registry records, rendered as Markdown."""

    table: pd.DataFrame
    registry: Sequence[Claim]

    def markdown(self) -> str:
        by_id = {claim.id: claim for claim in self.registry}
        unknown = sorted(set(self.table["id"]) - set(by_id))
        if unknown:
            raise ValueError(f"claims {unknown} are not in the registry given")
        rows = [(by_id[row.id], row) for row in self.table.itertuples(index=False)]
        blocks = []
        for quote, group in groupby(rows, key=lambda pair: pair[0].quote):
            blocks.append(f"> {quote}\n")
            for claim, row in group:
                scope = f" — {claim.scope}" if claim.scope else ""
                blocks.append(
                    f"- `{claim.id}`{scope}  \n"
                    f"  ours: {_verdict(row.status, row.difference, row.spread)} · "
                    f"the paper's numbers: "
                    f"{_verdict(row.paper_status, row.paper_difference, row.paper_spread)}  \n"
                    f"  evidence: {row.evidence}"
                )
            blocks.append("")
        return "\n".join(blocks)

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def __repr__(self) -> str:
        return self.markdown()
