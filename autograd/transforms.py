"""Function transforms, as in HIPS autograd and JAX: `grad(f)` is a new function that returns f's
gradient, so derivatives compose (`grad(grad(f))`, `jacobian(grad(f))`) and plain numpy code
is differentiated without writing a Tensor.

Arguments are arrays, numbers, Tensors, or nested tuples, lists and dicts of them (a "tree");
a gradient has the structure of its argument. Results are plain arrays when the differentiated
arguments were plain (Tensors when they were Tensors), except inside another transform, where
they are Tensors that the outer transform differentiates again (`backward(create_graph=True)`
underneath). `autograd.grad(outputs, inputs)` keeps PyTorch's meaning: these are imported from
`autograd.transforms` (value_and_grad, elementwise_grad, vjp and jvp also from `autograd`).
"""

import functools
import numbers
import weakref

import numpy as np

from . import engine
from .compile.function import GradientFunction, NotCompiled, Setup, bits, closure_getters
from .functions import concatenate, stack
from .tensor import Tensor

__all__ = ["grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian", "vjp", "jvp",
           "hvp", "flatten", "unflatten"]


# ---------------------------------------------------------------- trees of arrays
def _is_leaf(value):
    return isinstance(value, (Tensor, np.ndarray, numbers.Number, np.generic))


def _leaves(tree, where="argument"):
    """The arrays, numbers and Tensors of a tree, depth first (dicts in their own order)."""
    if _is_leaf(tree):
        return [tree]
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in _leaves(item, where)]
    if isinstance(tree, dict):
        return [leaf for item in tree.values() for leaf in _leaves(item, where)]
    raise TypeError(f"{where}: {type(tree).__name__} is not an array, a number, a Tensor, or a "
                    "tuple, list or dict of them")


def _leaves_like(tree, like, where):
    """The leaves of `tree`, read in the order of `like`'s structure (dicts by like's keys), so
    that they pair with _leaves(like); a structure that differs raises."""
    if _is_leaf(like):
        if not _is_leaf(tree):
            raise TypeError(f"{where}: {type(tree).__name__} where the structure has an array")
        return [tree]
    if isinstance(like, dict):
        if not isinstance(tree, dict) or set(tree) != set(like):
            raise TypeError(f"{where}: needs a dict with the keys {sorted(map(str, like))}, got "
                            f"{sorted(map(str, tree)) if isinstance(tree, dict) else tree!r}")
        return [leaf for k in like for leaf in _leaves_like(tree[k], like[k], where)]
    if not isinstance(tree, (tuple, list)) or len(tree) != len(like):
        raise TypeError(f"{where}: needs a {type(like).__name__} of {len(like)} items, got "
                        f"{type(tree).__name__}"
                        + (f" of {len(tree)}" if isinstance(tree, (tuple, list)) else ""))
    return [leaf for t, lk in zip(tree, like) for leaf in _leaves_like(t, lk, where)]


def _rebuild(tree, leaves):
    """`tree` with its leaves replaced, in order, by the items of the iterator `leaves`."""
    if _is_leaf(tree):
        return next(leaves)
    if isinstance(tree, dict):
        return type(tree)((k, _rebuild(v, leaves)) for k, v in tree.items())
    items = [_rebuild(item, leaves) for item in tree]
    return type(tree)(*items) if hasattr(tree, "_fields") else type(tree)(items)


def flatten(tree):
    """(vector, unflatten): the leaves of `tree` raveled into one 1-D vector, and the function
    that turns such a vector back into a tree of the same structure, shapes and dtypes.

    The vector is an ndarray, or a Tensor when a leaf is a Tensor; unflatten of a Tensor gives
    Tensor leaves (slices of it), so `grad(lambda v: loss(unflatten(v)))(vector)` works.
    """
    leaves = _leaves(tree, "flatten")
    shapes, dtypes = _shapes_and_dtypes(leaves)
    if any(isinstance(leaf, Tensor) for leaf in leaves):
        vector = concatenate([leaf.reshape(-1) if isinstance(leaf, Tensor) else
                              np.ravel(leaf).astype(np.result_type(*dtypes)) for leaf in leaves])
    elif leaves:
        vector = np.concatenate([np.ravel(leaf) for leaf in leaves]).astype(
            np.result_type(*dtypes))
    else:
        vector = np.zeros(0)

    def unflatten_(vector):
        return unflatten(vector, tree, _layout=(shapes, dtypes))

    return vector, unflatten_


