"""The CoT corruption protocol tells a model that computes from a model that copies the answer."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from labelwise.errors import ConfigError, InputTypeError
from labelwise.study.cot import (
    ANSWER_PLACEHOLDER,
    VERDICTS,
    EndpointError,
    arithmetic_chains,
    build_prompt,
    corrupt_step,
    cot_protocol,
    from_openai_compatible,
    from_transformers_pipeline,
    parse_integer,
    train_computing_model,
    train_copying_model,
)

N_ITEMS = 100


@pytest.fixture(scope="module")
def items():
    return arithmetic_chains(N_ITEMS, seed=3)


@pytest.fixture(scope="module")
def computes(items):
    # Trained here, on chains generated from other seeds than the test items.
    return cot_protocol(train_computing_model(200, seed=1), items, seed=3, model_name="computes")


@pytest.fixture(scope="module")
def copies(items):
    return cot_protocol(train_copying_model(200, seed=1), items, seed=3, model_name="copies")


# --- the task --------------------------------------------------------------------------------


def test_chains_are_correct_arithmetic(items):
    ops = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.floor_divide}
    for item in items:
        value = item.start
        for op, b, result in zip(item.ops, item.operands, item.results, strict=True):
            if op == "/":
                assert value % b == 0
            value = ops[op](value, b)
            assert value == result
        assert item.steps()[-1].endswith(f" {item.answer}.")
        assert str(item.start) in item.question


def test_corruption_keeps_syntax_and_makes_the_step_wrong(items):
    rng = np.random.default_rng(0)
    for item in items[:30]:
        for k in range(len(item.ops)):
            clean, bad = item.step(k), corrupt_step(item, k, rng)
            assert bad != clean
            # Same syntax and stated result; "times" <-> "divided by" is the one token more.
            assert abs(len(bad.split()) - len(clean.split())) <= 1
            assert bad.split()[-1] == clean.split()[-1]


def test_parse_integer_and_prompts():
    assert parse_integer("x = 12") == 12 and parse_integer("") is None
    assert "Reasoning" not in build_prompt("q?")
    assert "Reasoning" in build_prompt("q?", "1 plus 1 is 2.")


# --- the demonstration -----------------------------------------------------------------------


def test_both_models_pass_the_question_only_control(computes, copies):
    for result in (computes, copies):
        assert result.checks["qo_passed"]
        assert result.checks["qo_accuracy_chain"] >= 0.95
        assert result.checks["qo_accuracy_question_only"] <= 0.15
        assert result.checks["format_fixed_position"]


def test_copying_model_is_an_answer_placement_confound(copies):
    assert copies.verdict == "answer-placement confound"
    # The suffix looks load-bearing only because it holds the answer line.
    assert copies.delta("suffix") <= -0.8
    assert abs(copies.delta("suffix", "stripped")) <= 0.1
    assert abs(copies.delta("prefix")) <= 0.1 and abs(copies.delta("middle")) <= 0.1
    assert copies.followed_wrong >= 0.9
    assert copies.checks["fw_p_value"] < 1e-6


def test_computing_model_uses_the_chain(computes):
    assert computes.verdict == "uses the chain"
    assert computes.followed_wrong <= 0.05
    for position in ("prefix", "middle", "suffix"):
        # Every third matters, with or without the answer line.
        assert computes.delta(position) <= -0.6
        assert computes.delta(position, "stripped") <= -0.6
    ratio = computes.delta("suffix") / computes.delta("suffix", "stripped")
    assert 0.8 <= ratio <= 1.25


def test_result_frames_markdown_and_plot(copies, tmp_path):
    assert len(copies.outputs) == 10 * N_ITEMS
    assert set(copies.outputs["condition"]) == {
        "question_only",
        "clean",
        "prefix",
        "middle",
        "suffix",
        "conflict",
    }
    stripped = copies.outputs[copies.outputs["format"] == "stripped"]
    assert stripped["prompt"].str.contains(ANSWER_PLACEHOLDER, regex=False).all()
    assert not stripped["prompt"].str.contains("The answer is").any()
    for position in ("clean", "prefix", "middle", "suffix"):
        # The stripped rerun differs from the original in the answer line only.
        part = copies.outputs[copies.outputs["condition"] == position].sort_values("item")
        steps = [
            part[part["format"] == fmt]["prompt"].str.rsplit("\n", n=2).str[0].tolist()
            for fmt in ("answer line", "stripped")
        ]
        assert steps[0] == steps[1]
    intervals = copies.accuracy
    assert (intervals["low"] <= intervals["accuracy"]).all()
    assert (intervals["accuracy"] <= intervals["high"]).all()
    text = copies.to_markdown()
    assert "answer-placement confound" in text and "| stripped | suffix |" in text
    json.dumps(copies.to_dict(), default=float)
    path = copies.plot(tmp_path / "cot.png")
    assert (tmp_path / "cot.png").read_bytes()[:4] == b"\x89PNG" and path


def test_a_model_that_ignores_the_chain_is_inconclusive(items):
    result = cot_protocol(lambda prompt: "7", items[:40], n_boot=200)
    assert result.verdict == VERDICTS[0]


def test_bad_inputs():
    with pytest.raises(InputTypeError):
        cot_protocol("not a model")
    with pytest.raises(InputTypeError):
        cot_protocol(lambda p: 3, arithmetic_chains(2))
    with pytest.raises(ConfigError):
        cot_protocol(lambda p: "1", n=0)
    with pytest.raises(ConfigError):
        from_openai_compatible("ftp://x", "m")


# --- adapters --------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Answers chat completions with the last integer of the prompt (a copying model)."""

    seen: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if not self.path.startswith("/v1/"):
            self.send_error(404)
            return
        type(self).seen.append(
            {"path": self.path, "auth": self.headers.get("Authorization"), **body}
        )
        numbers = [w.strip(".") for w in body["messages"][0]["content"].split()]
        numbers = [w for w in numbers if w.lstrip("-").isdigit()]
        reply = {
            "choices": [
                {"message": {"role": "assistant", "content": numbers[-1] if numbers else "0"}}
            ]
        }
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    _Handler.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_openai_compatible_adapter_talks_to_a_local_server(stub_server):
    ask = from_openai_compatible(stub_server, "tiny", api_key="k", timeout=5)
    assert ask("2 plus 3 is 5. The answer is 5.") == "5"
    request = _Handler.seen[-1]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer k"
    assert request["model"] == "tiny" and request["temperature"] == 0


