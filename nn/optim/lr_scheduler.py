"""Learning-rate schedules: change every param group's rate once per epoch (OneCycleLR: per
batch), as PyTorch's schedulers do.

Call `scheduler.step()` after each epoch's optimizer steps (`ReduceLROnPlateau.step(metric)`
with the monitored value). Each rate is computed with PyTorch's own recurrence, so the rates
match `torch.optim.lr_scheduler` step by step; `get_last_lr()` lists one rate per group.
"""

import bisect
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
    """Base of the epoch schedules: `step()` moves `last_epoch` on and sets every param group's
    rate, `param_groups[i]["lr"]`.

    Subclasses define `_lr(i, lr)`, group i's rate for the new `last_epoch` given its current
    one, and `_closed_form(i)`, the same from `base_lrs[i]` alone (which SequentialLR uses to
    start a schedule at a milestone). Construction counts as the first step (last_epoch 0); it
    leaves the rates as they are unless the schedule starts elsewhere (`_initial`). As in
    PyTorch, each group's first rate is kept as `initial_lr` and is the base of every schedule
    built on that optimizer later.
    """

    def __init__(self, optimizer: Optimizer):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = -1
        self._step_count = 0
        self.step()

    def _lr(self, i: int, lr: float) -> float:
        raise NotImplementedError

    def _initial(self, i: int, lr: float) -> float:
        return lr

    def _closed_form(self, i: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set each group's learning rate for it."""
        self._step_count += 1
        self.last_epoch += 1
        rate = self._initial if self.last_epoch == 0 else self._lr
        self._set([rate(i, group["lr"]) for i, group in enumerate(self.optimizer.param_groups)])

    def _restart(self) -> None:
        """Go to epoch 0 with the closed-form rates (SequentialLR, at a milestone)."""
        self.last_epoch = 0
        self._set([self._closed_form(i) for i in range(len(self.base_lrs))])

    def _set(self, rates: list) -> None:
        for group, lr in zip(self.optimizer.param_groups, rates, strict=True):
            group["lr"] = lr
        self._last_lr = list(rates)

    def get_last_lr(self) -> list[float]:
        """[each group's learning rate, as set by the last step]."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Everything but the optimizer, to resume a schedule with `load_state_dict`."""
        return {k: v for k, v in vars(self).items() if k != "optimizer"}

    def load_state_dict(self, state: dict) -> None:
        """Restore a schedule saved by `state_dict`."""
        vars(self).update(state)

    def __repr__(self) -> str:
        rates = [float(f"{r:.6g}") for r in self._last_lr]
        shown = f"lr={rates[0]:.6g}" if len(rates) == 1 else f"lrs={rates}"
        return f"{type(self).__name__}(last_epoch={self.last_epoch}, {shown})"


class StepLR(LRScheduler):
    """Multiply the rate by `gamma` every `step_size` epochs: lr_e = lr_0 gamma^(e // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        _check("StepLR", "step_size", step_size, 0, integer=True)
        _check("StepLR", "gamma", gamma, 0)
        self.step_size, self.gamma = int(step_size), gamma
        super().__init__(optimizer)

    def _lr(self, i: int, lr: float) -> float:
        return lr * self.gamma if self.last_epoch % self.step_size == 0 else lr

    def _closed_form(self, i: int) -> float:
        return self.base_lrs[i] * self.gamma ** (self.last_epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """Multiply the rate by `gamma` at each epoch in `milestones` (a milestone listed twice,
    twice): lr_e = lr_0 gamma^(number of milestones <= e)."""

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1):
        milestones = list(milestones)
        for m in milestones:
            _check("MultiStepLR", "each milestone", m, 0, integer=True, inclusive=True)
        _check("MultiStepLR", "gamma", gamma, 0)
        self.milestones, self.gamma = sorted(int(m) for m in milestones), gamma
        super().__init__(optimizer)

    def _lr(self, i: int, lr: float) -> float:
        return lr * self.gamma ** self.milestones.count(self.last_epoch)

    def _closed_form(self, i: int) -> float:
        return self.base_lrs[i] * self.gamma ** bisect.bisect_right(self.milestones,
                                                                    self.last_epoch)


class ExponentialLR(LRScheduler):
    """Multiply the rate by `gamma` every epoch: lr_e = lr_0 gamma^e."""

    def __init__(self, optimizer: Optimizer, gamma: float):
        _check("ExponentialLR", "gamma", gamma, 0)
        self.gamma = gamma
        super().__init__(optimizer)

    def _lr(self, i: int, lr: float) -> float:
        return lr * self.gamma

    def _closed_form(self, i: int) -> float:
        return self.base_lrs[i] * self.gamma ** self.last_epoch


class LinearLR(LRScheduler):
    """Scale the rate by a factor going linearly from `start_factor` (epoch 0) to `end_factor`
    (epoch `total_iters` and after): lr_e = lr_0 (s + (f - s) min(e, T) / T), computed with
    PyTorch's recurrence from the previous rate."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1 / 3,
                 end_factor: float = 1.0, total_iters: int = 5):
        if not (isinstance(start_factor, numbers.Real) and 0 < start_factor <= 1):
            raise ValueError(f"LinearLR: start_factor must lie in (0, 1], got {start_factor!r}")
        if not (isinstance(end_factor, numbers.Real) and 0 <= end_factor <= 1):
            raise ValueError(f"LinearLR: end_factor must lie in [0, 1], got {end_factor!r}")
        _check("LinearLR", "total_iters", total_iters, 0, integer=True)
        self.start_factor, self.end_factor = start_factor, end_factor
        self.total_iters = int(total_iters)
        super().__init__(optimizer)

    def _initial(self, i: int, lr: float) -> float:
        return lr * self.start_factor

    def _lr(self, i: int, lr: float) -> float:
        e, s, f, t = self.last_epoch, self.start_factor, self.end_factor, self.total_iters
        if e > t:
            return lr
        return lr * (1.0 + (f - s) / (t * s + (e - 1) * (f - s)))

    def _closed_form(self, i: int) -> float:
        s, f, t = self.start_factor, self.end_factor, self.total_iters
        return self.base_lrs[i] * (s + (f - s) * min(t, self.last_epoch) / t)