def unflatten(vector, like, _layout=None):
    """A tree of the structure, shapes and dtypes of `like`, with values from the 1-D `vector`
    (as `flatten(like)` lays them out)."""
    shapes, dtypes = _layout or _shapes_and_dtypes(_leaves(like, "unflatten"))
    sizes = [int(np.prod(shape)) for shape in shapes]
    if np.ndim(vector) != 1 or np.shape(vector)[0] != sum(sizes):
        raise ValueError(f"unflatten: needs a 1-D vector of {sum(sizes)} elements, got shape "
                         f"{np.shape(vector)}")
    bounds = np.cumsum([0, *sizes])
    pieces = []
    for start, stop, shape, dtype in zip(bounds[:-1], bounds[1:], shapes, dtypes):
        piece = vector[int(start):int(stop)].reshape(shape)
        pieces.append(piece if isinstance(piece, Tensor) else piece.astype(dtype))
    return _rebuild(like, iter(pieces))


def _shapes_and_dtypes(leaves):
    return [np.shape(getattr(leaf, "data", leaf)) for leaf in leaves], list(map(_dtype, leaves))


def _dtype(leaf):
    dtype = np.result_type(leaf.data if isinstance(leaf, Tensor) else leaf)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


# ---------------------------------------------------------------- evaluating and differentiating
class _Trace:
    """fun evaluated at fresh leaves for the differentiated arguments."""

    def __init__(self, fun, args, kwargs, argnums, where):
        for i in argnums:
            if not -len(args) <= i < len(args):
                raise IndexError(f"{where}: argnum {i} but the function was called with "
                                 f"{len(args)} positional arguments")
        self.trees = [args[i] for i in argnums]
        self.leaves = [_leaves(tree, f"{where}: argument {i}")
                       for tree, i in zip(self.trees, argnums)]
        self.plain = not any(isinstance(leaf, Tensor) for ls in self.leaves for leaf in ls)
        outer = engine.is_grad_enabled()
        with engine.enable_grad():
            self.fresh = [[_fresh(leaf, outer) for leaf in ls] for ls in self.leaves]
            new_args = list(args)
            for i, tree, fresh in zip(argnums, self.trees, self.fresh):
                new_args[i] = _rebuild(tree, iter(fresh))
            self.out = fun(*new_args, **kwargs)
        self.xs = [x for fresh in self.fresh for x in fresh]
        self.outer = outer
        _DONE.update((id(x), x) for x in self.xs if x.is_leaf)

    def nested(self, outputs, seeds=()):
        """Whether the results must stay in a graph: inside another transform, a graph that
        reaches a tensor requiring grad other than the fresh leaves, or a traced seed."""
        if not self.outer:
            return False
        if any(isinstance(s, Tensor) and s.requires_grad for s in seeds):
            return True
        return any(node.is_leaf and id(node) not in _DONE
                   for out in outputs if isinstance(out, Tensor) and out.requires_grad
                   for node in engine.toposort(out))

    def backward(self, outputs, seeds, create_graph):
        """Gradients of the outputs weighed by the seeds, one tree per differentiated argument."""
        pairs = [(o, s) for o, s in zip(outputs, seeds)
                 if isinstance(o, Tensor) and o.requires_grad]
        grads = [None] * len(self.xs)
        if pairs:
            with engine.enable_grad():
                grads = engine.grad([o for o, _ in pairs], self.xs, [s for _, s in pairs],
                                    create_graph=create_graph, allow_unused=True)
        grads = iter([Tensor(np.zeros(x.shape, x.dtype)) if g is None else g
                      for g, x in zip(grads, self.xs)])
        return [_rebuild(tree, (self.result(next(grads), leaf, create_graph) for leaf in ls))
                for tree, ls in zip(self.trees, self.leaves)]

    def result(self, value, leaf, nested):
        """A Tensor inside another transform; else an array for a plain leaf, a Tensor for one."""
        if nested:
            return value if isinstance(value, Tensor) else Tensor(value)
        data = value.data if isinstance(value, Tensor) else np.asarray(value)
        if isinstance(leaf, Tensor):
            return Tensor(data)
        return data if isinstance(leaf, np.ndarray) or data.ndim else data[()]

    def value(self, out, nested):
        """fun's result: itself inside another transform, else plain (or detached Tensors)."""
        if nested:
            return out
        return _rebuild(out, (o if not isinstance(o, Tensor) else
                              _scalar_if_0d(o.data) if self.plain else Tensor(o.data)
                              for o in _leaves(out, "the function's result")))


