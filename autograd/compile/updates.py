"""Optimizer updates in a compiled step: `Update` runs any optimizer's step(); SGDUpdate and
AdamUpdate generate nn.optim's SGD and Adam as numpy calls, checked against step().
"""
import math
import re

import numpy as np

from .codegen import _function, _same_bits
from .flat import flatten


class Update:
    """An optimizer's update run by a compiled step: `step()` of any object (the default).

    The subclasses generate the update of an optimizer with PyTorch's attribute names as
    straight-line numpy calls; hyperparameters are read at every step, and whether momentum,
    nesterov and weight decay are on picks the generated variant.
    """

    generic = True
    options = frozenset()  # every attribute of the optimizer the generated update accounts for

    def __init__(self, optimizer):
        self.opt = optimizer

    def eager(self):
        self.opt.step()

    def key(self):
        return None

    def unsupported(self):
        """`name=value` of the optimizer's first attribute the generated update does not know.

        The whole configuration decides, not a list of what is known to be missing: an option
        added to the optimizer later runs its step() until the generated update learns it.
        """
        opt = self.opt
        groups = getattr(opt, "param_groups", None)
        if groups is None:
            config = getattr(opt, "__dict__", {"__slots__": None})
        else:  # nn.optim: its state lists and its one group's options that are on
            if len(groups) != 1:
                return f"{len(groups)} param groups"
            config = {**{k: v for k, v in vars(opt).items()
                         if k not in _GROUP_BOOKKEEPING and not _unused(v)},
                      **{k: v for k, v in groups[0].items()
                         if k not in _GROUP_BOOKKEEPING and v not in (0, False, None)}}
        for name, value in config.items():
            if name not in self.options:
                return f"{name}={value!r}"
        return None

    def slots(self):
        return []

    def source(self, plan):
        """(lines, closure constants, checks that are true when key() changed), names `u_`."""
        return _prefixed(["step()"], {"step": self.eager}, [])

    def generate(self, plan):
        lines, consts, _ = self.source(plan)
        return _function("update", "", lines, consts)


class SGDUpdate(Update):
    """SGD as in nn.optim.SGD: lr, momentum, nesterov, weight_decay, buffers (None at first).

    `flat=True` moves the parameters' arrays into one array first (see `flatten`): without
    momentum the update is then two numpy calls, whatever the number of parameters.
    """

    generic = False
    options = frozenset({"params", "lr", "momentum", "nesterov", "weight_decay", "buffers"})

    def __init__(self, optimizer, flat=False):
        super().__init__(optimizer)
        self.group = flatten(optimizer.params) if flat else None

    def key(self):
        o = self.opt
        if _unknown_option(o):
            return None
        return bool(o.momentum), bool(o.nesterov), bool(o.weight_decay)

    def slots(self):
        o = self.opt
        return _param_slots(o.params) + [(o.buffers, i) for i in range(len(o.params))]

    def source(self, plan):
        momentum, nesterov, decay = self.key()
        changed = [_changed("opt.momentum", momentum) + " or " + _changed("opt.nesterov", nesterov)
                   + " or " + _changed("opt.weight_decay", decay)]
        consts = {"opt": self.opt, "multiply": np.multiply, "add": np.add,
                  "subtract": np.subtract, "unknown": _unknown_option}
        changed.append("unknown(opt)")
        lines = ["lr, mom, wd, bufs = opt.lr, opt.momentum, opt.weight_decay, opt.buffers"]
        group = self.group
        if (not momentum and group is not None and group.intact(self.opt.params)
                and plan.flat_grad is not None and all(g is not None for g in plan.grads)):
            consts.update({"P": group.flat, "G": plan.flat_grad, "T": np.empty_like(group.flat)})
            g = "G"
            if decay:
                consts["D"] = np.empty_like(group.flat)
                lines += ["multiply(wd, P, D)", "add(G, D, D)"]
                g = "D"
            lines += [f"multiply(lr, {g}, T)", "subtract(P, T, P)"]
            for i, p in enumerate(self.opt.params):
                consts[f"p{i}"] = p
                lines.append(f"p{i}.mark_modified()")
            return _prefixed(lines, consts, changed)
        for i, (p, grad) in enumerate(zip(self.opt.params, plan.grads)):
            if grad is None:
                continue
            consts.update({f"p{i}": p, f"P{i}": p.data, f"G{i}": grad,
                           f"T{i}": np.empty_like(grad)})
            g = f"G{i}"
            if decay:  # grad + weight_decay * p
                consts[f"D{i}"] = np.empty_like(grad)
                lines += [f"multiply(wd, P{i}, D{i})", f"add(G{i}, D{i}, D{i})"]
                g = f"D{i}"
            if momentum:
                lines += [f"buf = bufs[{i}]", "if buf is None:",
                          f"    bufs[{i}] = buf = {g}.copy()",  # the first step: a copy of g
                          "else:", "    multiply(buf, mom, buf)", f"    add(buf, {g}, buf)"]
                if nesterov:  # g + momentum * buf
                    lines += [f"multiply(mom, buf, T{i})", f"add({g}, T{i}, T{i})"]
                    g = f"T{i}"
                else:
                    g = "buf"
            lines += [f"multiply(lr, {g}, T{i})", f"subtract(P{i}, T{i}, P{i})",
                      f"p{i}.mark_modified()"]
        return _prefixed(lines, consts, changed)


