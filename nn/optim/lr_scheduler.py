"""Learning-rate schedules: change `optimizer.lr` once per epoch, as PyTorch's schedulers do.

Call `scheduler.step()` after each epoch's optimizer steps (`ReduceLROnPlateau.step(metric)`
with the monitored value). Each rate is computed with PyTorch's own recurrence, so the rates
match `torch.optim.lr_scheduler` step by step; `get_last_lr()` is a one-item list, as there.
"""

import math
import numbers

from autograd import Tensor

from .optimizers import Optimizer


def _check(where: str, name: str, value, low: float, integer: bool = False,
           inclusive: bool = False) -> None:
    kind = numbers.Integral if integer else numbers.Real
    ok = (isinstance(value, kind) and not isinstance(value, bool) and math.isfinite(value)
          and (value >= low if inclusive else value > low))
    if not ok:
        noun = "an integer" if integer else "a finite number"
        raise ValueError(f"{where}: {name} must be {noun} {'>=' if inclusive else '>'} {low}, "
                         f"got {value!r}")


def _check_optimizer(where: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{where}: expected an nn.optim optimizer, got {type(optimizer).__name__}")


class LRScheduler:
    """Base of the epoch schedules: `step()` moves `last_epoch` on and sets `optimizer.lr`.

    Subclasses define `_next_lr(lr)`, the rate for the new `last_epoch` given the current one.
    Construction counts as the first step (last_epoch 0) and leaves the rate unchanged.
    """

    def __init__(self, optimizer: Optimizer):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        self.base_lrs = [optimizer.lr]
        self.last_epoch = -1
        self._step_count = 0
        self.step()

    def _next_lr(self, lr: float) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the optimizer's learning rate for it."""
        self._step_count += 1
        self.last_epoch += 1
        lr = self.optimizer.lr
        if self.last_epoch > 0:  # epoch 0 is the optimizer's own rate
            lr = self.optimizer.lr = self._next_lr(lr)
        self._last_lr = [lr]

    def get_last_lr(self) -> list[float]:
        """[the learning rate set by the last step] (a list: PyTorch has one per group)."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer, to resume a schedule with `load_state_dict`."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict) -> None:
        """Restore a schedule saved by `state_dict`."""
        vars(self).update(state)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, lr={self._last_lr[0]:.6g})"


class StepLR(LRScheduler):
    """Multiply the rate by `gamma` every `step_size` epochs: lr_e = lr_0 gamma^(e // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        _check("StepLR", "step_size", step_size, 0, integer=True)
        _check("StepLR", "gamma", gamma, 0)
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr


class ExponentialLR(LRScheduler):
    """Multiply the rate by `gamma` every epoch: lr_e = lr_0 gamma^e."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        _check("ExponentialLR", "gamma", gamma, 0)
        self.gamma = gamma
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        return lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from lr_0 down to `eta_min` over `T_max` epochs, then back up, and so on.

    lr_e = eta_min + (lr_0 - eta_min) (1 + cos(pi e / T_max)) / 2, computed with PyTorch's
    recurrence from the previous rate (so a rate changed by hand carries on from there).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0):
        _check("CosineAnnealingLR", "T_max", T_max, 0, integer=True)
        _check("CosineAnnealingLR", "eta_min", eta_min, 0, inclusive=True)
        self.T_max, self.eta_min = int(T_max), eta_min
        super().__init__(optimizer)

    def _next_lr(self, lr: float) -> float:
        e, t, low = self.last_epoch, self.T_max, self.eta_min
        if (e - 1 - t) % (2 * t) == 0:  # leaving the minimum: the ratio below would be 0 / 0
            return lr + (self.base_lrs[0] - low) * (1 - math.cos(math.pi / t)) / 2
        ratio = (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t))
        return ratio * (lr - low) + low


class ReduceLROnPlateau:
    """Multiply the rate by `factor` when a metric has not improved for `patience` epochs.

    `step(metric)` once per epoch. "Improved" means below best * (1 - threshold) in mode "min"
    (above best * (1 + threshold) in "max"; threshold_mode="abs" adds instead). After a cut,
    `cooldown` epochs pass before bad epochs count again; the rate never goes below `min_lr`,
    and a cut smaller than `eps` is skipped. PyTorch's arguments and rules, except that a NaN
    metric raises a ValueError (PyTorch counts it as a bad epoch).
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr: float = 0.0, eps: float = 1e-8):
        where = "ReduceLROnPlateau"
        _check_optimizer(where, optimizer)
        if mode not in ("min", "max"):
            raise ValueError(f"{where}: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"{where}: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        if not (isinstance(factor, numbers.Real) and 0 < factor < 1):
            raise ValueError(f"{where}: factor must lie in (0, 1), got {factor!r}")
        _check(where, "patience", patience, 0, integer=True, inclusive=True)
        _check(where, "cooldown", cooldown, 0, integer=True, inclusive=True)
        for name, value in (("threshold", threshold), ("min_lr", min_lr), ("eps", eps)):
            _check(where, name, value, 0, inclusive=True)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, int(patience)
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lr, self.eps = int(cooldown), min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [optimizer.lr]

    def _is_better(self, value: float) -> bool:
        rel, t, best = self.threshold_mode == "rel", self.threshold, self.best
        if self.mode == "min":
            return value < (best * (1 - t) if rel else best - t)
        return value > (best * (1 + t) if rel else best + t)

    def step(self, metric) -> None:
        """Record one epoch's metric (a number or one-element Tensor); cut the rate if stuck."""
        value = metric.item() if isinstance(metric, Tensor) else float(metric)
        if math.isnan(value):
            raise ValueError("ReduceLROnPlateau.step: the metric is NaN")
        self.last_epoch += 1
        if self._is_better(value):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during the cooldown do not count
        if self.num_bad_epochs > self.patience:
            old = self.optimizer.lr
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.optimizer.lr = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [self.optimizer.lr]

    get_last_lr = LRScheduler.get_last_lr
    state_dict = LRScheduler.state_dict
    load_state_dict = LRScheduler.load_state_dict

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(mode={self.mode!r}, best={self.best:.6g}, "
                f"lr={self._last_lr[0]:.6g})")
