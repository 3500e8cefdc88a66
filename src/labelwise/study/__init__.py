"""Studies: reproducible experiments on what label noise does, and audits of supervision.

- :func:`noise_benchmark`: noisy-label learners under injected noise;
- :func:`benchmark_stability`: does a benchmark's ranking survive corrected test labels?
- :func:`label_budget`: cheap noisy labels or fewer expensive clean ones, for a given budget;
- :func:`cot_protocol`: does a model use its chain of thought, or copy the stated answer?
- :func:`preference_audit`: is an attribute preferred for itself, or entangled with quality?
"""

from labelwise.study.benchmark import (
    BenchmarkStability,
    CorrectedTestSet,
    benchmark_stability,
    correct_test_set,
    digits_stability_data,
    read_crowd_votes,
    read_review_csv,
    simulate_reviews,
)
from labelwise.study.budget import LabelBudget, label_budget
from labelwise.study.cot import (
    CotProtocol,
    arithmetic_chains,
    cot_protocol,
    from_openai_compatible,
    from_transformers_pipeline,
)
from labelwise.study.noise_benchmark import METHODS, NoiseBenchmark, noise_benchmark
from labelwise.study.preferences import (
    PreferenceAudit,
    preference_audit,
    synthetic_preferences,
)

__all__ = [
    "METHODS",
    "BenchmarkStability",
    "CorrectedTestSet",
    "LabelBudget",
    "benchmark_stability",
    "correct_test_set",
    "digits_stability_data",
    "label_budget",
    "read_crowd_votes",
    "read_review_csv",
    "simulate_reviews",
    "CotProtocol",
    "NoiseBenchmark",
    "PreferenceAudit",
    "arithmetic_chains",
    "cot_protocol",
    "from_openai_compatible",
    "from_transformers_pipeline",
    "noise_benchmark",
    "preference_audit",
    "synthetic_preferences",
]