# The leaves of the transforms whose function has returned, by id, while they live. A graph
# that reaches any other leaf that requires grad is differentiated by someone else too: an
# outer transform still running its function (reached through a closure), or a parameter the
# caller trains, so the results must keep their graph. (Keyed by id: Tensors compare
# elementwise and are not hashable.)
_DONE = weakref.WeakValueDictionary()


def _fresh(leaf, outer):
    """A tensor to differentiate with respect to: connected to `leaf` when an outer transform
    (or the caller) differentiates `leaf` too, else a new leaf of its own."""
    if outer and isinstance(leaf, Tensor) and leaf.requires_grad:
        return leaf.reshape(leaf.shape)
    data = leaf.data if isinstance(leaf, Tensor) else np.asarray(leaf)
    return Tensor(data.astype(_dtype(data)), requires_grad=True)


def _scalar_if_0d(data):
    """A 0-d result as numpy's reductions give it: a numpy scalar."""
    return data[()] if data.ndim == 0 else data


def _argnums(argnum):
    return (argnum,) if isinstance(argnum, numbers.Integral) else tuple(argnum)


def _one_element(out, where):
    if not isinstance(out, (Tensor, np.ndarray, numbers.Number, np.generic)) or np.size(
            out.data if isinstance(out, Tensor) else out) != 1:
        shape = np.shape(out.data if isinstance(out, Tensor) else out) if _is_leaf(out) else None
        raise TypeError(f"{where}: the function must return one number (a Tensor or array with "
                        f"one element), got {type(out).__name__}"
                        + (f" of shape {shape}" if shape is not None else "")
                        + "; elementwise_grad or jacobian take other outputs")
    return out


def _gradient_and_value(fun, argnum, args, kwargs, where):
    argnums = _argnums(argnum)
    trace = _Trace(fun, args, kwargs, argnums, where)
    out = _one_element(trace.out, where)
    nested = trace.nested([out])
    seed = np.ones(np.shape(out), _dtype(out))
    grads = trace.backward([out], [seed], nested)
    return (grads[0] if isinstance(argnum, numbers.Integral) else tuple(grads),
            trace.value(out, nested))


# ---------------------------------------------------------------- the transforms
def grad(fun, argnum=0, compile=False):  # noqa: A002 - the keyword the issue names
    """The function x -> d fun / d x, for a `fun` that returns one number. `argnum` picks the
    argument (a tuple of them gives a tuple of gradients); each gradient has the structure,
    shapes and dtypes of its argument. `compile`: as for `value_and_grad`."""
    return _transform(fun, argnum, compile, "grad")


def value_and_grad(fun, argnum=0, compile=False):  # noqa: A002 - the keyword the issue names
    """The function x -> (fun(x), d fun / d x): one evaluation for both, as scipy.optimize's
    `jac=True` wants them.

    `compile=True`: per signature (the structure, shapes and dtypes of the differentiated
    arguments, and the other arguments' values) the first call is recorded, and later calls
    replay it as one generated numpy function (autograd.compile.function), with the same bits
    as eager. What the replay cannot prove the same runs eagerly, with a CompileWarning that
    says why: a number read from a Tensor (item(), float(), `if t > 0`), an argument that
    requires grad (inside another transform), a closure parameter that requires grad, numpy
    code on values of the arguments or random draws. Arrays numpy makes from the closure (a
    distance matrix, np.eye(n)) are frozen, and watched: closure arrays and numbers, and
    arguments that are not differentiated, are compared at every call (a change records
    again). Python state in objects (attributes) is frozen as it was at the recording. After
    each call `.compiled` says whether a replay ran and `.eager_reason` why not.
    """
    return _transform(fun, argnum, compile, "value_and_grad")


