"""Collection rules shared by the tests and the doctests of the package."""

import importlib.util

# Modules that cannot be imported without an optional extra: their doctests run only with it.
collect_ignore = [
    path
    for path, module in [("src/labelwise/learn/cep.py", "torch")]
    if importlib.util.find_spec(module) is None
]
