"""The training loop: `fit` runs epochs of mini-batch steps and returns a `History`.

Keras-like outside (`history.history["val_accuracy"]`, early stopping, callbacks), PyTorch-like
inside: model.train(), forward, loss, zero_grad, backward, step for every batch (one function,
`_train_step`); model.eval() under no_grad() for validation; schedulers step once per epoch.
Metrics are "accuracy" or callables `(y_true, y_pred_array) -> float`.
"""

import functools
import math
import numbers

import numpy as np

from autograd import no_grad

from . import functional as F
from .clip_grad import clip_grad_norm_
from .compile import compile_step
from .data import batches
from .losses import BCEWithLogitsLoss
from .module import Module
from .optim.lr_scheduler import ReduceLROnPlateau


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
    data is given; "lr" (the rate each epoch ran at) with a scheduler ("lr_1", ... for the
    other param groups). `history.epoch` lists the epoch numbers (from 0). Why training ended:
    `stopped_by` is "epochs", "early_stopping" or "callback", and `stop_reason` says it in a
    sentence; `best_epoch` is the epoch whose weights early stopping restored (None without
    `patience`). `compiled` says whether the batches ran as a compiled step, and
    `eager_reason` why not (or why they stopped: "compile=False", a Dropout layer in training,
    a loss made with numpy code, ...), None when they did.
    """

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epoch: list[int] = []
        self.stopped_by: str | None = None
        self.stop_reason: str | None = None
        self.best_epoch: int | None = None
        self.compiled: bool = False
        self.eager_reason: str | None = None

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
        stopped = f", stopped_by={self.stopped_by!r}" if self.stopped_by else ""
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)}{stopped})"


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
        shuffle: bool = True, rng: np.random.Generator | None = None, scheduler=None,
        clip_grad_norm: float | None = None, patience: int | None = None,
        monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0,
        callbacks=(), compile: bool | None = None) -> History:
    """Train `model` on (X, y) for `epochs` passes of mini-batches; returns the History.

    `batch_size=None` uses the whole set (full-batch gradient descent). Training loss and
    metrics are averaged over each epoch's batches; `validation_data=(X_val, y_val)` adds
    "val_" records measured after each epoch. "accuracy" thresholds single-column outputs at
    0.5, or at 0 when the loss is BCEWithLogitsLoss.
    Options, all off by default (and then costing nothing per batch):
    - `scheduler`: an `nn.optim.lr_scheduler` schedule, stepped after each epoch
      (ReduceLROnPlateau with the `monitor` value); the History gets an "lr" record.
    - `clip_grad_norm`: clip the gradients' joint 2-norm to this value before every step.
    - `patience`: early stopping: stop when `monitor` ("val_loss", "loss", "val_accuracy", ...)
      has not improved for `patience` epochs (0: at the first epoch that does not improve),
      and end with the best epoch's weights, whether or not training stopped early. `mode`
      "min" or "max" says which way is better ("auto": max for *accuracy, min for *loss);
      a gain of `min_delta` or less does not count as improving (but can be the best epoch).
    - `callbacks`: callables (or one) called after each epoch with the record,
      {"epoch": e, "loss": ..., ...}; one that returns False stops training.
    Compiled by default: each batch runs as `nn.compile_step` (the same bits, faster on small
    networks) whenever the model, loss and optimizer allow it, and eagerly otherwise, quietly,
    with the reason in `history.eager_reason` (from the first batch that cannot be compiled
    on). `compile=False` runs eagerly; `compile=True` compiles, warning (CompileWarning) about
    what runs eagerly. When compiled, a non-finite loss's backward pass has already run, so
    `.grad` holds that batch's gradients when fit raises.
    Progress: a tqdm bar when tqdm is installed, otherwise a line per epoch; `progress=False`
    prints nothing. A loss that becomes inf or nan stops training with a FloatingPointError,
    before that batch's update. Afterwards the model is back in the mode it had before.
    """
    X, y = _as_model_dtype(model, np.asarray(X)), np.asarray(y)
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"fit: X must hold at least one sample, got shape {X.shape}")
    if not isinstance(epochs, numbers.Integral) or epochs < 0:
        raise ValueError(f"fit: epochs must be an integer >= 0, got {epochs!r}")
    if validation_data is not None and len(validation_data) != 2:
        raise ValueError("fit: validation_data must be a pair (X_val, y_val)")
    if getattr(loss_fn, "reduction", "mean") == "none":
        raise ValueError("fit: loss_fn must reduce to a scalar (reduction 'mean' or 'sum'), "
                         "got reduction='none'")
    functions = _metric_functions(metrics, _is_logits_loss(loss_fn))
    size = len(X) if batch_size is None else batch_size
    batches(X, y, size)  # checks shapes and batch_size before any work
    callbacks = [callbacks] if callable(callbacks) else list(callbacks)
    stopper = _watch(patience, monitor, mode, min_delta, scheduler, functions, validation_data)
    history, was_training = History(), model.training
    step = _train_step(model, loss_fn, optimizer, clip_grad_norm, compile, history)
    history.stopped_by, history.stop_reason = "epochs", f"completed {epochs} epochs"
    bar = _progress_bar(epochs) if progress else None
    try:
        for epoch in range(epochs):
            model.train()
            total, outputs, targets = 0.0, [], []
            for i, (xb, yb) in enumerate(batches(X, y, size, shuffle, rng)):
                out, value = step(xb, yb)
                if not math.isfinite(value):
                    raise FloatingPointError(
                        f"fit: the loss became {value} at epoch {epoch + 1}, batch {i + 1}; "
                        "try a smaller learning rate or scaled inputs (e.g. standardised X)")
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
            if scheduler is not None:
                # the rate this epoch ran at; with several param groups, "lr_1", ... too
                for i, group in enumerate(optimizer.param_groups):
                    record["lr" if i == 0 else f"lr_{i}"] = group["lr"]
                if isinstance(scheduler, ReduceLROnPlateau):
                    scheduler.step(record[monitor])
                else:
                    scheduler.step()
            history.append(epoch, record)
            _report(bar, epoch, epochs, record, progress)
            if _should_stop(history, epoch, record, model, stopper, callbacks):
                break
        if stopper is not None and stopper.best_state is not None:
            model.load_state_dict(stopper.best_state)  # the best epoch's weights, as promised
            history.best_epoch = stopper.best_epoch
    finally:
        model.train(was_training)
        if bar is not None:
            bar.close()
    if progress and history.stopped_by != "epochs":
        print(f"fit: {history.stop_reason}", flush=True)
    return history


def _train_step(model: Module, loss_fn, optimizer, clip_grad_norm: float | None,
                compile: bool | None = False, history: History | None = None):
    """The per-batch work of `fit`: step(xb, yb) -> (output, loss value).

    Forward, loss, then (only when the loss is finite) zero_grad, backward, optional clipping
    and the optimizer's step; or all of that as one compiled step (`compile` None: compiled
    until a batch cannot be, then eager, the reason in `history`). `fit` does nothing else per
    batch but add up the loss.
    """
    history = History() if history is None else history
    if clip_grad_norm is not None:
        if not (isinstance(clip_grad_norm, numbers.Real) and clip_grad_norm > 0):
            raise ValueError(f"fit: clip_grad_norm must be a number > 0, got {clip_grad_norm!r}")
        params = model.parameters()
    history.compiled = compile is not False
    if compile is False:
        history.eager_reason = "compile=False"
    if compile:
        return compile_step(model, loss_fn, optimizer, skip_nonfinite=True,
                            clip_grad_norm=clip_grad_norm).with_output
    if compile is None:
        reasons = []
        # flat=False: by default fit leaves the parameters' arrays where they are.
        compiled = compile_step(model, loss_fn, optimizer, skip_nonfinite=True,
                                clip_grad_norm=clip_grad_norm, on_eager=reasons.append,
                                flat=False)
        compiled_step = compiled.with_output

        def auto_step(xb, yb):
            if reasons:  # a batch ran eagerly (its result is eager's): from now on all do
                return eager_step(xb, yb)
            result = compiled_step(xb, yb)
            if reasons:
                history.compiled, history.eager_reason = False, reasons[0]
            return result

    def eager_step(xb, yb):
        out = model(xb)
        loss = loss_fn(out, yb)
        value = loss.item()
        if math.isfinite(value):  # a non-finite loss must not reach the weights
            optimizer.zero_grad()
            loss.backward()
            if clip_grad_norm is not None:
                clip_grad_norm_(params, clip_grad_norm)
            optimizer.step()
        return out, value

    return auto_step if compile is None else eager_step


class _EarlyStopping:
    """The best value of the monitored record so far, its epoch and a copy of its weights."""

    def __init__(self, patience: int, monitor: str, mode: str, min_delta: float):
        self.patience, self.monitor, self.mode = patience, monitor, mode
        self.min_delta = min_delta
        self.best = self.best_epoch = self.best_state = None
        self.waited = 0

    def update(self, epoch: int, value: float, model: Module) -> bool:
        """Note one epoch's value; True when `patience` epochs have passed without improving.

        The best epoch is the best value's, however small the gain; only a gain of more than
        `min_delta` resets the count (scikit-learn's tol rule).
        """
        if self.best is None:
            better = improved = True
        elif self.mode == "min":
            better, improved = value < self.best, value < self.best - self.min_delta
        else:
            better, improved = value > self.best, value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch = value, epoch
            self.best_state = model.state_dict()
        self.waited = 0 if improved else self.waited + 1
        return not improved and self.waited >= self.patience


def _watch(patience, monitor: str, mode: str, min_delta: float, scheduler, functions: dict,
           validation_data) -> _EarlyStopping | None:
    """Check the early-stopping and scheduler options; the stopper, or None without patience."""
    if patience is not None and (not isinstance(patience, numbers.Integral)
                                 or isinstance(patience, bool) or patience < 0):
        raise ValueError(f"fit: patience must be an integer >= 0, got {patience!r}")
    if not (isinstance(min_delta, numbers.Real) and 0 <= min_delta < math.inf):
        raise ValueError(f"fit: min_delta must be a finite number >= 0, got {min_delta!r}")
    if scheduler is not None and not hasattr(scheduler, "step"):
        raise TypeError(f"fit: scheduler must be an nn.optim.lr_scheduler schedule, got "
                        f"{type(scheduler).__name__}")
    plateau = isinstance(scheduler, ReduceLROnPlateau)
    if patience is None and not plateau:
        return None
    recorded = ["loss", *functions]
    if validation_data is not None:
        recorded += ["val_" + name for name in recorded]
    if monitor not in recorded:
        hint = (" (give validation_data, or monitor='loss')"
                if monitor.startswith("val_") and validation_data is None else "")
        raise ValueError(f"fit: monitor {monitor!r} is not recorded{hint}; recorded: {recorded}")
    if mode == "auto":
        mode = "max" if monitor.endswith("accuracy") else "min" if monitor.endswith("loss") else ""
        if not mode:
            raise ValueError(f"fit: cannot tell whether {monitor!r} should go down or up: "
                             "pass mode='min' or mode='max'")
    elif mode not in ("min", "max"):
        raise ValueError(f"fit: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if plateau and scheduler.mode != mode:
        raise ValueError(f"fit: ReduceLROnPlateau(mode={scheduler.mode!r}) watches {monitor!r}, "
                         f"which should go {'down' if mode == 'min' else 'up'} (mode={mode!r})")
    return None if patience is None else _EarlyStopping(int(patience), monitor, mode, min_delta)


def _should_stop(history: History, epoch: int, record: dict, model: Module,
                 stopper: _EarlyStopping | None, callbacks: list) -> bool:
    """Run early stopping and the callbacks after an epoch; True (and the reason) to stop."""
    if stopper is not None and stopper.update(epoch, record[stopper.monitor], model):
        history.stopped_by = "early_stopping"
        history.stop_reason = (
            f"early stopping after epoch {epoch}: {stopper.monitor} did not improve for "
            f"{stopper.waited} epochs; restored the weights of epoch {stopper.best_epoch} "
            f"({stopper.monitor} {stopper.best:.4g})")
        return True
    for callback in callbacks:
        if callback({"epoch": epoch, **record}) is False:
            name = getattr(callback, "__name__", type(callback).__name__)
            history.stopped_by = "callback"
            history.stop_reason = f"callback {name} returned False after epoch {epoch}"
            return True
    return False


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