def _transform(fun, argnum, compile, where):  # noqa: A002
    """grad or value_and_grad (`where` names it), compiled when asked (see value_and_grad)."""
    runs = _CompiledCalls(fun, argnum, where) if compile else None

    @functools.wraps(fun)
    def transformed(*args, **kwargs):
        result = runs(args, kwargs) if runs is not None else None
        if result is None:
            result = _gradient_and_value(fun, argnum, args, kwargs, where)
        if runs is not None:
            transformed.compiled = runs.calls.compiled
            transformed.eager_reason = runs.calls.eager_reason
        return result[0] if where == "grad" else (result[1], result[0])
    transformed.compiled, transformed.eager_reason = False, None if compile else "compile=False"
    transformed._runs = runs  # its signatures, for tests
    return transformed


class _CompiledCalls:
    """value_and_grad(fun, argnum, compile=True)'s calls, as a GradientFunction sees them."""

    def __init__(self, fun, argnum, where):
        self.fun, self.argnum, self.where = fun, argnum, where
        self.calls = GradientFunction(warn=True)
        self.getters = None

    def __call__(self, args, kwargs):
        """(gradient, value) as _gradient_and_value gives them, or None: run it eagerly."""
        argnums = _argnums(self.argnum)
        if not all(-len(args) <= i < len(args) for i in argnums):
            return None  # the eager call raises the error
        order = [i % len(args) for i in argnums]  # the differentiated arguments, in order
        if len(set(order)) != len(order):
            return None
        signature, watched, values = [], [], []
        try:
            for i in order:
                for leaf in _leaves(args[i]):
                    data = leaf.data if isinstance(leaf, Tensor) else np.asarray(leaf)
                    if isinstance(leaf, Tensor) and leaf.requires_grad:
                        raise NotCompiled("a differentiated argument is a Tensor that requires "
                                          "grad (a transform inside another)")
                    values.append(data)
                    signature.append((type(leaf) if isinstance(leaf, (Tensor, np.ndarray))
                                      else None, data.shape, data.dtype.str, data.strides))
                signature.append(_structure(args[i]))
            for i, arg in enumerate(args):
                if i not in order:
                    signature.append(_static(arg, watched))
            signature.append(_static(kwargs, watched))
        except NotCompiled as err:
            return self.calls._eager(str(err))
        except TypeError:
            return None  # the eager call raises the error
        if self.getters is None:
            self.getters = closure_getters(self.fun)
        watched += [get() for get in self.getters]

        def setup():
            leaves = [Tensor(v.astype(_dtype(v)), requires_grad=True) for v in values]
            new_args = list(args)
            fresh = iter(leaves)
            for i in order:
                new_args[i] = _rebuild(args[i], fresh)

            def fn():
                return _one_element(self.fun(*new_args, **kwargs), self.where)
            return Setup(fn, leaves)

        def fill(leaves):
            for leaf, v in zip(leaves, values):
                np.copyto(leaf.data, v, casting="unsafe")

        result = self.calls(tuple(signature), setup, fill, watched)
        if result is None:
            return None
        value, grads = result
        grads = iter(np.zeros(v.shape, _dtype(v)) if g is None else np.array(g)
                     for g, v in zip(grads, values))
        # _Trace.result uses no state of a trace: an array or a Tensor, as eager gives them
        trees = [_rebuild(args[i], (_Trace.result(None, next(grads), leaf, False)
                                    for leaf in _leaves(args[i]))) for i in order]
        plain = not any(isinstance(leaf, Tensor) for i in order for leaf in _leaves(args[i]))
        value = _scalar_if_0d(value) if plain else Tensor(value)
        return (trees[0] if isinstance(self.argnum, numbers.Integral) else tuple(trees)), value


def _structure(tree):
    """The shape of a tree without its leaves: types, lengths and dict keys."""
    if _is_leaf(tree):
        return None
    if isinstance(tree, dict):
        return (type(tree), tuple((k, _structure(v)) for k, v in tree.items()))
    return (type(tree), tuple(_structure(item) for item in tree))


