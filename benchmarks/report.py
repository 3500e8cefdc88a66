"""Turn results into tables: aligned plain text for the terminal, markdown for the README."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        widths = [max(len(c) for c in col) for col in zip(self.headers, *self.rows, strict=True)]
        line = "  ".join
        out = [self.title, line(h.ljust(w) for h, w in zip(self.headers, widths, strict=True))]
        out.append(line("-" * w for w in widths))
        out += [line(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in self.rows]
        return "\n".join(out + [f"  {note}" for note in self.notes])

    def markdown(self) -> str:
        out = [f"### {self.title}", "", "| " + " | ".join(self.headers) + " |"]
        out.append("|" + "|".join("---" for _ in self.headers) + "|")
        out += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n\n".join(["\n".join(out), *self.notes])  # each note its own paragraph


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _secs(s: float) -> str:
    return f"{s:.3f} s" if s < 10 else f"{s:.1f} s"


def _shape(n: int, k: int) -> str:
    return f"{n:,} × {k}"


def speed_table(speed: dict[str, Any]) -> Table:
    jobs = speed["cleanlab_default_n_jobs"]
    rows = [
        [
            _shape(r["n"], r["k"]),
            f"{r['pred_probs_nbytes'] / 2**20:.1f} MiB",
            _best_worst(r, "cleanlab"),
            _best_worst(r, "labelwise"),
            f"{r['speedup']:.1f}×",
            f"{r['cleanlab_s'] / r['labelwise_worst_s']:.1f}×" if "labelwise_worst_s" in r else "–",
            _numpy_path_cell(r),
            _yes(r["masks_identical"]),
            f"{r['rows_differ']:,}",
            f"{r['labelwise_flagged']:,}",
            f"{r['cleanlab_peak_extra_x']:.2f}×",
            f"{r['labelwise_peak_extra_x']:.2f}×",
        ]
        for r in speed["default"]
    ]
    headers = [
        "pred_probs (float32)",
        "size",
        f"cleanlab (n_jobs={jobs}), best (worst)",
        "labelwise, best (worst)",
        "speed-up",
        "speed-up, cleanlab's best / labelwise's worst",
        "labelwise, numpy path",
        "masks identical",
        "rows differ",
        "flagged",
        "cleanlab peak extra mem",
        "labelwise peak extra mem",
    ]
    notes = [
        f"Default call `find_label_issues(labels, pred_probs)` (prune_by_noise_rate); best (and "
        f"worst) of {speed['repeats']} wall times. The numpy path is labelwise with its compiled "
        "kernels off (LABELWISE_KERNELS=numpy), the reference they are tested equal to. Peak "
        "extra memory: tracemalloc peak during the call, as a multiple of pred_probs.nbytes "
        "(cleanlab measured with n_jobs=1)."
    ]
    first = speed.get("first_call")
    if first:
        notes.append(
            "A new process's first call (10,000 × 10, imports included) takes "
            f"{_secs(first['kernels']['first_s'])} with the kernels loaded from numba's cache and "
            f"{_secs(first['numpy']['first_s'])} on the numpy path; the second takes "
            f"{_secs(first['kernels']['second_s'])} and {_secs(first['numpy']['second_s'])}."
        )
    return Table("find_label_issues, default method", headers, rows, notes)


def _numpy_path_cell(row: dict[str, Any]) -> str:
    if "labelwise_numpy_s" not in row:
        return "–"
    same = "" if row.get("numpy_path_identical", True) else " (mask differs!)"
    return _secs(row["labelwise_numpy_s"]) + same


def _best_worst(row: dict[str, Any], tool: str) -> str:
    worst = row.get(f"{tool}_worst_s")
    best = _secs(row[f"{tool}_s"])
    return best if worst is None else f"{best} ({_secs(worst)})"


def methods_table(speed: dict[str, Any]) -> Table:
    n, k = speed["methods_shape"]
    rows = [
        [
            r["method"] + (" *" if r["composed"] else ""),
            f"{_secs(r['cleanlab_s'])} ({r['cleanlab_runs']}×)",
            f"{_secs(r['labelwise_s'])} ({r['labelwise_runs']}×)",
            f"{r['speedup']:.1f}×",
            _yes(r["masks_identical"]),
            f"{r['rows_differ']:,}",
            f"{r['labelwise_flagged']:,}",
        ]
        for r in speed["methods"]
    ]
    headers = ["method", "cleanlab (runs)", "labelwise (runs)", "speed-up", "identical"]
    headers += ["rows differ", "flagged"]
    notes = [
        "Best wall time over the runs shown; a slow call is timed fewer times. * cleanlab has no "
        "such filter_by: composed from compute_confident_joint(calibrate=False), "
        "get_label_quality_scores(normalized_margin) and argsort."
    ]
    return Table(f"Every method on {_shape(n, k)}", headers, rows, notes)


def _hits(h: dict[str, int], mnist: dict[str, Any]) -> list[str]:
    return [
        str(h["flagged"]),
        f"{h['validated_flagged']}/{mnist['validated_errors']}",
        f"{h['candidates_flagged']}/{mnist['candidates']}",
    ]


def mnist_table(mnist: dict[str, Any]) -> Table:
    rows = []
    for r in mnist["methods"]:
        ref = _hits(r["cleanlab"], mnist) if "cleanlab" in r else ["–"] * 3
        same = _yes(r["masks_identical"]) if "cleanlab" in r else "–"
        name = r["method"] + (" *" if r.get("composed") else "")
        rows.append([name, *_hits(r["labelwise"], mnist), *ref, same])
    headers = [
        "method",
        "labelwise flagged",
        "validated errors",
        "paper candidates",
        "cleanlab flagged",
        "validated errors",
        "paper candidates",
        "identical",
    ]
    noise = mnist["noise"]
    lo, hi = noise["interval"]
    notes = [
        f"MNIST test set, {mnist['n']:,} × {mnist['k']} float64 out-of-sample pred_probs. "
        f"Validated errors: the {mnist['validated_errors']} of the paper's "
        f"{mnist['candidates']} flagged candidates where fewer than 3 of 5 crowd workers chose "
        "the given label. * composed from cleanlab parts (see benchmarks/README.md).",
        f"labelwise estimate_noise: noise rate {noise['noise_rate']:.4%} "
        f"({noise['confidence']:.0%} bootstrap interval {lo:.4%} – {hi:.4%}), "
        f"{noise['expected_issues']} expected issues; cleanlab estimate_joint gives "
        f"{noise['cleanlab_noise_rate']:.4%}.",
    ]
    return Table("MNIST test set: human-validated label errors", headers, rows, notes)


def tables(results: dict[str, Any]) -> list[Table | str]:
    """The tables for whatever sections the results hold; a skipped section becomes a line."""
    out: list[Table | str] = []
    if "speed" in results:
        out += [speed_table(results["speed"]), methods_table(results["speed"])]
    mnist = results.get("mnist")
    if mnist is not None:
        out.append(
            f"MNIST skipped: {mnist['skipped']}" if "skipped" in mnist else mnist_table(mnist)
        )
    return out


def as_text(results: dict[str, Any]) -> str:
    return "\n\n".join(t if isinstance(t, str) else t.text() for t in tables(results))


def about(results: dict[str, Any]) -> str:
    """The versions, machine and command the figures came from, as one paragraph."""
    env = results["environment"]
    return (
        f"labelwise {env['labelwise']} (source sha256 {env['labelwise_source_sha256']}) vs "
        f"cleanlab {env['cleanlab']}, numpy {env['numpy']}, Python {env['python']}, "
        f"{env['cpus_physical']} physical / {env['cpus_logical']} logical CPUs "
        f"({env['machine']}, 1-minute load average {env['load_average_1min']:.1f} at the end). "
        f"Reproduce: `{results['command']}`."
    )


def as_markdown(results: dict[str, Any]) -> str:
    about_line = about(results)
    sources = {k: results.get(k, {}).get("labelwise_source_sha256") for k in ("speed", "mnist")}
    if len({v for v in sources.values() if v}) > 1:
        about_line += f" Sections measured different labelwise sources: {sources}; rerun in full."
    body = [t if isinstance(t, str) else t.markdown() for t in tables(results)]
    return "\n\n".join(["## Benchmarks", about_line, *body]) + "\n"


def save(
    results: dict[str, Any],
    json_path: Path,
    md_path: Path,
    started: float,
    render: tuple[Callable, Callable] = (as_text, as_markdown),
) -> None:
    """Print the tables, then write the results as JSON and markdown beside each other.

    ``render`` is the (text, markdown) pair of renderers, for scripts with tables of their own.
    """
    text, markdown = render
    print(text(results))
    print(f"\n(ran in {time.perf_counter() - started:.0f} s)")
    json_path.parent.mkdir(exist_ok=True)
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    print(f"wrote {json_path} and {md_path}")