class LambdaLR(LRScheduler):
    """lr_e = lr_0 * lr_lambda(e): one function for every group, or a list of one per group.

    `state_dict` leaves the functions out (they are code, not state), as PyTorch's does for
    plain functions.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda):
        _check_optimizer("LambdaLR", optimizer)
        n = len(optimizer.param_groups)
        lambdas = list(lr_lambda) if isinstance(lr_lambda, (list, tuple)) else [lr_lambda] * n
        if len(lambdas) != n:
            raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per param group), got "
                             f"{len(lambdas)}")
        if not all(callable(f) for f in lambdas):
            raise TypeError("LambdaLR: lr_lambda must be a function of the epoch (or a list of "
                            "them)")
        self.lr_lambdas = lambdas
        super().__init__(optimizer)

    def _closed_form(self, i: int) -> float:
        return self.base_lrs[i] * self.lr_lambdas[i](self.last_epoch)

    def _lr(self, i: int, lr: float) -> float:
        return self._closed_form(i)

    _initial = _lr

    def state_dict(self) -> dict:
        """Everything but the optimizer and the functions."""
        return {k: v for k, v in vars(self).items() if k not in ("optimizer", "lr_lambdas")}


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

    def _lr(self, i: int, lr: float) -> float:
        e, t, low = self.last_epoch, self.T_max, self.eta_min
        if (e - 1 - t) % (2 * t) == 0:  # leaving the minimum: the ratio below would be 0 / 0
            return lr + (self.base_lrs[i] - low) * (1 - math.cos(math.pi / t)) / 2
        ratio = (1 + math.cos(math.pi * e / t)) / (1 + math.cos(math.pi * (e - 1) / t))
        return ratio * (lr - low) + low

    def _closed_form(self, i: int) -> float:
        low = self.eta_min
        return low + (self.base_lrs[i] - low) * (
            1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2


class ReduceLROnPlateau:
    """Multiply each group's rate by `factor` when a metric has not improved for `patience`
    epochs.

    `step(metric)` once per epoch. "Improved" means below best * (1 - threshold) in mode "min"
    (above best * (1 + threshold) in "max"; threshold_mode="abs" adds instead). After a cut,
    `cooldown` epochs pass before bad epochs count again; the rate never goes below `min_lr`
    (a number, or one per param group), and a cut smaller than `eps` is skipped. PyTorch's
    arguments and rules, except that a NaN metric raises a ValueError (PyTorch counts it as a
    bad epoch).
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
        n = len(optimizer.param_groups)
        min_lrs = list(min_lr) if isinstance(min_lr, (list, tuple)) else [min_lr] * n
        if len(min_lrs) != n:
            raise ValueError(f"{where}: expected {n} min_lr values (one per param group), got "
                             f"{len(min_lrs)}")
        for name, value in (("threshold", threshold), ("eps", eps),
                            *(("min_lr", low) for low in min_lrs)):
            _check(where, name, value, 0, inclusive=True)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, int(patience)
        self.threshold, self.threshold_mode = threshold, threshold_mode
        self.cooldown, self.min_lrs, self.eps = int(cooldown), min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = self.last_epoch = 0
        self._last_lr = [group["lr"] for group in optimizer.param_groups]

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
        groups = self.optimizer.param_groups
        if self.num_bad_epochs > self.patience:
            for group, low in zip(groups, self.min_lrs, strict=True):
                old = group["lr"]
                new = max(old * self.factor, low)
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [group["lr"] for group in groups]

    get_last_lr = LRScheduler.get_last_lr
    state_dict = LRScheduler.state_dict
    load_state_dict = LRScheduler.load_state_dict

    def __repr__(self) -> str:
        return (f"ReduceLROnPlateau(mode={self.mode!r}, best={self.best:.6g}, "
                f"lr={self._last_lr[0]:.6g})")


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2018), stepped once per batch: the rate climbs from
    max_lr / div_factor to `max_lr` over the first `pct_start` of `total_steps`, then anneals
    to initial_lr / final_div_factor (three_phase: back down to the start, then to that).

    With `cycle_momentum` the momentum (or Adam's beta1) moves the other way, between
    `max_momentum` and `base_momentum`. `max_lr` and the momenta may list one value per group.
    Give `total_steps`, or `epochs` and `steps_per_epoch`. PyTorch's phases and formulas;
    stepping past `total_steps` raises.
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False):
        where = "OneCycleLR"
        _check_optimizer(where, optimizer)
        if total_steps is not None:
            _check(where, "total_steps", total_steps, 0, integer=True)
        elif epochs is not None and steps_per_epoch is not None:
            _check(where, "epochs", epochs, 0, integer=True)
            _check(where, "steps_per_epoch", steps_per_epoch, 0, integer=True)
            total_steps = epochs * steps_per_epoch
        else:
            raise ValueError(f"{where}: give total_steps, or epochs and steps_per_epoch")
        if not (isinstance(pct_start, numbers.Real) and 0 <= pct_start <= 1):
            raise ValueError(f"{where}: pct_start must lie in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"{where}: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        _check(where, "div_factor", div_factor, 0)
        _check(where, "final_div_factor", final_div_factor, 0)
        self.total_steps, self.anneal_strategy = int(total_steps), anneal_strategy
        # (end step, rate at the start, at the end, momentum at the start, at the end)
        up = float(pct_start * total_steps) - 1
        if three_phase:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (float(2 * pct_start * total_steps) - 2, "max_lr", "initial_lr",
                            "base_momentum", "max_momentum"),
                           (total_steps - 1, "initial_lr", "min_lr", "max_momentum",
                            "max_momentum")]
        else:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (total_steps - 1, "max_lr", "min_lr", "base_momentum",
                            "max_momentum")]
        groups = optimizer.param_groups
        for group, top in zip(groups, _per_group(where, "max_lr", max_lr, groups)):
            _check(where, "max_lr", top, 0, inclusive=True)
            group["initial_lr"] = top / div_factor
            group["max_lr"] = top
            group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            defaults = optimizer.defaults
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError(f"{where}: cycle_momentum=True needs an optimizer with momentum "
                                 f"or betas; {type(optimizer).__name__} has neither (pass "
                                 "cycle_momentum=False)")
            self.use_beta1 = "betas" in defaults
            tops = _per_group(where, "max_momentum", max_momentum, groups)
            bases = _per_group(where, "base_momentum", base_momentum, groups)
            for group, top, base in zip(groups, tops, bases):
                self._set_momentum(group, top)
                group["max_momentum"], group["base_momentum"] = top, base
        super().__init__(optimizer)

    def _set_momentum(self, group: dict, value: float) -> None:
        if self.use_beta1:
            group["betas"] = (value, *group["betas"][1:])
        else:
            group["momentum"] = value

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _closed_form(self, i: int) -> float:
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, past total_steps="
                             f"{self.total_steps}")
        group = self.optimizer.param_groups[i]
        start = 0.0
        for k, (end, lr_from, lr_to, m_from, m_to) in enumerate(self.phases):
            if step <= end or k == len(self.phases) - 1:
                pct = (step - start) / (end - start)
                if self.cycle_momentum:
                    self._set_momentum(group, self._anneal(group[m_from], group[m_to], pct))
                return self._anneal(group[lr_from], group[lr_to], pct)
            start = end
        raise AssertionError("unreachable: the last phase always answers")

    def _lr(self, i: int, lr: float) -> float:
        return self._closed_form(i)

    _initial = _lr


