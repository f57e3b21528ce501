"""Optimizer updates in a compiled step: `Update` runs any optimizer's step(); `RuleUpdate`
inlines the update rules an optimizer states (rules.py) into the step's generated code.

Nothing here knows an optimizer: RuleUpdate reads what PyTorch-style optimizers hold
(`param_groups`, `params`, per-parameter state lists) and what a rule-stating one adds
(`update_switches`, `rule(group)`).
"""
import numpy as np

from .codegen import _function, _same_bits
from .flat import flatten
from .rules import Emitter


class Update:
    """An optimizer's update run by a compiled step: `step()` of any object (the default)."""

    generic = True

    def __init__(self, optimizer):
        self.opt = optimizer

    def eager(self):
        self.opt.step()

    def key(self):
        return None

    def slots(self):
        return []

    def source(self, plan):
        """(lines, closure constants, checks that are true when key() changed), names `u_`."""
        return ["u_step()"], {"u_step": self.eager}, []

    def generate(self, plan, source=None):
        """The update as a function of no arguments (from `source`, if given)."""
        lines, consts, _ = source or self.source(plan)
        return _function("update", "", lines, consts)


class RuleUpdate(Update):
    """The update of an optimizer whose step() runs its rules: `opt.rule(group)` gives each
    group's rule, picked by the truth of the options named in `opt.update_switches`.

    Options are read from the group dicts at every step (schedulers change them between
    steps); the switches are checked at every step too, and a change picks another variant.
    `flat=True` moves the parameters' arrays into one array first (see `flatten`) when the one
    group's rule keeps no state: the update then runs once over all of them.
    """

    generic = False

    def __init__(self, optimizer, flat=False):
        super().__init__(optimizer)
        groups = optimizer.param_groups
        self.group = None
        if flat and len(groups) == 1 and optimizer.rule(groups[0])[0].stateless:
            self.group = flatten(optimizer.params)

    def key(self):
        switches = self.opt.update_switches
        return tuple(tuple(bool(g[s]) for s in switches) for g in self.opt.param_groups)

    def slots(self):
        o = self.opt
        n = range(len(o.params))
        return (_param_slots(o.params)
                + [(getattr(o, s), i) for s in o.state_names for i in n])

    def source(self, plan):
        opt, consts = self.opt, {}

        def const(obj):
            for name, value in consts.items():
                if value is obj:
                    return name
            consts[name := f"u_k{len(consts)}"] = obj
            return name
        pool = {}  # (shape, dtype, n): the n-th new array of a parameter (shared by parameters)

        def buffer(like, n):
            key = (like.shape, like.dtype.str, n)
            if key not in pool:
                pool[key] = np.empty_like(like)
            return const(pool[key])
        emit = Emitter(const, buffer)
        groups = opt.param_groups
        lines = []
        checks = [f"{const(opt)}.param_groups is not {const(groups)}",
                  f"len({const(groups)}) != {len(groups)}"]
        for k, group in enumerate(groups):
            g = const(group)
            checks.append(f"{const(groups)}[{k}] is not {g}")
            checks += [_changed(f"{g}[{s!r}]", group[s]) for s in opt.update_switches]
        rules = [opt.rule(group)[0] for group in groups]
        used = {s for rule in rules for s in rule.states}
        states = {s: f"s_{s}" for s in opt.state_names if s in used}
        lines += [f"{name} = {const(opt)}.{s}" for s, name in states.items()]
        grad_of = {id(p): g for p, g in zip(plan.params, plan.grads)}
        if any(id(p) not in grad_of for p in opt.params):
            raise ValueError("the optimizer updates parameters the step does not clear")
        same_order = [id(p) for p in plan.params] == [id(p) for p in opt.params]
        start = 0
        for group, rule in zip(groups, rules):
            lines += emit.group_lines(rule, const(group))
            params = group["params"]
            grads = [grad_of[id(p)] for p in params]
            flat = self.group
            if (flat is not None and rule.stateless and same_order and flat.intact(opt.params)
                    and plan.flat_grad is not None and all(g is not None for g in grads)):
                lines += emit.param_lines(rule, None, const(flat.flat), const(plan.flat_grad),
                                          "None", states, flat.flat)
                lines += [f"{const(p)}.mark_modified()" for p in params]
            else:
                for i, (p, grad) in enumerate(zip(params, grads), start):
                    if grad is not None:  # frozen, or not reached by the loss: never moves
                        lines += emit.param_lines(rule, const(p), const(p.data), const(grad),
                                                  str(i), states, p.data)
            start += len(params)
        return lines, consts, checks


def _changed(expression, value):
    """Code that is true when `expression` no longer has the truth value of `value`."""
    return f"not {expression}" if value else f"(not not {expression})"


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


def _same_state(slots, saved):
    """True when what `slots` hold now is what `_snapshot` saved (compared without a copy)."""
    for slot, y in zip(slots, saved):
        x = _get(slot)
        if isinstance(y, np.ndarray):  # (a snapshot of an array is a plain ndarray)
            if not (isinstance(x, np.ndarray) and _same_bits(x, y)):
                return False
        # Types too: a numpy scalar where the generated update stores a 0-d array behaves
        # differently in the optimizer's next step (an in-place update of it is lost).
        elif not (type(x) is type(y) and x == y):
            return False
    return True
