"""The training loop: `fit` runs epochs of mini-batch steps and returns a `History`.

Keras-like outside (`history.history["val_accuracy"]`), PyTorch-like inside: model.train(),
forward, loss, zero_grad, backward, step for every batch; model.eval() under no_grad() for
validation. Metrics are "accuracy" or callables `(y_true, y_pred_array) -> float`.
"""

import functools
import math
import numbers

import numpy as np

from autograd import no_grad

from . import functional as F
from .data import batches
from .losses import BCEWithLogitsLoss
from .module import Module


def accuracy(y_true, y_pred, threshold: float = 0.5) -> float:
    """The fraction of samples whose predicted class equals the true class.

    y_pred (n, k) with k > 1: the class is the argmax (logits or probabilities). y_pred (n,) or
    (n, 1): class 1 where y_pred > threshold (0.5 for sigmoid outputs, 0 for logits).
    y_true: labels (n,) or (n, 1), or one-hot / probability rows (n, k).
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_pred.ndim == 0 or y_true.ndim == 0 or len(y_true) != len(y_pred) or not len(y_pred):
        raise ValueError(f"accuracy: y_true and y_pred need the same positive number of samples, "
                         f"got shapes {y_true.shape} and {y_pred.shape}")
    pred = y_pred.reshape(len(y_pred), -1)
    true = y_true.reshape(len(y_true), -1)
    pred = pred.argmax(axis=1) if pred.shape[1] > 1 else pred[:, 0] > threshold
    true = true.argmax(axis=1) if true.shape[1] > 1 else true[:, 0]
    return float(np.mean(pred == true))


class History:
    """Per-epoch records of `fit`: `history.history["loss"]`, or `history.loss`, one per epoch.

    Keys: "loss" and each metric's name, and the same with a "val_" prefix when validation
    data is given. `history.epoch` lists the epoch numbers (from 0).
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []

    def append(self, epoch: int, record: dict[str, float]) -> None:
        """Add one epoch's values, {name: value}."""
        self.epoch.append(epoch)
        for name, value in record.items():
            self.history.setdefault(name, []).append(value)

    def __getattr__(self, name):
        records = self.__dict__.get("history", {})
        if name in records:
            return records[name]
        raise AttributeError(f"History has no record {name!r}; it has {sorted(records)}")

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


def _metric_functions(metrics, logits: bool) -> dict:
    if isinstance(metrics, str) or callable(metrics):
        metrics = (metrics,)
    functions = {}
    for metric in metrics:
        if metric == "accuracy":
            threshold = 0.0 if logits else 0.5  # a logit of 0 is a probability of 0.5
            functions["accuracy"] = functools.partial(accuracy, threshold=threshold)
        elif callable(metric):
            functions[getattr(metric, "__name__", type(metric).__name__)] = metric
        else:
            raise ValueError(f"fit: unknown metric {metric!r}; valid: 'accuracy' or a callable "
                             "(y_true, y_pred_array) -> float")
    return functions


def _scores(functions: dict, y_true, y_pred) -> dict:
    return {name: float(fn(y_true, y_pred)) for name, fn in functions.items()}


def _as_model_dtype(model: Module, X: np.ndarray) -> np.ndarray:
    """X in the parameters' dtype, so float64 data does not silently upcast a float32 model."""
    dtypes = {p.dtype for p in model.parameters()}
    if len(dtypes) == 1:
        (dtype,) = dtypes
        if X.dtype != dtype:
            return X.astype(dtype)
    return X


