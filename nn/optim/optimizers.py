"""Optimizers: update parameters in place from their `.grad`, with PyTorch's update formulas.

`step()` works on the numpy arrays directly (`p.data -= ...`), so it records no graph; a
parameter whose grad is None is skipped and its state does not advance, as in PyTorch, and so
is a frozen one (requires_grad False), even with a stale grad: a frozen weight never moves.
Each updated parameter is marked modified, so a `backward()` through a graph built before the
step raises an error instead of differentiating at the new values (as PyTorch does).
Options live per param group (`optimizer.param_groups[i]["lr"]`); `optimizer.lr` reads or sets
the rate of every group, which the schedulers in `nn.optim.lr_scheduler` change between epochs.
Every optimizer takes `maximize=True` (ascend) and `weight_decay` (an L2 term added to the
gradient; decoupled in AdamW), applied once for all in `Optimizer._gradients`.
"""

import math
import numbers

import numpy as np

from .optimizer import GroupOption, Optimizer, check_at_least_zero


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2
    decay, as PyTorch's: g = grad + weight_decay * p; buf = g on the first step, then
    buf = momentum * buf + (1 - dampening) g; the step uses g + momentum * buf (nesterov) or
    buf; p -= lr * step.
    """

    state_names = {"buffers": "momentum_buffer"}
    momentum = GroupOption()
    dampening = GroupOption()
    nesterov = GroupOption()

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "momentum": momentum, "dampening": dampening,
                                  "weight_decay": weight_decay, "nesterov": bool(nesterov),
                                  "maximize": bool(maximize)})

    def _check(self, group: dict) -> None:
        if isinstance(group["dampening"], bool) or isinstance(group["weight_decay"], bool):
            # SGD(p, lr, momentum, nesterov, weight_decay), npgrad's old order, would otherwise
            # read nesterov as dampening without a word.
            raise ValueError("SGD: dampening and weight_decay must be numbers, got a bool; the "
                             "arguments follow PyTorch's order (params, lr, momentum, dampening, "
                             "weight_decay, nesterov): pass nesterov= by keyword")
        check_at_least_zero("SGD", lr=group["lr"], momentum=group["momentum"],
                            dampening=group["dampening"], weight_decay=group["weight_decay"])
        if group["nesterov"] and (group["momentum"] == 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening 0")

    def _new_state(self, p, group) -> tuple:
        return (None,)  # the momentum buffer: a copy of the first gradient

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for i, p, group, g in self._gradients():
            momentum = group["momentum"]
            if momentum:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = g.copy()
                else:
                    buf *= momentum
                    dampening = group["dampening"]
                    buf += (1 - dampening) * g if dampening else g
                g = g + momentum * buf if group["nesterov"] else buf
            p.data -= group["lr"] * g
            p.mark_modified()


def _check_betas(name: str, betas) -> None:
    if (not isinstance(betas, (tuple, list)) or len(betas) != 2
            or not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction and L2 weight decay, as in PyTorch.

    g = grad + weight_decay * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), t counted per parameter.
    `amsgrad=True` uses the largest v so far in place of v. `decoupled_weight_decay=True` is
    AdamW: p *= 1 - lr * weight_decay instead of the L2 term.
    """

    state_names = {"steps": "step", "m": "exp_avg", "v": "exp_avg_sq",
                   "max_v": "max_exp_avg_sq"}
    betas = GroupOption()
    eps = GroupOption()
    amsgrad = GroupOption()
    decoupled_weight_decay = GroupOption()

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False, decoupled_weight_decay: bool = False):
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay, "amsgrad": bool(amsgrad),
                                  "maximize": bool(maximize),
                                  "decoupled_weight_decay": bool(decoupled_weight_decay)})

    def _check(self, group: dict) -> None:
        name = type(self).__name__
        check_at_least_zero(name, lr=group["lr"], eps=group["eps"],
                            weight_decay=group["weight_decay"])
        _check_betas(name, group["betas"])
        group["betas"] = tuple(group["betas"])

    def _new_state(self, p, group) -> tuple:
        return 0, np.zeros_like(p.data), np.zeros_like(p.data), None

    def _has_stepped(self, i: int, entry: dict) -> bool:
        return self.steps[i] > 0

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for i, p, group, g in self._gradients():
            lr, eps, (b1, b2) = group["lr"], group["eps"], group["betas"]
            if group["decoupled_weight_decay"] and group["weight_decay"]:
                p.data *= 1 - lr * group["weight_decay"]  # AdamW: apart from the moments
            m, v = self.m[i], self.v[i]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            if group["amsgrad"]:
                if self.max_v[i] is None:
                    self.max_v[i] = np.zeros_like(v)
                v = np.maximum(self.max_v[i], v, out=self.max_v[i])
            self.steps[i] = t = self.steps[i] + 1
            # PyTorch's arrangement of the same formula: fewer full-size temporaries.
            denom = np.sqrt(v)
            denom /= math.sqrt(1 - b2 ** t)
            denom += eps
            p.data -= (lr / (1 - b1 ** t)) * (m / denom)
            p.mark_modified()


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's AdamW.

    Each step first shrinks p by (1 - lr * weight_decay), then takes Adam's step with the plain
    gradient; unlike Adam's L2 term, the decay is not rescaled by the moment estimates.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


