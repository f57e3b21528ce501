"""What an optimizer holds: parameter groups with their options, per-parameter state, and both
as a state dict, laid out as PyTorch lays them out.

`param_groups` is a list of dicts, each with its `params` and every option (lr, weight_decay,
momentum or betas, ...): options a group does not give come from the constructor's. State
(momentum buffers, moments, step counts) lives in per-parameter lists indexed as `params`
(every parameter of every group, in order). Each optimizer states its update once, as a rule
(`update_rule`, see autograd/compile/rules.py): step() runs it, and a compiled step inlines it.
"""

import math
import numbers

import numpy as np

from autograd import Tensor
from autograd.compile.rules import Rule, eager_function

from ..module import _is_parameter


def check_at_least_zero(where: str, **values) -> None:
    for name, value in values.items():
        if not isinstance(value, numbers.Real) or not value >= 0 or not math.isfinite(value):
            raise ValueError(f"{where}: {name} must be a finite number >= 0, got {value!r}")


class GroupOption:
    """An option read as an attribute (`optimizer.lr`): the value every group shares.

    Setting it sets it in every group. Reading it when groups differ raises, naming
    `param_groups`, rather than answering with one group's value.
    """

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    def __get__(self, optimizer, owner=None):
        if optimizer is None:
            return self
        groups = optimizer.param_groups
        value = groups[0][self.name]
        if len(groups) == 1:  # the usual case, read at every compiled step: no loop
            return value
        for group in groups[1:]:
            if group[self.name] != value:
                values = [g[self.name] for g in groups]
                raise ValueError(
                    f"{type(optimizer).__name__}.{self.name}: the {len(groups)} param groups have "
                    f"different values {values}; read optimizer.param_groups[i][{self.name!r}]")
        return value

    def __set__(self, optimizer, value) -> None:
        for group in optimizer.param_groups:
            group[self.name] = value


