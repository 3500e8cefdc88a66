"""The parameter constraints shared by every estimator and function."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pytest

from labelwise._params import (
    BOOLEAN,
    CALLABLE,
    InstanceOf,
    Interval,
    Options,
    check_params,
    is_integer,
    is_number,
    validate_params,
)
from labelwise.errors import ConfigError, InputError


@pytest.mark.parametrize("value", [3, np.int8(3), np.int64(3), np.uint16(3)])
def test_every_kind_of_integer_is_an_integer(value):
    assert is_integer(value)
    check_params({"n": [Interval(Integral, 1, None)]}, {"n": value})


@pytest.mark.parametrize("value", [True, np.bool_(True), 3.0, "3", None])
def test_bools_floats_and_text_are_not_integers(value):
    assert not is_integer(value)
    with pytest.raises(ConfigError, match=r"^n must be an integer >= 1, got "):
        check_params({"n": [Interval(Integral, 1, None)]}, {"n": value})


def test_numbers_exclude_nan_and_bools_but_not_huge_integers():
    assert is_number(np.float32(0.5)) and is_number(10**400) and is_number(float("inf"))
    assert not is_number(float("nan")) and not is_number(True) and not is_number("1")


@pytest.mark.parametrize(
    ("rule", "inside", "outside", "text"),
    [
        (Interval(Real, 0, 1), [0, 1, 0.5], [-0.1, 1.1], "a number in [0, 1]"),
        (Interval(Real, 0, 1, closed="neither"), [0.5], [0, 1], "a number in (0, 1)"),
        (Interval(Real, 0, None, closed="neither"), [1e-9], [0], "a number > 0"),
        (Interval(Integral, None, 5), [-3, 5], [6], "an integer <= 5"),
    ],
)
def test_intervals(rule, inside, outside, text):
    assert all(rule.accepts(v) for v in inside)
    assert not any(rule.accepts(v) for v in outside)
    assert str(rule) == text


def test_the_message_lists_the_rules_in_their_declared_order():
    rules = {"method": [Options(["zeta", "alpha"]), None]}
    check_params(rules, {"method": None})
    with pytest.raises(InputError, match=r"method must be one of 'zeta', 'alpha' or None, got 'x'"):
        check_params(rules, {"method": "x"}, error=InputError)


def test_other_rules():
    assert BOOLEAN.accepts(np.bool_(False)) and not BOOLEAN.accepts(0)
    assert CALLABLE.accepts(len) and not CALLABLE.accepts(3)
    assert InstanceOf(dict, "a dict").accepts({}) and str(InstanceOf(dict, "a dict")) == "a dict"
    assert not Options(["a"]).accepts(np.array(["a", "b"]))  # an array is not one option


def test_a_decorated_function_checks_its_arguments_and_keeps_its_signature():
    @validate_params({"k": [Interval(Integral, 1, None)]})
    def top(values, k=5):
        """Docs."""
        return k

    assert top([1], np.int64(2)) == 2 and top([1]) == 5 and top.__doc__ == "Docs."
    with pytest.raises(ConfigError, match="k must be"):
        top([1], k=0)


def test_a_constraint_on_a_parameter_that_does_not_exist_fails_at_once():
    with pytest.raises(TypeError, match="no parameters"):

        @validate_params({"kk": [None]})
        def f(k=1):
            return k
