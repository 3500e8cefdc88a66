"""Label quantity vs quality on digits: regimes per budget and the cost-accuracy frontier.

    .venv/bin/python benchmarks/study_budget.py

Writes benchmarks/results/label_budget/{label_budget.md, label_budget.png}.
"""

from __future__ import annotations

import sys
from pathlib import Path

from labelwise.io import write_text
from labelwise.study.budget import label_budget

OUT = Path(__file__).resolve().parents[1] / "benchmarks" / "results" / "label_budget"


def main() -> int:
    study = label_budget(dataset="digits", seeds=[0, 1, 2])
    text = "# Label quantity vs quality on digits\n\n" + study.to_markdown()
    text += "\n![regimes and frontier](label_budget.png)\n"
    text += f"\nRan in {study.seconds:.0f} s.\n"
    write_text(text, OUT / "label_budget.md")
    study.plot(OUT / "label_budget.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