class Optimizer:
    """Holds parameter groups (each parameter once) and the per-parameter state.

    `params` is an iterable of Tensors, or of dicts `{"params": [...], "lr": ..., ...}` (one
    group each; options missing from a dict take the constructor's values). Accepts Tensors
    that require grad and module parameters that are frozen (so `model.parameters()` always
    works, and unfreezing one later makes it train).

    Subclasses set `state_names` (attribute -> PyTorch's state key), define `_check(group)`,
    `_new_state(p, group)`, and `update_rule(group)` with the `update_switches` it reads (or
    their own `step()`).
    """

    state_names: dict = {}
    # The options whose truth picks update_rule's instructions (all others are read per step).
    update_switches: tuple = ()
    lr = GroupOption()
    weight_decay = GroupOption()
    maximize = GroupOption()

    def __init__(self, params, defaults: dict | None = None):
        name = type(self).__name__
        if isinstance(params, (Tensor, dict)):
            raise TypeError(f"{name}: params must be an iterable of Tensors or of dicts (param "
                            "groups), e.g. model.parameters(), not a single "
                            f"{type(params).__name__}")
        items = list(params)
        if not items:
            raise ValueError(f"{name}: got an empty parameter list")
        self.defaults = dict(defaults or {})
        self.param_groups: list[dict] = []
        self.params: list[Tensor] = []  # every group's parameters, in order
        for attribute in self.state_names:
            setattr(self, attribute, [])
        if all(isinstance(item, dict) for item in items):
            for group in items:
                self.add_param_group(group)
        else:
            self.add_param_group({"params": items})

    def add_param_group(self, group: dict) -> None:
        """Add a group `{"params": [...], option: value, ...}`; missing options take the
        constructor's values."""
        name = type(self).__name__
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{name}.add_param_group: expected a dict with a 'params' key, got "
                            f"{group!r:.80}")
        unknown = [k for k in group if k != "params" and k not in self.defaults
                   and k not in _SCHEDULE_KEYS]
        if unknown:
            raise ValueError(f"{name}: unknown option(s) {unknown} in a param group; "
                             f"{name} takes {sorted(self.defaults)}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        unique = {}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not (p.requires_grad or _is_parameter(p)):
                raise ValueError(f"{name}: parameter {i} is not a Tensor with requires_grad=True "
                                 f"(got {type(p).__name__})")
            unique.setdefault(id(p), p)
        taken = {id(p) for p in self.params}
        if any(key in taken for key in unique):
            raise ValueError(f"{name}: a parameter appears in more than one param group")
        if not unique:
            raise ValueError(f"{name}: got an empty parameter list")
        full = {**self.defaults, **group, "params": list(unique.values())}
        self._check(full)
        self.param_groups.append(full)
        for p in full["params"]:
            self.params.append(p)
            for attribute, value in zip(self.state_names, self._new_state(p, full)):
                getattr(self, attribute).append(value)

    def _check(self, group: dict) -> None:
        """Raise a ValueError naming a bad option of `group`."""

    def _new_state(self, p: Tensor, group: dict) -> tuple:
        """The initial value of each per-parameter state list, for a new parameter."""
        return ()

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (`.grad` None), or set it to zeros
        (`set_to_none=False`, where there is one)."""
        for p in self.params:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = np.zeros_like(p.data)

    def update_rule(self, group: dict) -> list | None:
        """The update of one parameter of `group` as instructions (autograd/compile/rules.py),
        depending on nothing but the truth of `group`'s `update_switches` options (a rule is
        made once per class and switches; every other option is read at each step)."""
        return None

    def rule(self, group: dict):
        """(the `Rule` for `group`'s switches, the function step() runs it with), made once."""
        key = (type(self), *map(bool, map(group.__getitem__, self.update_switches)))
        entry = _RULES.get(key)
        if entry is None:
            instrs = self.update_rule(group)
            if instrs is None:
                raise NotImplementedError(f"{type(self).__name__} defines neither update_rule "
                                          "nor step()")
            rule = Rule(instrs, self.state_names, [k for k in group if k != "params"])
            entry = _RULES[key] = (rule, eager_function(rule))
        return entry

    def step(self) -> None:
        """Update every parameter that has a gradient, by the optimizer's update rule."""
        start = 0
        for group in self.param_groups:
            self.rule(group)[1](self, group, start)
            start += len(group["params"])

    def _gradients(self):
        """(index in `params`, parameter, group, direction) for each parameter that has a
        gradient and requires one, the direction as `direction` states it (for optimizers
        that write their own step()). Always an ndarray, also for a 0-d parameter."""
        start = 0
        for group in self.param_groups:
            decoupled = bool(group.get("decoupled_weight_decay"))
            key = ("direction", decoupled, bool(group.get("maximize")),
                   bool(group.get("weight_decay")))
            run = _RULES.get(key)
            if run is None:
                instrs, name = direction(group, decoupled)
                rule = Rule(instrs, {}, [k for k in group if k != "params"])
                run = _RULES[key] = eager_function(rule, yields=name)
            for i, p, g in run(self, group, start):
                yield i, p, group, g if type(g) is np.ndarray else np.asarray(g)
            start += len(group["params"])

    # ------------------------------------------------------------ state dicts
    def state_dict(self) -> dict:
        """{"state": {index: {name: copy}}, "param_groups": [options + "params": indices]}:
        PyTorch's layout, with numpy arrays; a parameter gets an entry once it has stepped."""
        state = {}
        for i in range(len(self.params)):
            entry = {key: _copy(getattr(self, attribute)[i])
                     for attribute, key in self.state_names.items()}
            entry = {k: v for k, v in entry.items() if v is not None}
            if self._has_stepped(i, entry):
                state[i] = entry
        groups, start = [], 0
        for group in self.param_groups:
            n = len(group["params"])
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": list(range(start, start + n))})
            start += n
        return {"state": state, "param_groups": groups}

    def _has_stepped(self, i: int, entry: dict) -> bool:
        return bool(entry)

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore options and state saved by `state_dict` (the same groups of the same sizes
        and shapes); the run then continues bit for bit as if it had not stopped."""
        name = type(self).__name__
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if groups is None or "state" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                             "'param_groups' (from optimizer.state_dict())")
        sizes = [len(g["params"]) for g in self.param_groups]
        saved = [len(g["params"]) for g in groups]
        if sizes != saved:
            raise ValueError(f"{name}.load_state_dict: the saved param groups have {saved} "
                             f"parameters, this optimizer's have {sizes}")
        index = [i for g in groups for i in g["params"]]
        states = {}
        for position, i in enumerate(index):
            entry = state_dict["state"].get(i, {})
            unknown = set(entry) - set(self.state_names.values())
            if unknown:
                raise ValueError(f"{name}.load_state_dict: unknown state {sorted(unknown)} for "
                                 f"parameter {i} ({name} keeps {list(self.state_names.values())})")
            p = self.params[position]
            for key, value in entry.items():
                shape = np.shape(value)
                if isinstance(value, np.ndarray) and shape != p.shape:
                    raise ValueError(f"{name}.load_state_dict: state {key!r} of parameter {i} "
                                     f"has shape {shape}, the parameter {p.shape}")
            states[position] = entry
        for group, saved_group in zip(self.param_groups, groups):
            options = {k: v for k, v in saved_group.items() if k != "params"}
            self._check({**group, **options})
            group.update(options)
        for position, p in enumerate(self.params):
            entry = states[position]
            fresh = self._new_state(p, self._group_of(position))
            for (attribute, key), value in zip(self.state_names.items(), fresh):
                if key in entry:
                    value = entry[key]
                    value = (np.array(value, dtype=p.dtype) if isinstance(value, np.ndarray)
                             else value)
                getattr(self, attribute)[position] = value

    def _group_of(self, position: int) -> dict:
        for group in self.param_groups:
            if position < len(group["params"]):
                return group
            position -= len(group["params"])
        raise IndexError(position)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in group.items() if k != "params"]
        return "\n".join(lines + [")"])


def direction(group: dict, decoupled: bool = False) -> tuple[list, str]:
    """(instructions, name) of the direction an update starts from: the gradient, negated
    under `maximize`, plus weight_decay * p unless the decay is `decoupled` (AdamW's)."""
    rule, g = [], "grad"
    if group.get("maximize"):
        rule.append((np.negative, ("grad",), "d"))
        g = "d"
    if group.get("weight_decay") and not decoupled:
        rule += [(np.multiply, ("weight_decay", "param"), "decay"), (np.add, (g, "decay"), "d")]
        g = "d"
    return rule, g


# (optimizer class, its switches' truth values) -> (Rule, eager function); and the functions
# `_gradients` runs.
_RULES = {}


def _copy(value):
    return value.copy() if isinstance(value, np.ndarray) else value


# Keys the schedulers add to a group (PyTorch's names): allowed in groups given back by users.
_SCHEDULE_KEYS = frozenset({"initial_lr", "max_lr", "min_lr", "max_momentum", "base_momentum"})
