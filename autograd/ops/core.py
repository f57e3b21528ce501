"""What an op is: a forward function and one gradient rule (a VJP) per input, each with a short
rule string for people. The helpers here are shared by the op families.

Every VJP works on ndarrays (backward's usual, fast path) and on Tensors (backward with
create_graph=True, for higher-order gradients): it is written with operators, ndarray methods
that Tensor has too, numpy functions that Tensors dispatch to their ops, and ops called as
functions. So second derivatives come from the same rules as first ones.
"""

import functools
import itertools

import numpy as np

from ..engine import sum_to  # noqa: F401  (re-exported for the families)


class Op:
    """A differentiable primitive: `Op(name, forward, vjp_0, "rule_0", vjp_1, "rule_1", ...)`.

    `forward(*arrays, **attrs)` computes the result; `vjps[i](g, out, *arrays, **attrs)` maps the
    gradient `g` of the result to the gradient of input i; the string after a VJP says the same
    for people (`"dx = g * out"`: graph labels and explain_backward show it). An op made with
    `saves=("name", ...)` returns `(out, extras)` from forward: arrays its VJPs would otherwise
    recompute, added to the node's attrs (renderers skip them: they are results, not settings).
    VJPs of such ops also work without them (backward with create_graph=True drops them, since
    saved arrays are constants to a second derivative).
    """

    __slots__ = ("name", "forward", "vjps", "rules", "saves")
    on_tensors = None  # apply() with plain arrays lifted; set by autograd.tensor

    def __init__(self, name, forward, *vjps_and_rules, saves=()):
        vjps, rules = [], []
        for item in vjps_and_rules:
            if isinstance(item, str):
                rules[-1] = item  # the rule of the VJP just before it
            else:
                vjps.append(item)
                rules.append(None)
        self.name = name
        self.forward = forward
        self.vjps = vjps[0] if vjps and isinstance(vjps[0], Variadic) else tuple(vjps)
        self.rules = tuple(rules)
        self.saves = saves

    def rule(self, index):
        """The rule string of input `index`'s VJP, or None when the op gives none."""
        return self.rules[min(index, len(self.rules) - 1)] if self.rules else None

    def __call__(self, *args, **attrs):
        """Run the op inside a VJP: on ndarrays directly, on Tensors recorded (higher order)."""
        for a in args:
            if hasattr(a, "requires_grad"):  # a Tensor: record this op too
                return Op.on_tensors(self, *args, **attrs)
        out = self.forward(*args, **attrs)
        return out[0] if self.saves else out

    def __repr__(self):
        return f"Op({self.name})"


class Variadic:
    """The VJPs of an op that takes any number of inputs (concatenate, stack): one rule, called
    with `index=i` for input i. Iterating gives them in input order, as the engine zips them."""

    __slots__ = ("rule",)

    def __init__(self, rule):
        self.rule = rule

    def __iter__(self):
        return (functools.partial(self.rule, index=i) for i in itertools.count())


# ---------------------------------------------------------------- helpers shared by the VJPs
def axes_of(axis, ndim):
    """Normalise `axis` (None, int or tuple) to a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    return tuple(sorted(int(a) % ndim if ndim else int(a) for a in axis))


def keep(g, x, axis, keepdims):
    """Re-insert the reduced axes into `g` so that it broadcasts against `x`."""
    if keepdims or axis is None:  # a 0-d result broadcasts against anything already
        return g
    axes = axes_of(axis, x.ndim)
    return g.reshape([1 if i in axes else n for i, n in enumerate(x.shape)])


def times(g, fresh):
    """g * fresh, written into `fresh` when it is a VJP's own temporary array (one allocation
    fewer); on Tensors (higher order) an ordinary, recorded product."""
    if type(fresh) is np.ndarray:
        fresh *= g
        return fresh
    return fresh * g


def along(axis, ndim, index):
    """An index that applies `index` (a slice or an integer) to one axis and leaves the rest."""
    return (slice(None),) * (axis % ndim) + (index,)