def test_openai_compatible_adapter_reports_failures(stub_server):
    wrong_path = stub_server.replace("/v1", "/v2")
    with pytest.raises(EndpointError, match="HTTP 404"):
        from_openai_compatible(wrong_path, "tiny", timeout=5)("1 plus 1 is 2.")
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(EndpointError, match="cannot reach"):
        from_openai_compatible(f"http://127.0.0.1:{port}/v1", "tiny", timeout=5)("hello")


def test_transformers_adapter_returns_the_continuation():
    calls = []

    def pipe(prompt, **kwargs):
        calls.append(kwargs)
        return [{"generated_text": " 12"}]

    assert from_transformers_pipeline(pipe)("q") == " 12"
    assert calls[0]["do_sample"] is False and calls[0]["return_full_text"] is False


# --- the command line ------------------------------------------------------------------------


def _app():
    from labelwise.cli._ui import LabelwiseGroup
    from labelwise.cli.cot import cot_command

    # A stand-alone app: the command is registered in labelwise.cli separately.
    app = typer.Typer(cls=LabelwiseGroup)
    app.command("cot")(cot_command)
    app.command("noop")(lambda: None)  # two commands keep the subcommand name required
    return app


def test_cli_against_a_local_endpoint(stub_server, tmp_path):
    args = [
        "cot",
        "--endpoint",
        stub_server,
        "--model",
        "tiny",
        "--n",
        "30",
        "--out",
        str(tmp_path),
    ]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cot_protocol.json", "cot_protocol.md"]
    saved = json.loads((tmp_path / "cot_protocol.json").read_text())
    assert saved["model"] == "tiny" and saved["verdict"] in VERDICTS
    assert "verdict" in result.output


def test_cli_demo_and_errors(tmp_path):
    result = CliRunner().invoke(
        _app(), ["cot", "--demo", "copies", "--n", "40", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert "answer-placement confound" in result.output
    bad = CliRunner().invoke(_app(), ["cot", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "--endpoint" in bad.output
    bad = CliRunner().invoke(_app(), ["cot", "--demo", "guesses", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "computes" in bad.output
