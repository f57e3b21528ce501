"""Update rules: the update of one parameter stated once, as data, and turned into the Python
source that both an optimizer's eager step() and a compiled step run.

A rule is a sequence of instructions `(func, args, out)`. `args` are names or Python numbers;
a name is "param" (the parameter's array), "grad" (its gradient, never written), a
per-parameter state (an attribute of the optimizer holding one entry per parameter), an option
of the parameter's group, or the `out` of an earlier instruction. A numpy ufunc writes in place
into `out` when `out` already names an array (the parameter, a state, an earlier array) and
makes a new array otherwise (eagerly the ufunc allocates it; a compiled step gives it a buffer
of its own). Any other callable (np.copy, np.zeros_like, operator.sub, math.sqrt) assigns its
result to `out`; assigning a state stores the result in the optimizer's state.
`IfNone(state, then, otherwise)` runs `then` while the state is None (it creates it), else
`otherwise`; names made inside it stay inside it. Instructions over options and numbers only
run once per group and step. This module knows nothing of any optimizer: each states its own.
"""
import operator
from typing import NamedTuple

import numpy as np

from .codegen import _function

PARAM, GRAD = "param", "grad"

# Scalar functions written as Python operators in the source (the same arithmetic, no call).
_INFIX = {operator.add: "({} + {})", operator.sub: "({} - {})", operator.mul: "({} * {})",
          operator.truediv: "({} / {})", operator.pow: "({} ** {})", operator.getitem: "{}[{}]"}


class IfNone(NamedTuple):
    """`then` while the parameter's `state` is None (the step that creates it), else
    `otherwise`."""

    state: str
    then: tuple
    otherwise: tuple = ()


class Rule:
    """A rule checked and analysed once: its states, its options, what runs once per group.

    `states`: the optimizer's per-parameter state names; `options`: its group's option names.
    """

    def __init__(self, instrs, states, options):
        self.instrs = tuple(instrs)
        flat = list(_walk(self.instrs))
        used = {a for _, args, out in flat for a in (*args, out) if isinstance(a, str)}
        used |= {i.state for i in _branches(self.instrs)}
        self.states = [s for s in states if s in used]
        if any(out == GRAD for _, _, out in flat):
            raise ValueError("update rule: an instruction writes into 'grad' (read it only)")
        per_param = {PARAM, GRAD, *self.states}
        self.hoisted = []  # top-level scalar instructions over options and numbers only
        for instr in self.instrs:
            if isinstance(instr, IfNone):
                per_param |= {out for _, _, out in _walk((instr,))}
                continue
            func, args, out = instr
            if (isinstance(func, np.ufunc) or out in per_param
                    or any(a in per_param for a in args if isinstance(a, str))):
                per_param.add(out)
            else:
                self.hoisted.append(instr)
        outs = [out for _, _, out in flat]
        twice = sorted({out for _, _, out in self.hoisted if outs.count(out) > 1})
        if twice:  # hoisted, it would no longer come after what reads its first value
            raise ValueError(f"update rule: {twice} names two different scalars alike")
        clash = sorted({out for _, _, out in self.hoisted if out in options})
        if clash:
            raise ValueError(f"update rule: {clash} names both an option and a result")
        made = set(outs)
        self.options = sorted(a for a in used - made - per_param if a in options)
        unknown = sorted(used - made - per_param - set(options))
        if unknown:
            raise ValueError(f"update rule: {unknown} name no option, state or earlier result "
                             f"(options: {sorted(options)}, states: {list(states)})")

    @property
    def stateless(self):
        """True when the rule keeps no per-parameter state (it can run on all at once)."""
        return not self.states