class SequentialLR(LRScheduler):
    """Run `schedulers` one after another, switching at the epochs in `milestones` (one fewer
    than schedulers); each starts from the groups' initial rates. As PyTorch's SequentialLR."""

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list):
        where = "SequentialLR"
        _check_optimizer(where, optimizer)
        schedulers, milestones = list(schedulers), list(milestones)
        if not schedulers:
            raise ValueError(f"{where}: expected at least one scheduler")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"{where}: scheduler {i} is ReduceLROnPlateau, whose step needs "
                                 "a metric; it cannot be sequenced")
            if not isinstance(s, LRScheduler) or s.optimizer is not optimizer:
                raise ValueError(f"{where}: scheduler {i} ({type(s).__name__}) does not "
                                 "schedule this optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"{where}: expected {len(schedulers) - 1} milestones for "
                             f"{len(schedulers)} schedulers, got {len(milestones)}")
        self.optimizer, self._schedulers, self._milestones = optimizer, schedulers, milestones
        self.last_epoch = 0
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in schedulers:  # undo the first step each took when it was made
            s.last_epoch -= 1
        first = schedulers[bisect.bisect_right(milestones, 0)]
        first.step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        """Advance one epoch in the scheduler whose turn it is (restarting it at a milestone)."""
        self.last_epoch += 1
        k = bisect.bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[k]
        if k > 0 and self._milestones[k - 1] == self.last_epoch:
            scheduler._restart()
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self) -> dict:
        """Its own state and each scheduler's."""
        state = {k: v for k, v in vars(self).items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state: dict) -> None:
        """Restore a sequence saved by `state_dict`."""
        state = dict(state)
        for s, saved in zip(self._schedulers, state.pop("_schedulers"), strict=True):
            s.load_state_dict(saved)
        vars(self).update(state)


def _per_group(where: str, name: str, value, groups: list) -> list:
    """One value per param group: `value` itself when it is a list or tuple."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(groups):
            raise ValueError(f"{where}: expected {len(groups)} values of {name} (one per param "
                             f"group), got {len(value)}")
        return list(value)
    return [value] * len(groups)
