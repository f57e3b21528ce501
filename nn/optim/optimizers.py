"""Optimizers: update parameters in place from their `.grad`, with PyTorch's update formulas.

Each optimizer states its update of one parameter once, as a rule: a short list of in-place
numpy calls over named arrays and options (`update_rule`, the format is in
autograd/compile/rules.py). `step()` runs it on the numpy arrays directly, so it records no
graph, and a compiled step inlines it into its generated code. A
parameter whose grad is None is skipped and its state does not advance, as in PyTorch, and so
is a frozen one (requires_grad False), even with a stale grad: a frozen weight never moves.
Each updated parameter is marked modified, so a `backward()` through a graph built before the
step raises an error instead of differentiating at the new values (as PyTorch does).
Options live per param group (`optimizer.param_groups[i]["lr"]`); `optimizer.lr` reads or sets
the rate of every group, which the schedulers in `nn.optim.lr_scheduler` change between epochs.
Every optimizer takes `maximize=True` (ascend) and `weight_decay` (an L2 term added to the
gradient; decoupled in AdamW), stated once for all in `optimizer.direction`.
"""

import math
import numbers
import operator

import numpy as np

from autograd.compile.rules import IfNone

from .optimizer import GroupOption, Optimizer, check_at_least_zero, direction

# Scalar arithmetic in rules (Python's, on Python numbers; written as operators when compiled).
plus, sub, mul, div, power, item = (operator.add, operator.sub, operator.mul, operator.truediv,
                                    operator.pow, operator.getitem)


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

    update_switches = ("maximize", "weight_decay", "momentum", "dampening", "nesterov")

    def update_rule(self, group: dict) -> list:
        rule, g = direction(group)
        if group["momentum"]:
            steady = [(np.multiply, ("buffers", "momentum"), "buffers")]
            if group["dampening"]:
                steady += [(sub, (1, "dampening"), "undamped"),
                           (np.multiply, ("undamped", g), "damped"),
                           (np.add, ("buffers", "damped"), "buffers")]
            else:
                steady.append((np.add, ("buffers", g), "buffers"))
            # The first step's buffer is a copy of the direction.
            rule.append(IfNone("buffers", [(np.copy, (g,), "buffers")], steady))
            if group["nesterov"]:
                rule += [(np.multiply, ("momentum", "buffers"), "ahead"),
                         (np.add, (g, "ahead"), "nesterov")]
                g = "nesterov"
            else:
                g = "buffers"
        return rule + [(np.multiply, ("lr", g), "change"), (np.subtract, ("param", "change"),
                                                             "param")]


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

    update_switches = ("maximize", "weight_decay", "decoupled_weight_decay", "amsgrad")

    def update_rule(self, group: dict) -> list:
        decoupled = group["decoupled_weight_decay"]
        rule, g = direction(group, decoupled)
        if decoupled and group["weight_decay"]:  # AdamW: p *= 1 - lr wd, apart from the moments
            rule += [(mul, ("lr", "weight_decay"), "lr_decay"), (sub, (1, "lr_decay"), "shrink"),
                     (np.multiply, ("param", "shrink"), "param")]
        rule += [(item, ("betas", 0), "b1"), (item, ("betas", 1), "b2"),
                 (sub, (1, "b1"), "rest1"), (sub, (1, "b2"), "rest2"),
                 (np.multiply, ("m", "b1"), "m"),  # m = b1 m + (1 - b1) g
                 (np.multiply, ("rest1", g), "new"), (np.add, ("m", "new"), "m"),
                 (np.multiply, ("v", "b2"), "v"),  # v = b2 v + (1 - b2) g^2
                 (np.multiply, (g, g), "square"), (np.multiply, ("rest2", "square"), "square"),
                 (np.add, ("v", "square"), "v")]
        v = "v"
        if group["amsgrad"]:  # the largest v so far
            rule += [IfNone("max_v", [(np.zeros_like, ("v",), "max_v")]),
                     (np.maximum, ("max_v", "v"), "max_v")]
            v = "max_v"
        # PyTorch's arrangement of the formula: fewer full-size temporaries.
        return rule + [
            (plus, ("steps", 1), "steps"),
            (power, ("b2", "steps"), "b2t"), (sub, (1, "b2t"), "fix2"),
            (math.sqrt, ("fix2",), "root2"),
            (np.sqrt, (v,), "denom"), (np.divide, ("denom", "root2"), "denom"),
            (np.add, ("denom", "eps"), "denom"),
            (power, ("b1", "steps"), "b1t"), (sub, (1, "b1t"), "fix1"),
            (div, ("lr", "fix1"), "rate"),
            (np.divide, ("m", "denom"), "ratio"), (np.multiply, ("rate", "ratio"), "ratio"),
            (np.subtract, ("param", "ratio"), "param")]


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

    update_switches = ("maximize", "weight_decay", "centered", "momentum")

    def update_rule(self, group: dict) -> list:
        rule, g = direction(group)
        rule += [(plus, ("steps", 1), "steps"), (sub, (1, "alpha"), "rest"),
                 (np.multiply, ("square_avg", "alpha"), "square_avg"),
                 (np.multiply, (g, g), "square"), (np.multiply, ("rest", "square"), "square"),
                 (np.add, ("square_avg", "square"), "square_avg")]
        if group["centered"]:  # s - a^2, a the running mean of g
            rule += [IfNone("grad_avg", [(np.zeros_like, (g,), "grad_avg")]),
                     (np.multiply, ("grad_avg", "alpha"), "grad_avg"),
                     (np.multiply, ("rest", g), "new"), (np.add, ("grad_avg", "new"), "grad_avg"),
                     (np.multiply, ("grad_avg", "grad_avg"), "mean_square"),
                     (np.subtract, ("square_avg", "mean_square"), "denom"),
                     (np.sqrt, ("denom",), "denom")]
        else:
            rule.append((np.sqrt, ("square_avg",), "denom"))
        rule += [(np.add, ("denom", "eps"), "denom"), (np.divide, (g, "denom"), "scaled")]
        if group["momentum"]:
            rule += [IfNone("buffers", [(np.zeros_like, (g,), "buffers")]),
                     (np.multiply, ("buffers", "momentum"), "buffers"),
                     (np.add, ("buffers", "scaled"), "buffers")]
            return rule + [(np.multiply, ("lr", "buffers"), "change"),
                           (np.subtract, ("param", "change"), "param")]
        return rule + [(np.multiply, ("lr", "scaled"), "change"),
                       (np.subtract, ("param", "change"), "param")]


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

    update_switches = ("maximize", "weight_decay")

    def update_rule(self, group: dict) -> list:
        rule, g = direction(group)
        return rule + [
            (plus, ("steps", 1), "steps"),  # rate = lr / (1 + (t - 1) lr_decay)
            (sub, ("steps", 1), "before"), (mul, ("before", "lr_decay"), "slowing"),
            (plus, (1, "slowing"), "slowed"), (div, ("lr", "slowed"), "rate"),
            (np.multiply, (g, g), "square"), (np.add, ("sums", "square"), "sums"),
            (np.sqrt, ("sums",), "denom"), (np.add, ("denom", "eps"), "denom"),
            (np.divide, (g, "denom"), "scaled"), (np.multiply, ("rate", "scaled"), "scaled"),
            (np.subtract, ("param", "scaled"), "param")]