class Emitter:
    """Source lines for rules. `const(obj)` names a closure constant; `buffer(like, n)` names
    the n-th new array of a parameter shaped like `like` in a compiled step, or is None
    (eager: the ufuncs allocate)."""

    def __init__(self, const, buffer=None):
        self.const, self.buffer = const, buffer
        self.zero_d = True  # eager: new arrays may have 0-d operands (see eager_function)

    def group_lines(self, rule, group):
        """Read the rule's options from `group` (an expression) and run its hoisted part."""
        lines = [f"o_{name} = {group}[{name!r}]" for name in rule.options]
        for func, args, out in rule.hoisted:
            lines.append(f"o_{out} = {self._scalar(func, [self._name(a, {}) for a in args])}")
        return lines

    def param_lines(self, rule, param, data, grad, index, states, like=None, names=False):
        """One parameter's update: `param` the Tensor, `data`/`grad` its arrays, `index` its
        position in the state lists named by `states` (name -> list expression).
        `names=True`: (lines, what each name of the rule is at their end)."""
        lines = [f"r_{s} = {states[s]}[{index}]" for s in rule.states]
        known = {PARAM: data, GRAD: grad, **{s: f"r_{s}" for s in rule.states}}
        self._count = 0
        skip = set(rule.hoisted)
        lines += self._body(rule.instrs, skip, known, set(rule.states), states, index, like)
        if param is not None:  # (None: the caller marks the parameters)
            lines.append(f"{param}.mark_modified()")
        return (lines, known) if names else lines

    def _body(self, instrs, skip, names, state_names, states, index, like, top=True):
        names = names if top else dict(names)  # names made inside a branch stay inside it
        lines = []
        for instr in instrs:
            if isinstance(instr, IfNone):
                for head, part in ((f"if r_{instr.state} is None:", instr.then),
                                   ("else:", instr.otherwise)):
                    body = self._body(part, skip, names, state_names, states, index, like,
                                      top=False)
                    if body or head != "else:":
                        lines += [head] + ["    " + line for line in body or ["pass"]]
                continue
            if instr in skip:
                continue
            func, args, out = instr
            values = ", ".join(self._name(a, names) for a in args)
            if isinstance(func, np.ufunc):
                # `out` positional where numpy allows it: no keyword to parse at every call.
                into = "out=" if func in (np.maximum, np.minimum) else ""
                if out in names and out != GRAD:  # in place: the parameter, a state, an array
                    lines.append(f"{self.const(func)}({values}, {into}{names[out]})")
                elif self.buffer is None:  # `out=...`: an array even for 0-d operands
                    names[out] = f"r_{out}"
                    tail = ", out=..." if self.zero_d else ""
                    lines.append(f"r_{out} = {self.const(func)}({values}{tail})")
                else:
                    names[out] = self.buffer(like, self._count)
                    self._count += 1
                    lines.append(f"{self.const(func)}({values}, {into}{names[out]})")
                continue
            names[out] = f"r_{out}"
            lines.append(f"r_{out} = {self._scalar(func, [self._name(a, names) for a in args])}")
            if out in state_names:
                lines.append(f"{states[out]}[{index}] = r_{out}")
        return lines

    def _name(self, arg, names):
        if isinstance(arg, str):
            return names.get(arg, f"o_{arg}")
        if type(arg) in (int, float, bool):
            return repr(arg)  # (a float's repr reads back as the same float)
        return self.const(arg)

    def _scalar(self, func, values):
        infix = _INFIX.get(func)
        if infix is not None:
            return infix.format(*values)
        return f"{self.const(func)}({', '.join(values)})"


def eager_function(rule, yields=None):
    """`update(opt, group, start)`: `rule` on every parameter of `group` that has a gradient
    and requires one; `start` is the index of the group's first parameter in the state lists
    (`opt.<state>`). What an optimizer's step() runs. With `yields` (a name of the rule), a
    generator of (index, parameter, that value) instead, which marks nothing modified."""
    consts = {}

    def const(obj):
        for name, value in consts.items():
            if value is obj:
                return name
        name = f"f_{getattr(obj, '__name__', 'k')}_{len(consts)}"
        consts[name] = obj
        return name
    emit = Emitter(const)
    lines = emit.group_lines(rule, "group")
    lines += [f"s_{s} = opt.{s}" for s in rule.states]
    lines += ["for i, p in enumerate(group['params'], start):", "    G = p.grad",
              "    if G is None or not p.requires_grad:", "        continue", "    P = p.data"]
    bodies = []
    for zero_d in (False, True):  # a ufunc of 0-d arrays returns a scalar unless out=...
        emit.zero_d = zero_d
        body, names = emit.param_lines(rule, None if yields else "p", "P", "G", "i",
                                       {s: f"s_{s}" for s in rule.states}, names=True)
        if yields is not None:
            body.append(f"yield i, p, {names[yields]}")
        bodies.append(body)
    if bodies[0] == bodies[1]:
        lines += ["    " + line for line in bodies[0]]
    else:  # the keyword costs a little at every call: only 0-d parameters pay it
        lines.append("    if P.ndim:")
        lines += ["        " + line for line in bodies[0]]
        lines.append("    else:")
        lines += ["        " + line for line in bodies[1]]
    return _function("update", "opt, group, start", lines, consts)


def _walk(instrs):
    """Every plain instruction, inside branches too."""
    for instr in instrs:
        if isinstance(instr, IfNone):
            yield from _walk(instr.then)
            yield from _walk(instr.otherwise)
        else:
            yield instr


def _branches(instrs):
    for instr in instrs:
        if isinstance(instr, IfNone):
            yield instr
            yield from _branches(instr.then)
            yield from _branches(instr.otherwise)
