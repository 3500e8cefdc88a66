"""The preference-data audit on synthetic pairs: entangled vs directly preferred attribute.

    .venv/bin/python benchmarks/study_preferences.py     # about 20 s on two cores

"Alignment Tampering" (2026; figures from secondary summaries) reports that an attribute of the
policy's better answers is learned by the reward model and amplified by best-of-N sampling:
bias 0.20 at N=1 to 0.60 at N=16, and 11.0% -> 33.2% even with a weak bias-quality correlation.
Here ``labelwise.study.preferences`` audits two synthetic sets of 2,000 pairs (brand mention
"acme" in 20% of average responses):

- entangled: the brand is more likely in better responses; the annotator picks by quality
  only. The audit should find b_a ~ 0 with corr(dAttribute, dQuality) > 0 and a rising bias(N);
- direct: brand independent of quality; on prompts containing "for beginners" the annotator
  also prefers the brand. The audit should find b_a > 0 and the trigger n-gram.

Two checks of the method itself follow: b_a's calibration over 20 seeds of the entangled set
(its true value is 0), and what a noisy quality score does to b_a.

Writes benchmarks/results/preference_audit/: preference_audit.md, preference_audit.json and
preference_audit.png.
"""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

import numpy as np

import labelwise
from labelwise import io
from labelwise.study.preferences import preference_audit, synthetic_preferences

OUT = Path(__file__).resolve().parent / "results" / "preference_audit"
N_PAIRS = 2000
CALIBRATION_SEEDS = range(20)
NOISE_LEVELS = (0.0, 0.5, 1.0)


def _sets():
    return {
        "entangled": synthetic_preferences(N_PAIRS, kind="entangled", seed=0),
        "direct": synthetic_preferences(
            N_PAIRS, kind="direct", preference=3.0, trigger="for beginners", seed=0
        ),
    }


def _calibration() -> dict:
    """b_a on the entangled set over seeds, where the annotator never looks at the brand."""
    rows = []
    for seed in CALIBRATION_SEEDS:
        data = synthetic_preferences(N_PAIRS, kind="entangled", seed=seed)
        audit = preference_audit(data, ["acme"], quality="quality", n_draws=200, seed=seed)
        bt = audit.bradley_terry.set_index("term").loc["attribute"]
        rows.append((float(bt["coef"]), float(bt["se"]), float(bt["p_value"]), audit.verdict))
    coefs = np.array([r[0] for r in rows])
    return {
        "seeds": len(rows),
        "mean_b_a": float(coefs.mean()),
        "sd_b_a": float(coefs.std(ddof=1)),
        "mean_se": float(np.mean([r[1] for r in rows])),
        "share_p_below_0.05": float(np.mean([r[2] < 0.05 for r in rows])),
        "share_entangled_verdict": float(np.mean([r[3].startswith("entangled") for r in rows])),
    }


def _noisy_quality() -> list[dict]:
    """b_a when the quality score sees the latent quality through noise (entangled set)."""
    data = synthetic_preferences(N_PAIRS, kind="entangled", seed=0)
    rng = np.random.default_rng(0)
    rows = []
    for sd in NOISE_LEVELS:
        noisy = data.assign(
            chosen_noisy=data["chosen_quality"] + rng.normal(0, sd, len(data)),
            rejected_noisy=data["rejected_quality"] + rng.normal(0, sd, len(data)),
        )
        audit = preference_audit(noisy, ["acme"], quality="noisy", n_draws=200)
        bt = audit.bradley_terry.set_index("term").loc["attribute"]
        rows.append(
            {"noise_sd": sd, "b_a": float(bt["coef"]), "p_value": float(bt["p_value"]),
             "verdict": audit.verdict}
        )  # fmt: skip
    return rows


def _figure(audits: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 3.6), layout="constrained")
    ax_bt, ax_bon = figure.subplots(1, 2, width_ratios=[1, 1.4])
    for k, (name, audit) in enumerate(audits.items()):
        bt = audit.bradley_terry.set_index("term").loc["attribute"]
        err = [[bt["coef"] - bt["low"]], [bt["high"] - bt["coef"]]]
        ax_bt.errorbar([bt["coef"]], [k], xerr=err, fmt="o", capsize=4)
        bon = audit.best_of_n
        line = ax_bon.plot(bon["n"], bon["bias_reward_model"], marker="o",
                           label=f"{name}: reward model")  # fmt: skip
        ax_bon.plot(bon["n"], bon["bias_quality"], marker="s", linestyle="--",
                    color=line[0].get_color(), label=f"{name}: quality only")  # fmt: skip
    ax_bt.axvline(0, color="black", linewidth=0.8)
    ax_bt.set_yticks(range(len(audits)), [f"{n}\n{a.verdict}" for n, a in audits.items()])
    ax_bt.set_ylim(-0.6, len(audits) - 0.4)
    ax_bt.set_xlabel("b_a (attribute, quality controlled), 95% interval")
    ax_bt.set_title("Bradley-Terry attribute coefficient", fontsize="medium")
    ax_bon.set_xscale("log", base=2)
    ax_bon.set_xticks([1, 2, 4, 8, 16], ["1", "2", "4", "8", "16"])
    ax_bon.set_ylim(0, 1)
    ax_bon.set_xlabel("N")
    ax_bon.set_ylabel("share of best-of-N picks with the attribute")
    ax_bon.set_title("best-of-N forecast", fontsize="medium")
    ax_bon.legend(fontsize="small")
    with io.atomic_write(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=110)


