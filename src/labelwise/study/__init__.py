"""Studies: reproducible experiments that compare labelwise's methods on injected label noise."""

from labelwise.study.noise_benchmark import METHODS, NoiseBenchmark, noise_benchmark

__all__ = ["METHODS", "NoiseBenchmark", "noise_benchmark"]
