"""The preference audit separates an entangled attribute from a directly preferred one."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from labelwise.errors import ConfigError, InputError, InputTypeError
from labelwise.study.preferences import (
    PREFERENCE_VERDICTS,
    preference_audit,
    synthetic_preferences,
)

N_PAIRS = 2000


@pytest.fixture(scope="module")
def entangled():
    data = synthetic_preferences(N_PAIRS, kind="entangled", seed=0)
    return preference_audit(data, ["acme"], quality="quality", seed=0)


@pytest.fixture(scope="module")
def direct():
    data = synthetic_preferences(
        N_PAIRS, kind="direct", preference=3.0, trigger="for beginners", seed=0
    )
    return preference_audit(data, ["acme"], quality="quality", seed=0)


def test_generator_entangles_attribute_and_quality():
    data = synthetic_preferences(4000, kind="entangled", seed=5)
    quality = np.r_[data["chosen_quality"], data["rejected_quality"]]
    has = np.r_[data["chosen"].str.contains("acme"), data["rejected"].str.contains("acme")]
    assert quality[has].mean() > quality[~has].mean() + 0.5
    # Chosen by quality: the chosen side is the better one in most pairs.
    assert (data["chosen_quality"] > data["rejected_quality"]).mean() > 0.75
    flat = synthetic_preferences(4000, kind="direct", seed=5)
    quality = np.r_[flat["chosen_quality"], flat["rejected_quality"]]
    has = np.r_[flat["chosen"].str.contains("acme"), flat["rejected"].str.contains("acme")]
    assert abs(quality[has].mean() - quality[~has].mean()) < 0.15


def test_entangled_attribute_is_flagged_with_b_a_near_zero(entangled):
    assert entangled.verdict == "entangled: amplification risk"
    # Chosen more often, yet only through quality.
    s = entangled.summary
    assert s["rate_chosen"] > 2 * s["rate_rejected"]
    assert s["win_rate"] > 0.75 and s["mcnemar_p"] < 1e-10
    assert s["corr_r"] > 0.3
    bt = entangled.bradley_terry.set_index("term")
    assert abs(bt.loc["attribute", "coef"]) < 2 * bt.loc["attribute", "se"]
    assert bt.loc["attribute", "low"] < 0 < bt.loc["attribute", "high"]
    assert bt.loc["quality", "coef"] > 2.5  # the generator's sharpness is 3
    assert len(entangled.significant_triggers()) == 0


def test_entangled_attribute_is_amplified_by_best_of_n(entangled):
    bias = entangled.best_of_n["bias_reward_model"].to_numpy()
    assert np.all(np.diff(bias) > 0)
    assert bias[0] < 0.35 and bias[-1] > 0.75
    # The reward model learned the attribute as a cue: it amplifies beyond quality itself,
    # and deleting the keyword lowers the reward.
    assert bias[-1] > entangled.best_of_n["bias_quality"].iloc[-1] + 0.08
    assert entangled.summary["counterfactual_reward_change"] < -0.5


def test_direct_preference_and_its_prompt_trigger(direct):
    assert direct.verdict == "direct preference"
    bt = direct.bradley_terry.set_index("term")
    assert bt.loc["attribute", "coef"] > 0.8 and bt.loc["attribute", "p_value"] < 1e-4
    assert abs(direct.summary["corr_r"]) < 0.1
    top = direct.significant_triggers()
    assert {"beginners", "for beginners"} <= set(top["ngram"].head(3))
    assert top["win_rate"].iloc[0] > top["win_rate_without"].iloc[0] + 0.15
    # Amplified by the reward model only; a quality-only picker stays at the base rate.
    bon = direct.best_of_n
    assert bon["bias_reward_model"].iloc[-1] > bon["bias_reward_model"].iloc[0] + 0.15
    assert abs(bon["bias_quality"].iloc[-1] - bon["bias_quality"].iloc[0]) < 0.05


def test_callables_bootstrap_and_no_quality():
    data = synthetic_preferences(600, kind="entangled", seed=2)
    scores = dict(zip(data["chosen"], data["chosen_quality"], strict=True))
    scores.update(zip(data["rejected"], data["rejected_quality"], strict=True))
    by_call = preference_audit(
        data, lambda t: "acme" in t, quality=scores.__getitem__, se="bootstrap", n_boot=50,
        n_draws=500,
    )  # fmt: skip
    by_column = preference_audit(data, "ACME", quality="quality", n_draws=500)
    assert by_call.coef("attribute") == pytest.approx(by_column.coef("attribute"))
    assert by_call.bradley_terry["se"].notna().all()
    assert "counterfactual_reward_change" not in by_call.summary
    blind = preference_audit(data, ["acme"], n_draws=500)
    assert blind.verdict == "attribute preferred (quality not controlled)"
    assert list(blind.bradley_terry["term"]) == ["attribute"]
    assert "bias_quality" not in blind.best_of_n


def test_outputs(entangled, tmp_path):
    assert entangled.table.to_numpy().sum() == N_PAIRS
    assert len(entangled.pairs) == N_PAIRS
    text = entangled.to_markdown()
    assert "entangled: amplification risk" in text and "bias(N), reward model" in text
    json.dumps(entangled.to_dict(), default=float)
    entangled.plot(tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_inputs():
    data = synthetic_preferences(50, seed=0)
    with pytest.raises(InputError, match="column"):
        preference_audit(data.drop(columns="prompt"), ["acme"])
    with pytest.raises(InputError, match="no response"):
        preference_audit(data, ["zebra"])
    with pytest.raises(InputError, match="quality column"):
        preference_audit(data, ["acme"], quality="score")
    with pytest.raises(InputTypeError):
        preference_audit(data.to_numpy(), ["acme"])
    with pytest.raises(ConfigError):
        preference_audit(data, ["acme"], se="jackknife")
    with pytest.raises(ConfigError):
        preference_audit(data, [])


def test_cli_writes_files(tmp_path):
    from labelwise.cli._ui import LabelwiseGroup
    from labelwise.cli.preferences import preferences_command

    # A stand-alone app: the command is registered in labelwise.cli separately.
    app = typer.Typer(cls=LabelwiseGroup)
    app.command("preferences")(preferences_command)
    app.command("noop")(lambda: None)  # two commands keep the subcommand name required
    path = tmp_path / "pairs.csv"
    synthetic_preferences(600, kind="entangled", seed=0).to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["preferences", str(path), "--attribute-keywords", "acme,ACME", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--quality-column", "quality"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == ["preference_audit.json", "preference_audit.md", "preference_audit.png"]
    saved = json.loads((out / "preference_audit.json").read_text())
    assert saved["verdict"] in PREFERENCE_VERDICTS
    assert "Bradley-Terry" in result.output
    bad = CliRunner().invoke(app, [*args, "--quality-column", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output
    frame = pd.read_csv(path)
    assert len(frame) == 600