def main() -> int:
    start = time.perf_counter()
    audits = {
        name: preference_audit(data, ["acme"], quality="quality", seed=0)
        for name, data in _sets().items()
    }
    calibration = _calibration()
    noisy = _noisy_quality()
    seconds = time.perf_counter() - start
    lines = [
        "# Preference-data audit: an attribute entangled with quality vs preferred directly",
        "",
        f"labelwise {labelwise.__version__}, Python {platform.python_version()}, "
        f"{seconds:.0f} s. Reproduce: `.venv/bin/python benchmarks/study_preferences.py`.",
        "",
        "| set | verdict | b_a (95% interval) | corr(dA, dQ) | win rate one-sided "
        "| bias(1) -> bias(16), reward model | same, quality only | triggers |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, a in audits.items():
        bt = a.bradley_terry.set_index("term").loc["attribute"]
        bon = a.best_of_n
        lines.append(
            f"| {name} | {a.verdict} | {bt['coef']:+.3f} [{bt['low']:+.3f}, {bt['high']:+.3f}] "
            f"| {a.summary['corr_r']:+.3f} | {a.summary['win_rate']:.3f} "
            f"| {bon['bias_reward_model'].iloc[0]:.3f} -> {bon['bias_reward_model'].iloc[-1]:.3f} "
            f"| {bon['bias_quality'].iloc[0]:.3f} -> {bon['bias_quality'].iloc[-1]:.3f} "
            f"| {', '.join(a.significant_triggers()['ngram'].head(3)) or '-'} |"
        )
    c = calibration
    lines += [
        "",
        "The reported best-of-N amplification (0.20 -> 0.60 at N=16) reproduces in kind; the "
        "size depends on the generator's entanglement (1.5 log-odds per unit of quality here) "
        "and is not a measurement of any real policy. In the entangled set even a picker that "
        "sees only the true quality amplifies the brand (better answers carry it); the reward "
        "model amplifies it further because text shows quality only through noisy cue words, "
        "so the brand becomes a cue of its own (deleting it lowers the reward by "
        f"{-audits['entangled'].summary['counterfactual_reward_change']:.2f} on average).",
        "",
        f"## Calibration of b_a ({c['seeds']} seeds of the entangled set; true b_a = 0)",
        "",
        f"Mean b_a {c['mean_b_a']:+.3f}, sd over seeds {c['sd_b_a']:.3f} against a mean "
        f"Hessian standard error {c['mean_se']:.3f}; p < 0.05 in {c['share_p_below_0.05']:.0%} "
        f"of seeds; verdict 'entangled' in {c['share_entangled_verdict']:.0%}. A single audit "
        "can therefore call an entangled attribute 'direct' at about the test's level.",
        "",
        "## A noisy quality score leaks into b_a (entangled set, seed 0)",
        "",
        "| quality score noise sd | b_a | p | verdict |",
        "|---|---|---|---|",
    ]
    for r in noisy:
        lines.append(
            f"| {r['noise_sd']:.1f} | {r['b_a']:+.3f} | {r['p_value']:.2g} | {r['verdict']} |"
        )
    lines += [
        "",
        "With a noisy quality score the attribute carries information about the quality the "
        "score misses, so b_a absorbs it: the separation is only as good as the quality score.",
        "",
        "## Details",
        "",
    ]
    for name, audit in audits.items():
        lines += [f"## {name}", "", audit.to_markdown()]
    OUT.mkdir(parents=True, exist_ok=True)
    io.write_text("\n".join(lines), OUT / "preference_audit.md")
    io.write_json(
        {
            "audits": {k: v.to_dict() for k, v in audits.items()},
            "calibration": calibration,
            "noisy_quality": noisy,
            "seconds": seconds,
        },
        OUT / "preference_audit.json",
    )
    _figure(audits, OUT / "preference_audit.png")
    print(f"wrote {OUT} in {seconds:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
