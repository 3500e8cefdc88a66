"""Chain-of-thought corruption studies with the three-prerequisite protocol.

Corruption studies read a model's reliance on a reasoning chain from how its accuracy falls
when steps are corrupted. "The Last Word Often Wins" (2026) shows the confound: when every chain
ends with "The answer is X", corrupting the last third of the chain also corrupts the answer
line, and a model that merely copies that line looks as if the suffix were where it computes.
The protocol run here asks, of any model given as a callable ``str -> str``:

1. **Question-only control**: is accuracy with the chain higher than with the question alone
   (exact McNemar test on the paired outcomes)? If not, positional effects mean nothing.
2. **Format characterization**: where do the chains state their answer, and is that position
   fixed (the final line of nearly every chain)?
3. **All-position sweep**: accuracy with the prefix, middle or suffix third of the steps
   corrupted (operator swapped, ``+1`` on the step's number, "plus" <-> "minus": length and
   syntax kept), reported whether significant or not, and rerun with the final answer line
   replaced by a neutral placeholder. The suffix condition also corrupts the answer line
   (``X -> X + 1``), as in chains where the answer line is the last step.

A conflicting-answer test completes it: correct steps ending in "The answer is <wrong>"; the
followed-wrong rate (FW) is the share of outputs equal to the wrong answer, judged against the
same share under the question-only prompt. Intervals are percentile bootstraps (2,000 resamples,
seeded).

The built-in task is synthetic multi-step integer arithmetic (:func:`arithmetic_chains`), and two
small learned demo models (:func:`train_computing_model`, :func:`train_copying_model`) show the
two behaviours the protocol separates.
"""

from labelwise.errors import EndpointError
from labelwise.study.cot._analysis import FIXED_POSITION_SHARE as FIXED_POSITION_SHARE
from labelwise.study.cot._analysis import FOLLOW_THRESHOLD as FOLLOW_THRESHOLD
from labelwise.study.cot._analysis import VERDICTS
from labelwise.study.cot._conditions import ANSWER_PLACEHOLDER
from labelwise.study.cot._conditions import POSITIONS as POSITIONS
from labelwise.study.cot._demo import demo_model, train_computing_model, train_copying_model
from labelwise.study.cot._endpoints import from_openai_compatible, from_transformers_pipeline
from labelwise.study.cot._prompts import Model as Model
from labelwise.study.cot._prompts import build_prompt, parse_integer
from labelwise.study.cot._protocol import cot_protocol
from labelwise.study.cot._result import CotProtocol, plot_protocols
from labelwise.study.cot._task import ArithmeticItem, answer_line, arithmetic_chains, corrupt_step

__all__ = [
    "ANSWER_PLACEHOLDER",
    "ArithmeticItem",
    "CotProtocol",
    "EndpointError",
    "VERDICTS",
    "answer_line",
    "arithmetic_chains",
    "build_prompt",
    "corrupt_step",
    "cot_protocol",
    "demo_model",
    "from_openai_compatible",
    "from_transformers_pipeline",
    "parse_integer",
    "plot_protocols",
    "train_computing_model",
    "train_copying_model",
]