class RMSprop(Optimizer):
    """RMSprop (Hinton), as PyTorch's: s = alpha s + (1 - alpha) g^2; with `centered`,
    a = alpha a + (1 - alpha) g and s - a^2 replaces s; d = sqrt(s) + eps;
    p -= lr g / d, or with momentum buf = momentum buf + g / d and p -= lr buf.
    """

    state_names = {"steps": "step", "square_avg": "square_avg", "buffers": "momentum_buffer",
                   "grad_avg": "grad_avg"}
    alpha = GroupOption()
    eps = GroupOption()
    momentum = GroupOption()
    centered = GroupOption()

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        super().__init__(params, {"lr": lr, "alpha": alpha, "eps": eps,
                                  "weight_decay": weight_decay, "momentum": momentum,
                                  "centered": bool(centered), "maximize": bool(maximize)})

    def _check(self, group: dict) -> None:
        check_at_least_zero("RMSprop", lr=group["lr"], alpha=group["alpha"], eps=group["eps"],
                            weight_decay=group["weight_decay"], momentum=group["momentum"])

    def _new_state(self, p, group) -> tuple:
        return 0, np.zeros_like(p.data), None, None

    def _has_stepped(self, i: int, entry: dict) -> bool:
        return self.steps[i] > 0

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for i, p, group, g in self._gradients():
            alpha, momentum = group["alpha"], group["momentum"]
            self.steps[i] += 1
            square = self.square_avg[i]
            square *= alpha
            square += (1 - alpha) * (g * g)
            if group["centered"]:
                if self.grad_avg[i] is None:
                    self.grad_avg[i] = np.zeros_like(g)
                mean = self.grad_avg[i]
                mean *= alpha
                mean += (1 - alpha) * g
                denom = np.sqrt(square - mean * mean)
            else:
                denom = np.sqrt(square)
            denom += group["eps"]
            if momentum:
                if self.buffers[i] is None:
                    self.buffers[i] = np.zeros_like(g)
                buf = self.buffers[i]
                buf *= momentum
                buf += g / denom
                p.data -= group["lr"] * buf
            else:
                p.data -= group["lr"] * (g / denom)
            p.mark_modified()


class Adagrad(Optimizer):
    """Adagrad (Duchi et al., 2011), as PyTorch's: s += g^2 (s starts at
    initial_accumulator_value); p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps).
    """

    state_names = {"steps": "step", "sums": "sum"}
    lr_decay = GroupOption()
    eps = GroupOption()
    initial_accumulator_value = GroupOption()

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False):
        super().__init__(params, {"lr": lr, "lr_decay": lr_decay, "weight_decay": weight_decay,
                                  "initial_accumulator_value": initial_accumulator_value,
                                  "eps": eps, "maximize": bool(maximize)})

    def _check(self, group: dict) -> None:
        check_at_least_zero("Adagrad", lr=group["lr"], lr_decay=group["lr_decay"],
                            weight_decay=group["weight_decay"], eps=group["eps"],
                            initial_accumulator_value=group["initial_accumulator_value"])

    def _new_state(self, p, group) -> tuple:
        return 0, np.full_like(p.data, group["initial_accumulator_value"])

    def _has_stepped(self, i: int, entry: dict) -> bool:
        return self.steps[i] > 0

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        for i, p, group, g in self._gradients():
            self.steps[i] = t = self.steps[i] + 1
            rate = group["lr"] / (1 + (t - 1) * group["lr_decay"])
            total = self.sums[i]
            total += g * g
            denom = np.sqrt(total)
            denom += group["eps"]
            p.data -= rate * (g / denom)
            p.mark_modified()
