"""A grouped bar chart of ratios to the floor, drawn from the tables of one run."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class Charted(Protocol):
    """A table that can be charted: ratio to its floor by operation and contender."""

    floor: str

    def ratios(self) -> dict[str, dict[str, float]]: ...


def draw(tables: Sequence[Charted], paths: Sequence[Path], caption: str) -> None:
    """Draw one group of bars per operation, one bar per contender, into each of ``paths``."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on CI or a headless machine
    import matplotlib.pyplot as plt

    ratios = {operation: by for table in tables for operation, by in table.ratios().items()}
    contenders = list(dict.fromkeys(name for by in ratios.values() for name in by))
    floors = sorted({table.floor for table in tables})
    width = 0.8 / len(contenders)
    figure, axes = plt.subplots(figsize=(max(8.0, 1.2 * len(ratios)), 5.0))
    for k, name in enumerate(contenders):
        offset = (k - (len(contenders) - 1) / 2) * width
        bars = axes.bar(
            [i + offset for i in range(len(ratios))],
            [by.get(name, math.nan) for by in ratios.values()],
            width,
            label=name,
        )
        axes.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    axes.axhline(1.0, color="black", linewidth=1, linestyle="--", label=f"{', '.join(floors)} = 1")
    axes.set_xticks(range(len(ratios)), list(ratios), rotation=20, ha="right", fontsize=8)
    axes.set_ylabel("median time ÷ floor (lower is faster)")
    axes.set_title(f"Time per operation relative to {', '.join(floors)}")
    axes.legend(fontsize=8)
    figure.text(0.01, 0.01, caption, fontsize=7, color="dimgray")
    figure.tight_layout(rect=(0, 0.03, 1, 1))
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        figure.savefig(path, dpi=120)
    plt.close(figure)