class AdamUpdate(Update):
    """Adam as in nn.optim.Adam: lr, betas, eps, weight_decay, m, v and steps per parameter;
    `decoupled_weight_decay` (AdamW) shrinks each parameter instead of adding the L2 term."""

    generic = False
    options = frozenset({"params", "lr", "betas", "eps", "weight_decay",
                         "decoupled_weight_decay", "m", "v", "steps"})

    def key(self):
        o = self.opt
        if _unknown_option(o):
            return None
        return bool(o.weight_decay), bool(getattr(o, "decoupled_weight_decay", False))

    def slots(self):
        o = self.opt
        n = range(len(o.params))
        return (_param_slots(o.params) + [(o.m, i) for i in n] + [(o.v, i) for i in n]
                + [(o.steps, i) for i in n])

    def source(self, plan):
        decay, decoupled = self.key()
        changed = [_changed("opt.weight_decay", decay)]
        if hasattr(self.opt, "decoupled_weight_decay"):
            changed.append(_changed("opt.decoupled_weight_decay", decoupled))
        decoupled = decay and decoupled  # AdamW's decay of 0 leaves the parameters alone
        consts = {"opt": self.opt, "multiply": np.multiply, "add": np.add, "sqrt": np.sqrt,
                  "divide": np.divide, "subtract": np.subtract, "root": math.sqrt,
                  "unknown": _unknown_option}
        changed.append("unknown(opt)")
        lines = ["lr, eps, (b1, b2), wd = opt.lr, opt.eps, opt.betas, opt.weight_decay",
                 "m, v, steps = opt.m, opt.v, opt.steps"]
        for i, (p, grad) in enumerate(zip(self.opt.params, plan.grads)):
            if grad is None:
                continue
            consts.update({f"p{i}": p, f"P{i}": p.data, f"G{i}": grad,
                           f"T{i}": np.empty_like(grad), f"D{i}": np.empty_like(grad)})
            g = f"G{i}"
            if decoupled:  # p *= 1 - lr * wd, apart from the gradient's moments
                lines.append(f"multiply(P{i}, 1 - lr * wd, P{i})")
            elif decay:
                lines += [f"multiply(wd, P{i}, D{i})", f"add(G{i}, D{i}, D{i})"]
                g = f"D{i}"
            lines += [
                f"mi, vi = m[{i}], v[{i}]",
                "multiply(mi, b1, mi)",  # m = b1 m + (1 - b1) g
                f"multiply(1 - b1, {g}, T{i})", f"add(mi, T{i}, mi)",
                "multiply(vi, b2, vi)",  # v = b2 v + (1 - b2) g^2
                f"multiply({g}, {g}, T{i})", f"multiply(1 - b2, T{i}, T{i})", f"add(vi, T{i}, vi)",
                f"steps[{i}] = t = steps[{i}] + 1",
                f"sqrt(vi, D{i})", f"divide(D{i}, root(1 - b2 ** t), D{i})",
                f"add(D{i}, eps, D{i})",
                f"divide(mi, D{i}, T{i})", f"multiply(lr / (1 - b1 ** t), T{i}, T{i})",
                f"subtract(P{i}, T{i}, P{i})", f"p{i}.mark_modified()"]
        return _prefixed(lines, consts, changed)



# What an nn.optim optimizer holds besides options, and what schedulers add to its groups.
_GROUP_BOOKKEEPING = frozenset({"defaults", "param_groups", "params", "initial_lr", "max_lr",
                                "min_lr", "max_momentum", "base_momentum"})


def _unused(value):
    """A state list nothing has used yet (all None: Adam's amsgrad maxima, say)."""
    return isinstance(value, list) and all(v is None for v in value)


def _unknown_option(opt):
    """What the generated updates do not implement in nn.optim's SGD and Adam (several param
    groups, dampening, amsgrad, maximize), named, or None: such a step runs `step()`."""
    groups = getattr(opt, "param_groups", None)
    if groups is not None and len(groups) > 1:
        return f"{len(groups)} param groups"
    options = groups[0] if groups else getattr(opt, "__dict__", {})  # dict lookups: per step
    if options.get("dampening") or options.get("amsgrad") or options.get("maximize"):
        name = next(n for n in ("dampening", "amsgrad", "maximize") if options.get(n))
        return f"{name}={options[name]!r}"
    return None


def _changed(attribute, flag):
    """Code that is true when `attribute` no longer has the truth value `flag`."""
    return f"not {attribute}" if flag else f"(not not {attribute})"


def _prefixed(lines, consts, checks):
    """Update code with its constants renamed `u_NAME`, so it can join a replay's function."""
    if not consts:
        return lines, consts, checks
    names = re.compile(r"\b(" + "|".join(map(re.escape, consts)) + r")\b")
    rename = lambda text: names.sub(r"u_\1", text)
    return ([rename(line) for line in lines], {f"u_{k}": v for k, v in consts.items()},
            [rename(line) for line in checks])


def _param_slots(params):
    return [(p, "data") for p in params]


def _get(slot):
    holder, key = slot
    return getattr(holder, key) if isinstance(key, str) else holder[key]


def _snapshot(slots):
    return [np.copy(v) if isinstance(v := _get(s), np.ndarray) else v for s in slots]


def _restore(slots, saved):
    for (holder, key), value in zip(slots, saved):
        current = getattr(holder, key) if isinstance(key, str) else holder[key]
        if isinstance(value, np.ndarray) and isinstance(current, np.ndarray):
            current[...] = value  # in place: whoever holds the array sees the restored values
        elif isinstance(key, str):  # pragma: no cover - parameters always hold arrays
            setattr(holder, key, value)
        else:
            holder[key] = np.copy(value) if isinstance(value, np.ndarray) else value


def _same_state(a, b):
    # Types too: a numpy scalar where the generated update stores a 0-d array behaves
    # differently in the optimizer's next step (an in-place update of it is lost).
    return all(type(x) is type(y) and (_same_bits(x, y) if isinstance(x, np.ndarray) else x == y)
               for x, y in zip(a, b))