def evaluate(model: Module, loss_fn, X, y, batch_size: int | None = None, metrics=()) -> dict:
    """The loss and metrics of `model` on (X, y), in eval mode and without recording a graph.

    `metrics`: names and callables as in `fit`, or a dict {name: function}. Returns
    {"loss": ..., name: ...}; the loss is the batch losses' mean weighted by batch size
    (`batch_size=None`: one batch). The model is left in eval mode.
    """
    functions = metrics if isinstance(metrics, dict) else _metric_functions(
        metrics, _is_logits_loss(loss_fn))
    X, y = _as_model_dtype(model, np.asarray(X)), np.asarray(y)
    model.eval()
    total, outputs = 0.0, []
    with no_grad():
        for xb, yb in batches(X, y, batch_size or max(len(X), 1), shuffle=False):
            out = model(xb)
            total += loss_fn(out, yb).item() * len(xb)
            outputs.append(out.data)
    result = {"loss": total / len(X)}
    if functions:
        result.update(_scores(functions, y, np.concatenate(outputs)))
    return result


def _is_logits_loss(loss_fn) -> bool:
    return isinstance(loss_fn, BCEWithLogitsLoss) or loss_fn is F.bce_with_logits_loss


def fit(model: Module, loss_fn, optimizer, X, y, epochs: int = 1, batch_size: int | None = 32,
        validation_data: tuple | None = None, metrics=(), progress: bool = True,
        shuffle: bool = True, rng: np.random.Generator | None = None) -> History:
    """Train `model` on (X, y) for `epochs` passes of mini-batches; returns the History.

    `batch_size=None` uses the whole set (full-batch gradient descent). Training loss and
    metrics are averaged over each epoch's batches; `validation_data=(X_val, y_val)` adds
    "val_" records measured after each epoch. "accuracy" thresholds single-column outputs at
    0.5, or at 0 when the loss is BCEWithLogitsLoss. Progress: a tqdm bar when tqdm is
    installed, otherwise a line per epoch; `progress=False` prints nothing.
    A loss that becomes inf or nan stops training with a FloatingPointError, before that
    batch's update. Afterwards the model is back in the mode (train/eval) it had before.
    """
    X, y = _as_model_dtype(model, np.asarray(X)), np.asarray(y)
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"fit: X must hold at least one sample, got shape {X.shape}")
    if not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"fit: epochs must be an integer >= 0, got {epochs!r}")
    if validation_data is not None and len(validation_data) != 2:
        raise ValueError("fit: validation_data must be a pair (X_val, y_val)")
    functions = _metric_functions(metrics, _is_logits_loss(loss_fn))
    size = len(X) if batch_size is None else batch_size
    batches(X, y, size)  # checks shapes and batch_size before any work
    history, was_training = History(), model.training
    bar = _progress_bar(epochs) if progress else None
    try:
        for epoch in range(epochs):
            model.train()
            total, outputs, targets = 0.0, [], []
            for i, (xb, yb) in enumerate(batches(X, y, size, shuffle, rng)):
                out = model(xb)
                loss = loss_fn(out, yb)
                value = loss.item()
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"fit: the loss became {value} at epoch {epoch + 1}, batch {i + 1}; "
                        "try a smaller learning rate or scaled inputs (e.g. standardised X)")
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total += value * len(xb)
                if functions:
                    outputs.append(out.data)
                    targets.append(yb)
            record = {"loss": total / len(X)}
            if functions:
                record.update(_scores(functions, np.concatenate(targets), np.concatenate(outputs)))
            if validation_data is not None:
                scores = evaluate(model, loss_fn, *validation_data, batch_size, functions)
                record.update({"val_" + name: value for name, value in scores.items()})
            history.append(epoch, record)
            _report(bar, epoch, epochs, record, progress)
    finally:
        model.train(was_training)
        if bar is not None:
            bar.close()
    return history


def _progress_bar(epochs: int):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=epochs, desc="fit", unit="epoch")


def _report(bar, epoch: int, epochs: int, record: dict, progress: bool) -> None:
    if not progress:
        return
    line = "  ".join(f"{name} {value:.4g}" for name, value in record.items())
    if bar is None:
        print(f"epoch {epoch + 1}/{epochs}  {line}", flush=True)
    else:
        bar.set_postfix_str(line, refresh=False)
        bar.update(1)
