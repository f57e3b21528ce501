"""What an op is: a forward function and one gradient rule (a VJP) per input, each with a short
rule string for people. The helpers here are shared by the op families.

Every VJP works on ndarrays (backward's usual, fast path) and on Tensors (backward with
create_graph=True, for higher-order gradients): it is written with operators, ndarray methods
that Tensor has too, numpy functions that Tensors dispatch to their ops, and ops called as
functions. So second derivatives come from the same rules as first ones.
"""

import functools
import inspect
import itertools

import numpy as np


class reads:  # lower case: it reads as part of the row, like the rule string before it
    """Which arrays one VJP reads, written after its rule: `reads("y")`, `reads("out", "x")`.

    The names are the VJP's own parameters: `out`, an input, or the `*xs` of a variadic op (all
    of its inputs). An array used only for its shape or dtype is not read: in-place changes keep
    both. A VJP that reads a saved array (see `Op`) names it with the inputs it is made from,
    `reads("t", probs="x")`: the saved array is the node's own and never changes, but backward
    with create_graph=True drops it and recomputes it from x, so that one reads x instead.
    backward refuses only when a VJP it runs reads an array changed in place since the node was
    recorded; a test runs every VJP with the arrays it does not declare poisoned.
    """

    __slots__ = ("names", "saved")

    def __init__(self, *names, **saved):
        self.names = names
        self.saved = {k: (v,) if isinstance(v, str) else tuple(v) for k, v in saved.items()}

    def positions(self, vjp, saves, create_graph):
        """The arrays read, as positions: -1 for `out`, i for input i, ALL for every input."""
        # The inputs are the positional parameters after g and out that have no default
        # (attributes such as axis=None all have one).
        params = list(inspect.signature(vjp).parameters.values())[2:]
        where = {"out": -1}
        for i, param in enumerate(params):
            if param.kind == param.VAR_POSITIONAL:
                where[param.name] = ALL
            elif param.kind == param.POSITIONAL_OR_KEYWORD and param.default is param.empty:
                where[param.name] = i
        names = list(self.names)
        for saved, sources in self.saved.items():
            if saved not in saves:
                raise TypeError(f"reads({saved}=...): {saved!r} is not saved by this op")
            if create_graph:
                names.extend(sources)
        unknown = [n for n in names if n not in where]
        if unknown:
            raise TypeError(f"reads: {unknown} name no array of the VJP (it has {list(where)})")
        return tuple(sorted({where[n] for n in names}))

    def __repr__(self):
        saved = [f"{k}={v}" for k, v in self.saved.items()]
        return f"reads({', '.join([*map(repr, self.names), *saved])})"


ALL = -2  # reads(): the `*xs` of a variadic op, every input


class Op:
    """A differentiable primitive:
    `Op(name, forward, vjp_0, "rule_0", reads(...), vjp_1, "rule_1", reads(...), ...)`.

    `forward(*arrays, **attrs)` computes the result; `vjps[i](g, out, *arrays, **attrs)` maps the
    gradient `g` of the result to the gradient of input i; the string after a VJP says the same
    for people (`"dx = g * out"`: graph labels and explain_backward show it), and `reads` which
    of the arrays that VJP reads (required: backward checks them for in-place changes). An op
    made with `saves=("name", ...)` returns `(out, extras)` from forward: arrays its VJPs would
    otherwise recompute, added to the node's attrs (renderers skip them: they are results, not
    settings). VJPs of such ops also work without them (backward with create_graph=True drops
    them, since saved arrays are constants to a second derivative).
    """

    __slots__ = ("name", "forward", "vjps", "rules", "saves", "reads", "reading",
                 "reading_graph")
    on_tensors = None  # apply() with plain arrays lifted; set by autograd.tensor

    def __init__(self, name, forward, *vjps_rules_reads, saves=()):
        vjps, rules, declared = [], [], []
        for item in vjps_rules_reads:
            if isinstance(item, str):
                rules[-1] = item  # the rule of the VJP just before it
            elif isinstance(item, reads):
                declared[-1] = item
            else:
                vjps.append(item)
                rules.append(None)
                declared.append(None)
        if None in declared:
            raise TypeError(f"Op {name!r}: VJP {declared.index(None)} declares no reads(...) "
                            "after its rule: name the arrays it reads, e.g. reads('out', 'x'), "
                            "or reads() for none")
        self.name = name
        self.forward = forward
        self.vjps = vjps[0] if vjps and isinstance(vjps[0], Variadic) else tuple(vjps)
        self.rules = tuple(rules)
        self.saves = saves
        self.reads = tuple(declared)
        # Positions per VJP, worked out once: backward looks them up only after an in-place change.
        functions = [v.rule if isinstance(v, Variadic) else v for v in vjps]
        self.reading = tuple(r.positions(f, saves, False) for r, f in zip(declared, functions))
        self.reading_graph = tuple(r.positions(f, saves, True) for r, f in zip(declared, functions))

    def rule(self, index):
        """The rule string of input `index`'s VJP, or None when the op gives none."""
        return self.rules[min(index, len(self.rules) - 1)] if self.rules else None

    def read_by(self, index, n_inputs, create_graph=False):
        """The arrays input `index`'s VJP reads: -1 for the output, else input positions."""
        table = self.reading_graph if create_graph else self.reading
        positions = table[min(index, len(table) - 1)]
        if ALL in positions:
            positions = tuple(p for p in positions if p != ALL) + tuple(range(n_inputs))
        return positions

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


# ---------------------------------------------------------------- broadcasting undone
def sum_to(g, shape):
    """Undo broadcasting: sum `g` over the axes that broadcasting added or stretched to `g`'s
    shape, down to `shape`. The one place where broadcasting is undone (the engine reduces
    every gradient with `reduce_to`; a few VJPs call this directly)."""
    # (np.add.reduce on arrays: ndarray.sum is a Python function around it; a Tensor, with
    # create_graph=True, sums itself)
    add = np.add.reduce if type(g) is np.ndarray else _tensor_sum
    extra = g.ndim - len(shape)
    if extra:
        g = add(g, axis=tuple(range(extra)))
    if g.shape != shape:
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        g = add(g, axis=stretched, keepdims=True)
    return g


def _tensor_sum(g, axis, keepdims=False):
    return g.sum(axis=axis, keepdims=keepdims)


def reduce_to(g, like):
    """`g` summed down to the shape of array `like` (undoing broadcasting), in its dtype."""
    g = sum_to(g, like.shape)
    if g.dtype != like.dtype:
        g = g.astype(like.dtype)
    return g


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


def select(mask, g):
    """g where `mask` holds, else 0: selected, so that an infinite g gives 0 there, never the nan
    of 0 * inf. (The 0 is a 0-d array of g's dtype: numpy converts a Python 0 at every call.)"""
    return np.where(mask, g, np.zeros((), g.dtype))


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
