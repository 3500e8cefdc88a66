"""A regression model's output: one real-valued prediction per row.

Drift of the prediction (PSI on reference deciles, KS and Wasserstein on a fine reference-quantile
grid, the share outside the reference's range) and an expected error without labels by direct
loss estimation: on the reference, where targets are known, a model of the error learns how
large |y - y_hat| and (y - y_hat)^2 are given the features and the prediction; on a window, the
mean of its predicted errors estimates the MAE, and the square root of the mean predicted squared
error the RMSE. It sees the error grow where the inputs move into regions where the model was
already weak; like every label-free estimate it cannot see a change of P(y | x).

The error model is gradient-boosted trees of depth :data:`DEPTH` (scikit-learn's histogram-based
boosting), fitted on the reference; the reference's own estimate comes from models fitted on
halves of it, each predicting the other half (cross-fitting). The trees are stored as plain
arrays: the monitor file stays JSON, and predicting is a few vector comparisons per tree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor, HistGradientBoostingRegressor

from labelwise.errors import InputError, LabelError
from labelwise.monitor._counts import (
    FeatureBins,
    _numeric_values,
    first_where,
    numeric_output,
    quantile_edges,
)
from labelwise.monitor._fit import fine_edges
from labelwise.monitor._output import Output, Rows, ratio
from labelwise.monitor._values import encode_values, value_rows, value_sizes, value_statistics

__all__ = ["RegressionOutput", "TreeEnsemble", "check_targets", "check_predictions"]

#: Depth of every tree of the error model (complete binary trees of 2**DEPTH leaves).
DEPTH = 4
#: Trees per error model, and their learning rate.
N_TREES = 100
LEARNING_RATE = 0.1
#: Reference rows the error models are fitted on, at most.
FIT_ROWS = 200_000


def check_predictions(column: pd.Series, name: str) -> np.ndarray:
    """Predictions as finite float64, or an error naming the column and the first bad row."""
    label = f"prediction column {name!r}"
    values = numeric_output(column, label, "the model's numeric predictions")
    bad = first_where(~np.isfinite(values))
    if bad is not None:
        raise InputError(
            f"{label} holds a missing or infinite value at row {bad}; every monitored row needs "
            "a prediction."
        )
    return values


def check_targets(values: Any, what: str = "targets") -> np.ndarray:
    """Realized targets as finite float64."""
    try:
        y = np.asarray(pd.to_numeric(pd.Series(np.asarray(values)), errors="raise"), float)
    except (TypeError, ValueError):
        raise LabelError(f"{what} must be numbers for a regression monitor.") from None
    if not np.isfinite(y).all():
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise LabelError(f"{what} hold a missing or infinite value at row {bad}.")
    return y


@dataclass
class TreeEnsemble:
    """Boosted regression trees as arrays: ``init + rate * sum of leaf values``, clipped at 0.

    Every tree is stored complete to the ensemble's depth: a leaf reached early is a node that
    sends every row left (threshold +inf) onto copies of itself.
    """

    init: float
    rate: float
    feature: np.ndarray  # trees x (2**depth - 1) internal nodes, level by level
    threshold: np.ndarray
    leaf: np.ndarray  # trees x 2**depth
    #: The precision the trees compare in: float32 as GradientBoostingRegressor's trees do,
    #: float64 as HistGradientBoostingRegressor's predictors do.
    precision: str = "float64"

    @classmethod
    def from_sklearn(
        cls, model: GradientBoostingRegressor | HistGradientBoostingRegressor
    ) -> TreeEnsemble:
        """The trees of a fitted scikit-learn gradient-boosting regressor (squared error).

        A HistGradientBoostingRegressor's trees are read from its predictors' node arrays,
        which scikit-learn keeps private; their layout has been the same from 1.0 to 1.9, and
        the tests compare the predictions with scikit-learn's at the lowest supported version.
        """
        if isinstance(model, HistGradientBoostingRegressor):
            trees = [_hist_nodes(predictors[0].nodes) for predictors in model._predictors]
            init, rate, precision = float(np.ravel(model._baseline_prediction)[0]), 1.0, "float64"
        else:
            trees = [_tree_nodes(est.tree_) for est in model.estimators_[:, 0]]
            init, rate = float(model.init_.constant_.ravel()[0]), float(model.learning_rate)
            precision = "float32"
        depth = max(1, int(max(np.max(_depths(nodes)) for nodes in trees)))
        inner, leaves = 2**depth - 1, 2**depth
        feature = np.zeros((len(trees), inner), dtype=np.intp)
        threshold = np.full((len(trees), inner), np.inf)
        leaf = np.zeros((len(trees), leaves))
        for t, nodes in enumerate(trees):
            _complete(nodes, 0, 0, 0, depth, (feature[t], threshold[t], leaf[t]))
        return cls(init, rate, feature, threshold, leaf, precision)

    @property
    def depth(self) -> int:
        return int(np.log2(self.leaf.shape[1]))

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predictions for rows x features ``x`` (no missing values), clipped at zero.

        The trees compare values in the precision scikit-learn's own trees use, so the
        predictions equal its own. Each level's branch is chosen by selecting among the
        comparisons of all its nodes with the bits of the levels above (bitwise, no gathers),
        and the leaves of a few trees at a time are looked up at once in a table of their
        summed values.
        """
        dtype = np.float32 if self.precision == "float32" else np.float64
        columns = [np.ascontiguousarray(x[:, j], dtype=dtype) for j in range(x.shape[1])]
        threshold = _float32_below(self.threshold) if dtype == np.float32 else self.threshold
        total = np.full(x.shape[0], self.init)
        n_trees = self.feature.shape[0]
        group = max(1, _CODE_BITS // self.depth)
        for first in range(0, n_trees, group):
            trees = range(first, min(first + group, n_trees))
            code = np.zeros(x.shape[0], dtype=np.uint16)
            for t in trees:
                for bit in self._path(columns, threshold, t):
                    code <<= 1
                    code |= bit
            total += _group_table(self.leaf[list(trees)], self.rate).take(code)
        return np.maximum(total, 0.0)

    def _path(self, columns: list[np.ndarray], threshold: np.ndarray, t: int) -> list:
        """The branch taken at each level of tree ``t`` (True: right), most significant first."""
        bits: list[np.ndarray] = []
        for level in range(self.depth):
            first = 2**level - 1
            right = [
                columns[self.feature[t, p]] > threshold[t, p] for p in range(first, 2 * first + 1)
            ]
            bits.append(_select(right, bits))
        return bits

    def to_dict(self) -> dict:
        return {
            "init": self.init,
            "rate": self.rate,
            "feature": self.feature.tolist(),
            "threshold": [[_finite_or_none(v) for v in row] for row in self.threshold],
            "leaf": self.leaf.tolist(),
            "precision": self.precision,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> TreeEnsemble:
        threshold = np.array(
            [[np.inf if v is None else v for v in row] for row in d["threshold"]], dtype=float
        )
        return cls(
            float(d["init"]),
            float(d["rate"]),
            np.asarray(d["feature"], dtype=np.intp).reshape(threshold.shape),
            threshold,
            np.asarray(d["leaf"], dtype=float).reshape(threshold.shape[0], -1),
            d.get("precision", "float64"),
        )


def _float32_below(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 at or below each threshold: for a float32 x, x > t32 iff x > t.

    Comparing float32 columns with float64 thresholds would convert every column to float64.
    """
    t32 = threshold.astype(np.float32)
    above = t32.astype(float) > threshold
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def _select(options: list[np.ndarray], bits: list[np.ndarray]) -> np.ndarray:
    """The option at path index ``bits`` (most significant first) of each row."""
    for bit in reversed(bits):  # adjacent options differ in the last bit, then the one before
        # b ? hi : lo, bitwise on booleans: several times faster than np.where.
        options = [
            lo ^ ((hi ^ lo) & bit) for lo, hi in zip(options[::2], options[1::2], strict=True)
        ]
    return options[0]


#: Bits of the code that looks the leaves of several trees up at once (a uint16): four trees of
#: depth 3 (8**4 = 4096 summed values), three of depth 5.
_CODE_BITS = 16


def _group_table(leaves: np.ndarray, rate: float) -> np.ndarray:
    """Summed leaf values of a few trees for every combination of their leaves."""
    table = np.zeros(1)
    for values in leaves:
        table = (table[:, None] + rate * values[None, :]).ravel()
    return table


def _finite_or_none(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None  # JSON has no infinity


def _tree_nodes(tree: Any) -> dict[str, np.ndarray]:
    """A DecisionTreeRegressor's nodes: children (-1 at leaves), split, value."""
    return {
        "left": tree.children_left,
        "right": tree.children_right,
        "feature": tree.feature,
        "threshold": tree.threshold,
        "value": tree.value[:, 0, 0],
    }


def _hist_nodes(nodes: np.ndarray) -> dict[str, np.ndarray]:
    """A histogram-gradient-boosting predictor's nodes, in the same form as :func:`_tree_nodes`."""
    leaf = nodes["is_leaf"].astype(bool)
    return {
        "left": np.where(leaf, -1, nodes["left"].astype(np.int64)),
        "right": np.where(leaf, -1, nodes["right"].astype(np.int64)),
        "feature": nodes["feature_idx"],
        "threshold": nodes["num_threshold"],
        "value": nodes["value"],
    }


def _depths(nodes: dict) -> np.ndarray:
    """Depth of every node (the root at 0)."""
    depth = np.zeros(len(nodes["left"]), dtype=np.intp)
    for node in range(len(depth)):  # children come after their parent in both layouts
        for child in (nodes["left"][node], nodes["right"][node]):
            if child != -1:
                depth[child] = depth[node] + 1
    return depth


def _complete(nodes: dict, node: int, pos: int, level: int, depth: int, out: tuple) -> None:
    """Copy the tree below ``node`` into complete-tree position ``pos`` (see TreeEnsemble)."""
    feature, threshold, leaf = out
    if level == depth:
        leaf[pos - (2**depth - 1)] = nodes["value"][node]
        return
    left, right = nodes["left"][node], nodes["right"][node]
    if left == -1:  # a leaf above the last level: every row goes on, to copies of it
        left = right = node
    else:
        feature[pos], threshold[pos] = nodes["feature"][node], nodes["threshold"][node]
    _complete(nodes, left, 2 * pos + 1, level + 1, depth, out)
    _complete(nodes, right, 2 * pos + 2, level + 1, depth, out)


@dataclass
class ErrorInputs:
    """How a chunk becomes the error model's input matrix: features, then the prediction."""

    numeric: list[str] = field(default_factory=list)
    fill: list[float] = field(default_factory=list)  # reference medians for missing values
    categorical: list[str] = field(default_factory=list)
    categories: list[list] = field(default_factory=list)

    @classmethod
    def fit(cls, frame: pd.DataFrame, bins: Sequence[FeatureBins]) -> ErrorInputs:
        out = cls()
        for fb in bins:
            if fb.kind == "numeric":
                values = _numeric_values(frame[fb.name], fb.name)
                finite = values[np.isfinite(values)]
                out.numeric.append(fb.name)
                out.fill.append(float(np.median(finite)) if finite.size else 0.0)
            else:
                out.categorical.append(fb.name)
                out.categories.append(list(fb.categories))
        return out

    def matrix(self, frame: pd.DataFrame, prediction: np.ndarray) -> np.ndarray:
        columns = []
        for name, fill in zip(self.numeric, self.fill, strict=True):
            values = _numeric_values(frame[name], name)
            columns.append(np.where(np.isfinite(values), values, fill))
        for name, cats in zip(self.categorical, self.categories, strict=True):
            # Unseen and missing categories share code -1: the trees put them with the lowest.
            columns.append(pd.Index(cats).get_indexer(pd.Index(frame[name])).astype(float))
        columns.append(prediction)
        return np.column_stack(columns)

    def to_dict(self) -> dict:
        return {
            "numeric": self.numeric,
            "fill": self.fill,
            "categorical": self.categorical,
            "categories": self.categories,
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> ErrorInputs:
        return cls(
            list(d["numeric"]), list(d["fill"]), list(d["categorical"]), list(d["categories"])
        )


@dataclass
class RegressionOutput(Output):
    """Bins of the prediction and the error models of a regression monitor (JSON-able)."""

    kind: ClassVar[str] = "regression"
    thresholded: ClassVar[tuple[str, ...]] = (
        "score_psi",
        "score_ks",
        "score_wasserstein",
        "out_of_range_share",
    )

    prediction: str
    score_edges: np.ndarray
    fine_edges: np.ndarray
    prediction_std: float
    inputs: ErrorInputs | None = None
    abs_model: TreeEnsemble | None = None
    sq_model: TreeEnsemble | None = None

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        predictions: np.ndarray,
        targets: np.ndarray | None,
        *,
        prediction: str,
        bins: Sequence[FeatureBins],
        n_bins: int,
        fine_bins: int,
        random_state: int,
    ) -> tuple[RegressionOutput, dict, tuple | None]:
        """The output fitted on the reference; returns it, fit info and the reference's own
        error estimates out of fold (the rows they are for, and the estimates by key)."""
        output = cls(
            prediction=prediction,
            score_edges=quantile_edges(predictions, n_bins),
            fine_edges=fine_edges(predictions, fine_bins),
            prediction_std=float(np.std(predictions)),
        )
        if targets is None:
            return output, {"error_model": False, "reason": "no reference targets"}, None
        err = targets - predictions
        rng = np.random.default_rng([random_state, 2])  # its own stream
        n = len(predictions)
        rows = np.sort(rng.choice(n, min(n, FIT_ROWS), replace=False))
        output.inputs = ErrorInputs.fit(frame, bins)
        x = output.inputs.matrix(frame.iloc[rows], predictions[rows])
        losses = {"abs_hat": np.abs(err[rows]), "sq_hat": err[rows] ** 2}
        output.abs_model = _boost(x, losses["abs_hat"], random_state)
        output.sq_model = _boost(x, losses["sq_hat"], random_state)
        info = {
            "error_model": True,
            "error_model_rows": int(rows.size),
            "reference_mae": float(np.mean(np.abs(err))),
            "reference_rmse": float(np.sqrt(np.mean(err**2))),
        }
        return output, info, (rows, _out_of_fold(x, losses, rng, random_state))

    @property
    def columns(self) -> list[str]:
        return [self.prediction]

    # --- encoding -------------------------------------------------------------------------------

    def encode(self, frame: pd.DataFrame) -> dict[str, Any]:
        yhat = check_predictions(frame[self.prediction], self.prediction)
        enc: dict[str, Any] = {
            **encode_values(yhat, self.score_edges, self.fine_edges),
            "prediction": yhat,
        }
        if self.abs_model is not None:
            x = self.inputs.matrix(frame, yhat)
            enc["abs_hat"] = self.abs_model.predict(x)
            enc["sq_hat"] = self.sq_model.predict(x)
        return enc

    def encode_labels(self, enc: dict[str, Any], labels: np.ndarray) -> dict[str, Any]:
        err = labels - enc["prediction"]
        return {"abs_err": np.abs(err), "sq_err": err**2}

    def use_out_of_fold(self, enc: dict[str, Any], held: tuple) -> None:
        """The reference's own error estimates, out of fold for the rows the models saw.

        The error models are fitted on the whole reference (half the error of a model fitted
        on half of it, in a test); their in-sample estimates would be optimistic, and every
        window would then look worse than the reference.
        """
        rows, estimates = held
        for key, values in estimates.items():
            enc[key][rows] = values

    def sizes(self) -> dict[str, int]:
        return value_sizes(self.score_edges, self.fine_edges)

    def summed(self, enc: Mapping[str, Any]) -> tuple[str, ...]:
        keys = ("below", "above", "prediction")
        keys += ("abs_hat", "sq_hat") if "abs_hat" in enc else ()
        return keys + (("abs_err", "sq_err") if "abs_err" in enc else ())

    # --- statistics -----------------------------------------------------------------------------

    def statistics(self, ref: dict, cur: dict, smoothing: float, light: bool) -> dict:
        n_r, n_c = ref["n"][..., 0], cur["n"][..., 0]
        s = value_statistics(ref, cur, self.fine_edges, self.prediction_std, smoothing, light)
        s["mean_prediction"] = cur["prediction"][..., 0] / n_c
        s["mean_prediction_reference"] = ref["prediction"][..., 0] / n_r
        return s

    def performance(self, t: dict, realized: bool = True) -> dict:
        if "abs_hat" not in t:
            return {"mae": float("nan"), "rmse": float("nan")}
        n = t["n"][..., 0]
        out = {
            "mae": ratio(t["abs_hat"][..., 0], n),
            "rmse": np.sqrt(ratio(t["sq_hat"][..., 0], n)),
        }
        if realized and "abs_err" in t:
            out["realized_mae"] = ratio(t["abs_err"][..., 0], n)
            out["realized_rmse"] = np.sqrt(ratio(t["sq_err"][..., 0], n))
        return out

    @property
    def banded(self) -> tuple[str, ...]:
        return ("mae", "rmse")

    def drift_rows(self, rows: Rows) -> dict[str, float]:
        ratios = value_rows(rows)
        rows.info("score", "mean_prediction", rows.stats["mean_prediction"])
        rows.info("score", "mean_prediction_reference", rows.stats["mean_prediction_reference"])
        return ratios

    def rows(self, rows: Rows) -> dict[str, float]:
        ratios = {"entropy": float("nan"), "confidence": float("nan")}
        ratios["performance"] = rows.estimates(("mae", "rmse"))
        rows.info("operational", "volume", float(rows.n_rows))
        ratios["operational"] = rows.gated(
            "operational", "out_of_range_share", "out_of_range_share"
        )
        return ratios

    def notes(self, stats: dict) -> list[str]:
        notes = []
        if stats["out_of_range_share"] > 0:
            notes.append(
                f"{stats['out_of_range_share']:.2%} of predictions lie outside the reference range "
                f"[{self.fine_edges[0]:.4g}, {self.fine_edges[-1]:.4g}]"
            )
        if self.abs_model is None:
            notes.append("no reference targets: no expected error (fit with label=... for one)")
        return notes

    def bin_details(self, stats: dict) -> dict:
        return {"edges": self.score_edges.tolist(), "contributions": stats["score_contributions"]}

    # --- reconciliation -------------------------------------------------------------------------

    def realize(self, labels: Any, outputs: Any) -> tuple[dict[str, float], list[str]]:
        y = check_targets(labels)
        if outputs is None:
            return {}, ["no predictions given: the window's predictions are needed to reconcile"]
        yhat = check_predictions(pd.Series(np.asarray(outputs)), "predictions")
        if yhat.size != y.size:
            raise InputError(f"got {yhat.size} predictions for {y.size} targets; they must match.")
        err = y - yhat
        return {"mae": float(np.mean(np.abs(err))), "rmse": float(np.sqrt(np.mean(err**2)))}, []

    # --- persistence ----------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {
            "prediction": self.prediction,
            "score_edges": self.score_edges,
            "fine_edges": self.fine_edges,
            "prediction_std": self.prediction_std,
            "inputs": None if self.inputs is None else self.inputs.to_dict(),
            "abs_model": None if self.abs_model is None else self.abs_model.to_dict(),
            "sq_model": None if self.sq_model is None else self.sq_model.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: Mapping) -> RegressionOutput:
        has_model = d.get("abs_model") is not None
        return cls(
            prediction=d["prediction"],
            score_edges=np.asarray(d["score_edges"], float),
            fine_edges=np.asarray(d["fine_edges"], float),
            prediction_std=float(d["prediction_std"]),
            inputs=ErrorInputs.from_dict(d["inputs"]) if has_model else None,
            abs_model=TreeEnsemble.from_dict(d["abs_model"]) if has_model else None,
            sq_model=TreeEnsemble.from_dict(d["sq_model"]) if has_model else None,
        )


def _out_of_fold(
    x: np.ndarray, losses: Mapping[str, np.ndarray], rng: np.random.Generator, random_state: int
) -> dict[str, np.ndarray]:
    """Each loss predicted for every row by a model fitted on the other half of the rows."""
    fold = rng.permutation(len(x)) % 2 == 0
    out = {}
    for key, loss in losses.items():
        values = np.empty(len(x))
        for part in (fold, ~fold):
            values[~part] = _boost(x[part], loss[part], random_state).predict(x[~part])
        out[key] = values
    return out


def _boost(x: np.ndarray, target: np.ndarray, random_state: int) -> TreeEnsemble:
    """Boosted trees of depth :data:`DEPTH` fitted to ``target`` (histogram-based: seconds)."""
    model = HistGradientBoostingRegressor(
        max_iter=N_TREES,
        max_depth=DEPTH,
        learning_rate=LEARNING_RATE,
        min_samples_leaf=20,
        early_stopping=False,
        random_state=random_state,
    )
    return TreeEnsemble.from_sklearn(model.fit(x, target))