def _static(tree, watched):
    """The signature of an argument that is not differentiated; its arrays go to `watched`.

    Arrays (and Tensors without grad) by shape and dtype, their values watched; numbers,
    strings and None by value; containers item by item; other objects by identity.
    """
    if isinstance(tree, Tensor):
        if tree.requires_grad:
            raise NotCompiled(f"an argument that is not differentiated is a Tensor of shape "
                              f"{tree.shape} that requires grad")
        tree = tree.data
    if isinstance(tree, np.ndarray):
        watched.append(tree)
        return ("array", tree.shape, tree.dtype.str, tree.strides)
    if isinstance(tree, (numbers.Number, str, bytes, type(None))):
        return (type(tree), bits(tree))
    if isinstance(tree, dict):
        return (type(tree), tuple((k, _static(v, watched)) for k, v in tree.items()))
    if isinstance(tree, (tuple, list)):
        return (type(tree), tuple(_static(item, watched) for item in tree))
    watched.append(tree)  # compared by identity, which holding it keeps unique
    return ("object", id(tree))


def elementwise_grad(fun, argnum=0):
    """The gradient of the sum of fun's outputs: for a function applied element by element, the
    derivative of each output with respect to its own input, in one reverse pass."""
    @functools.wraps(fun)
    def gradient(*args, **kwargs):
        trace = _Trace(fun, args, kwargs, _argnums(argnum), "elementwise_grad")
        outputs = _leaves(trace.out, "elementwise_grad: the function's result")
        nested = trace.nested(outputs)
        grads = trace.backward(outputs, [np.ones(np.shape(o), _dtype(o)) for o in outputs],
                               nested)
        return grads[0] if isinstance(argnum, numbers.Integral) else tuple(grads)
    return gradient


def jacobian(fun, argnum=0):
    """The function x -> J, J[i..., j...] = d fun(x)[i...] / d x[j...], of shape
    fun(x).shape + x.shape (a tree of them for a tree argument). One reverse pass per output
    element. `fun` returns one array or Tensor."""
    @functools.wraps(fun)
    def jac(*args, **kwargs):
        trace = _Trace(fun, args, kwargs, _argnums(argnum), "jacobian")
        out = trace.out
        if not _is_leaf(out):
            raise TypeError(f"jacobian: the function must return one array or Tensor, got "
                            f"{type(out).__name__}; for several outputs, flatten them "
                            "(autograd.transforms.flatten) or take one jacobian each")
        nested = trace.nested([out])
        shape, dtype = np.shape(out.data if isinstance(out, Tensor) else out), _dtype(out)
        rows = []
        for k in range(int(np.prod(shape))):
            seed = np.zeros(shape, dtype)
            seed.flat[k] = 1
            rows.append(trace.backward([out], [seed], nested))
        per_arg = []
        for a, (tree, leaves) in enumerate(zip(trace.trees, trace.leaves)):
            columns = [_leaves(row[a]) for row in rows]
            built = []
            for j, leaf in enumerate(leaves):
                pieces = [column[j] for column in columns]
                whole = shape + np.shape(leaf.data if isinstance(leaf, Tensor) else leaf)
                if not pieces:
                    built.append(trace.result(np.zeros(whole, _dtype(leaf)), leaf, nested))
                elif nested:
                    built.append(stack(pieces).reshape(whole))
                else:
                    array = np.stack([getattr(p, "data", p) for p in pieces]).reshape(whole)
                    built.append(trace.result(array, leaf, False))
            per_arg.append(_rebuild(tree, iter(built)))
        return per_arg[0] if isinstance(argnum, numbers.Integral) else tuple(per_arg)
    return jac


def hessian(fun, argnum=0):
    """The function x -> H, the jacobian of the gradient, of shape x.shape * 2, for a `fun` that
    returns one number (a tree argument gives a tree of trees; flatten it for one matrix)."""
    if not isinstance(argnum, numbers.Integral):
        raise TypeError("hessian: argnum must be one integer; for several arguments, flatten "
                        "them into one vector (autograd.transforms.flatten)")
    return jacobian(grad(fun, argnum), argnum)


