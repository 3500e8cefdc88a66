"""Benchmark labelwise against cleanlab 2.9: speed, memory and agreement, plus MNIST.

    python benchmarks/run.py               # everything, full size (a few minutes)
    python benchmarks/run.py --quick       # smaller shapes, a fast check
    python benchmarks/run.py --only mnist  # one section; merged into the saved results

Writes benchmarks/results/find_issues.json and RESULTS.md (``--quick`` writes *.quick.* files
instead, so a fast check never overwrites the full-size figures).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

import cleanlab
import numpy as np
import psutil

import labelwise
from measure import source_digest
from mnist import run_mnist
from report import save
from speed import run_speed

RESULTS = Path(__file__).resolve().parent / "results"


def _environment() -> dict[str, Any]:
    return {
        "labelwise": labelwise.__version__,
        "labelwise_source_sha256": source_digest(),
        "cleanlab": cleanlab.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus_physical": psutil.cpu_count(logical=False),
        "cpus_logical": psutil.cpu_count(logical=True),
        # Wall times are only as good as the machine was quiet: keep its load with the figures.
        "load_average_1min": os.getloadavg()[0],
    }


def _paths(quick: bool) -> tuple[Path, Path]:
    suffix = ".quick" if quick else ""
    return RESULTS / f"find_issues{suffix}.json", RESULTS / f"RESULTS{suffix}.md"


def _previous(path: Path) -> dict[str, Any]:
    """Saved results of the same size, so that ``--only`` refreshes one section, not all."""
    return json.loads(path.read_text()) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller shapes, a fast check")
    parser.add_argument("--only", choices=["speed", "mnist"], help="run one section only")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per call (best kept)")
    args = parser.parse_args(argv)

    json_path, md_path = _paths(args.quick)
    results = _previous(json_path) if args.only else {}
    started = time.perf_counter()
    if args.only in (None, "speed"):
        print("speed and memory ...", file=sys.stderr, flush=True)
        results["speed"] = run_speed(quick=args.quick, repeats=args.repeats)
        # Each section keeps the source it measured: an --only run may refresh just one.
        results["speed"]["labelwise_source_sha256"] = source_digest()
    if args.only in (None, "mnist"):
        print("MNIST ...", file=sys.stderr, flush=True)
        results["mnist"] = {**run_mnist(), "labelwise_source_sha256": source_digest()}
    results["environment"] = _environment()
    # The command that regenerates the whole file (an --only run refreshes one section of it).
    results["command"] = "python benchmarks/run.py" + (" --quick" if args.quick else "")

    save(results, json_path, md_path, started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