def hvp(fun, argnum=0):
    """The function (*args, v) -> H v, the Hessian of the one-number `fun` with respect to
    argument `argnum` times `v` (a tree like that argument): the gradient of <grad fun, v>,
    two reverse passes, the Hessian never formed."""
    def product(*args_and_v, **kwargs):
        *args, v = args_and_v

        def along_v(*a, **k):
            return _dot(grad(fun, argnum)(*a, **k), v)

        return grad(along_v, argnum)(*args, **kwargs)
    return product


def vjp(fun, *args):
    """(fun(*args), vjp_fn): vjp_fn(v) is the tuple of v^T J for every argument, with v shaped
    like fun's result (a tree for a tree). The forward pass runs once; vjp_fn may be called
    many times (JAX's jax.vjp)."""
    trace = _Trace(fun, args, {}, tuple(range(len(args))), "vjp")
    outputs = _leaves(trace.out, "vjp: the function's result")
    nested_out = trace.nested(outputs)

    def vjp_fn(v):
        seeds = _leaves_like(v, trace.out, "vjp_fn: the cotangent")
        _match(outputs, seeds, "vjp_fn: the cotangent", "fun's result")
        seeds = [s if isinstance(s, Tensor) else np.asarray(s, _dtype(o))
                 for s, o in zip(seeds, outputs)]
        return tuple(trace.backward(outputs, seeds, nested_out or trace.nested((), seeds)))

    return trace.value(trace.out, nested_out), vjp_fn


def jvp(fun, primals, tangents):
    """(fun(*primals), J t): the forward-mode product of fun's Jacobian with the tangents (a
    tuple like primals), shaped like fun's result (JAX's jax.jvp). Exact: J t is the gradient,
    with respect to a cotangent u, of <J^T u, t>, which is linear in u (two reverse passes)."""
    primals, tangents = tuple(primals), tuple(tangents)
    trace = _Trace(fun, primals, {}, tuple(range(len(primals))), "jvp")
    outputs = _leaves(trace.out, "jvp: the function's result")
    ts = _leaves_like(tangents, primals, "jvp: the tangents")
    _match(trace.xs, ts, "jvp: the tangents", "the primals")
    nested = trace.nested(outputs, ts)
    with engine.enable_grad():
        live = [o for o in outputs if isinstance(o, Tensor) and o.requires_grad]
        us = [Tensor(np.zeros(o.shape, o.dtype), requires_grad=True) for o in live]
        products = [None] * len(live)
        if live:
            back = engine.grad(live, trace.xs, us, create_graph=True, allow_unused=True)
            terms = [(b * t).sum() for b, t in zip(back, ts) if b is not None]
            dot = sum(terms[1:], terms[0]) if terms else None
            if dot is not None and dot.requires_grad:
                products = engine.grad(dot, us, create_graph=nested, allow_unused=True)
    by_output = {id(o): p for o, p in zip(live, products)}
    results = []
    for o in outputs:
        p = by_output.get(id(o))
        if p is None:
            p = np.zeros(np.shape(o.data if isinstance(o, Tensor) else o), _dtype(o))
        if nested:
            results.append(p if isinstance(p, Tensor) else Tensor(p))
        else:
            data = p.data if isinstance(p, Tensor) else p
            results.append(_scalar_if_0d(data) if trace.plain else Tensor(data))
    tangent_out = _rebuild(trace.out, iter(results))
    return trace.value(trace.out, nested), tangent_out


def _match(values, others, what, like):
    shapes = [np.shape(v.data if isinstance(v, Tensor) else v) for v in values]
    other_shapes = [np.shape(o.data if isinstance(o, Tensor) else o) for o in others]
    if shapes != other_shapes:
        raise ValueError(f"{what} must be shaped like {like}: {like} has shapes {shapes}, "
                         f"{what.split(': ')[-1]} {other_shapes}")


def _dot(a, b):
    """The sum over the leaves of two trees of the same structure of sum(a * b)."""
    terms = [(x * y).sum() for x, y in zip(_leaves(a), _leaves_like(b, a, "hvp: v"))]
    return sum(terms[1:], terms[0])
