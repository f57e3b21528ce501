"""Compiled gradient functions: a loss and its gradient (or a Hessian-vector product) over fixed
leaf tensors, recorded once per signature and replayed, for the functions users hand to
scipy.optimize, which call them thousands of times with new values of the same shapes.

`GradientFunction()(signature, setup, fill, watched)` returns (loss, gradients) for one call, or
None when that call must run eagerly (the reason is in `.eager_reason`). The first call of a
signature runs `setup().fn` eagerly under the recorder of a compiled step and plans it; the
plan's replay is checked bit for bit against that run, and again against the eager run of every
later call until CONFIRMATIONS of them were at new argument values; then the replay alone runs.
Unlike a training step, a function may compute arrays with numpy from its closure (a GP's
distance matrix, np.eye(n)): they are frozen into the replay as copies, which holds while what
they were made from stays the same: the `watched` values (closure arrays, non-differentiated
arguments) are compared bit for bit at every call (a change records again), and a value computed
from the differentiated arguments' `.data` or from random draws (which differ from call to call,
at the same values too: np.random, a Generator, nn.Dropout) shows up in the confirmations.
A Hessian-vector product records its inner `grad(..., create_graph=True)` as operations, and
the in-place operators of second-order VJPs (`g -= t`) replay through the nodes they move to.
Frozen at trace time, as in a compiled step: Python control flow on Python state that is not
watched (attributes of objects), and numpy code on `.data` that agreed at those calls.
"""
import functools
import numbers
import types
import warnings

import numpy as np

from .. import engine
from ..tensor import Tensor
from .codegen import _same_bits, _Value
from .plan import _Plan
from .recording import _Recorder, _Trace, _Unreplayable
from .step import MAX_PLANS, CompileWarning

# Calls at argument values other than the recorded ones whose replay is checked against an
# eager run before the replay alone is trusted.
CONFIRMATIONS = 2
MAX_RECORDINGS = 4  # recordings of one signature (watched values that keep changing: eager)


class NotCompiled(Exception):
    """Raised by a function's setup or run: this signature runs eagerly (the message says why)."""


class Setup:
    """One signature's leaves (whose `.data` each call fills and whose `.grad` it reads) and
    `fn()`, which computes the loss Tensor from them. `keep_grads`: leave the leaves' `.grad`
    as they were (the caller does not expect them set). `inputs`: other arrays each call
    fills that the replay reads (a Hessian-vector product's direction): new values in them
    count as new values for the confirmations, as the leaves' do."""

    def __init__(self, fn, leaves, keep_grads=False, inputs=()):
        self.fn, self.leaves, self.keep_grads = fn, list(leaves), keep_grads
        self.inputs = list(inputs)
        self.plan = None
        self.seen = None  # the leaves' values at the recording or the last confirmation
        self.confirmed = 0
        self.watched = None  # snapshot of the watched values at the recording
        self.loss_like = None  # (shape, dtype) of the loss


class _GradientRecorder(_Recorder):
    """Keeps the gradients of first-order walks only: a walk with create_graph=True (the inner
    gradient of a Hessian-vector product) computes with recorded operations, kept as such."""

    def backward(self, node, index, parent, grad):
        if not isinstance(grad, Tensor):
            super().backward(node, index, parent, grad)


class _GradientTrace(_Trace):
    recorder = _GradientRecorder


class _FrozenPlan(_Plan):
    """A plan that keeps arrays numpy code made inside the function as constants (copies), and
    follows in-place operators (second-order VJPs use them)."""

    follows_in_place = True

    def _numpy_made(self, value):
        if isinstance(value, np.generic):
            return _Value("const", value)
        if any(np.may_share_memory(value, p.data) for p in self.params):
            raise _Unreplayable(
                f"an array of shape {value.shape} made by numpy code inside the function shares "
                "memory with a differentiated argument (a view of its .data): a replay would not "
                "make it again; use Tensor operations on the argument")
        return _Value("const", np.array(value, order="K"))


class GradientFunction:
    """The calls of one gradient function, compiled per signature (see the module docstring).

    After each call, `compiled` says whether a replay computed its result, and `eager_reason`
    why it ran eagerly (None while it compiles, records or checks). `warn`: say each reason
    once with a CompileWarning too.
    """

    def __init__(self, warn=False):
        self.entries = {}  # signature -> its Setup, or the reason it runs eagerly
        self.compiled = False
        self.eager_reason = None
        self.warn = warn
        self._recordings = {}
        self._warned = set()

    def __call__(self, signature, setup, fill, watched=()):
        """(loss array, [gradient of each leaf or None]) for this call, or None: run it eagerly.

        `setup()` makes a new signature's Setup (or raises NotCompiled); `fill(leaves)` writes
        this call's values into them; `watched`: values the replay freezes, compared each call.
        """
        self.compiled = False
        if engine.watcher is not None:
            return self._eager("another tool watches every operation (detect_anomaly, a "
                               "recording); this call runs eagerly")
        entry = self.entries.get(signature)
        if entry.__class__ is str:
            return self._eager(entry)
        if entry is None and len(self.entries) >= MAX_PLANS:
            return self._eager(f"more than {MAX_PLANS} argument signatures")
        if entry is None or not _same_values(watched, entry.watched):
            return self._record(signature, setup, fill, watched)
        fill(entry.leaves)
        if entry.confirmed < CONFIRMATIONS:  # at the same values too: random draws differ there
            return self._confirm(signature, entry, (setup, fill, watched))
        kept = [t.grad for t in entry.leaves] if entry.keep_grads else None
        result = entry.plan.replay()
        if result is None:  # a guard: a tensor's array was replaced, or its requires_grad
            return self._record(signature, setup, fill, watched)
        self.compiled, self.eager_reason = True, None
        return self._result(entry, result[0], kept)

    # ------------------------------------------------------------ recording and checking
    def _record(self, signature, setup, fill, watched):
        """Run this call eagerly under the recorder, and plan it (afresh: what `setup` makes
        closes over this call's arguments)."""
        count = self._recordings[signature] = self._recordings.get(signature, 0) + 1
        if count > MAX_RECORDINGS:
            return self._refuse(signature, "the arrays or values it reads from outside (its "
                                "closure, arguments that are not differentiated, the arrays "
                                "of parameters) keep changing between calls")
        try:
            entry = setup()
        except NotCompiled as err:
            return self._refuse(signature, str(err))
        fill(entry.leaves)
        kept = [t.grad for t in entry.leaves] if entry.keep_grads else None
        try:
            trace = _GradientTrace(_checked(entry), (), [], entry.leaves)
        except NotCompiled as err:
            self._restore(entry, kept)
            return self._refuse(signature, str(err))
        self.entries.pop(signature, None)
        try:
            entry.plan = _planned(trace, entry.leaves)
        except _Unreplayable as err:
            self._refuse(signature, str(err))
        except Exception as err:  # noqa: BLE001 - the eager run stands; its result is returned
            self._refuse(signature, f"planning failed ({type(err).__name__}: {err}; please "
                         "report this)")
        else:
            self.entries[signature] = entry
            entry.seen = _values(entry)
            entry.watched = _snapshot(watched)
            entry.confirmed = 0
            self.eager_reason = None
        entry.loss_like = trace.loss.shape, trace.loss.dtype
        return self._result(entry, trace.value, kept, trace.grads)

    def _confirm(self, signature, entry, again):
        """An eager run, and the replay at its values: the same bits, or eager for good.

        Only a run at values other than those checked before counts towards CONFIRMATIONS
        (what numpy computes from `.data` agrees at the same values); every run, at any values,
        catches random draws, which the replay would repeat."""
        new_values = not all(map(_same_array, _values(entry, copy=False), entry.seen))
        kept = [t.grad for t in entry.leaves] if entry.keep_grads else None
        for t in entry.leaves:
            t.grad = None
        try:
            loss = _checked(entry)()
        except NotCompiled as err:
            self._restore(entry, kept)
            return self._refuse(signature, str(err))
        loss.backward()
        value, grads = loss.item(), [t.grad for t in entry.leaves]
        result = entry.plan.replay()
        if result is None:
            return self._record(signature, *again)
        if _same_bits(result[0], value) and all(
                map(_same_bits, (t.grad for t in entry.leaves), grads)):
            if new_values:
                entry.confirmed += 1
                entry.seen = _values(entry)
            self.eager_reason = None
        else:
            self._refuse(signature, "its replay differs from an eager run of the same call: "
                         "the function computes with numpy from the values of its "
                         "differentiated arguments (.data), draws random numbers, or takes "
                         "another branch of Python code")
        return self._result(entry, value, kept, grads)

    def _result(self, entry, value, kept, grads=None):
        if grads is None:
            grads = [t.grad for t in entry.leaves]
        self._restore(entry, kept)
        shape, dtype = entry.loss_like
        return np.array(value, dtype).reshape(shape), grads

    @staticmethod
    def _restore(entry, kept):
        if kept is not None:
            for t, g in zip(entry.leaves, kept):
                t.grad = g

    # ------------------------------------------------------------ running eagerly
    def _refuse(self, signature, reason):
        self.entries[signature] = reason
        return self._eager(reason)

    def _eager(self, reason):
        self.compiled, self.eager_reason = False, reason
        if self.warn and reason not in self._warned:
            self._warned.add(reason)
            warnings.warn(f"compiled function: {reason}; it runs eagerly", CompileWarning,
                          stacklevel=4)
        return None


def _values(entry, copy=True):
    """The values a call filled in: the leaves' arrays, then the other inputs."""
    arrays = [t.data for t in entry.leaves] + entry.inputs
    return [a.copy() for a in arrays] if copy else arrays


def _planned(trace, leaves):
    """A plan whose replay of the trace has its bits: with fast kernels, else without."""
    for kernels in (True, False):
        plan = _FrozenPlan(trace, leaves, kernels)
        if plan.check(trace):
            return plan
    raise _Unreplayable("its replay differs from the eager run (please report this)")


def _checked(entry):
    """entry.fn with grad mode on, refusing results a replay of its leaves cannot give."""
    def run():
        with engine.enable_grad():
            loss = entry.fn()
        if not isinstance(loss, Tensor) or not loss.requires_grad:
            raise NotCompiled("its result does not depend on the differentiated arguments")
        own = {id(t) for t in entry.leaves}
        for node in engine.toposort(loss):
            if node.op is None and id(node) not in own:
                raise NotCompiled(
                    f"its result depends on a tensor of shape {node.shape} that requires grad "
                    "other than the differentiated arguments (a parameter in a closure, or an "
                    "argument of an outer transform)")
        return loss
    return run


# ---------------------------------------------------------------- watched values
def _snapshot(values):
    return [v.copy() if isinstance(v, np.ndarray) else
            _snapshot(v.values() if isinstance(v, dict) else v)
            if isinstance(v, (list, tuple, dict)) else v for v in values]


def _same_values(now, then):
    """True when `now` holds what the snapshot `then` does: arrays bit for bit, containers item
    by item, numbers and strings by type and value, other objects by identity."""
    if then is None or len(now) != len(then):
        return False
    for a, b in zip(now, then):
        if isinstance(b, np.ndarray):
            if not (isinstance(a, np.ndarray) and _same_array(a, b)):
                return False
        elif isinstance(b, list):
            if isinstance(a, dict):
                a = list(a.values())
            if not (isinstance(a, (list, tuple)) and _same_values(a, b)):
                return False
        elif a is not b and not (type(a) is type(b) and _plain(b) and bits(a) == bits(b)):
            return False
    return True


def _same_array(a, b):
    """Bit for bit, without copying either (a closure may hold a large data set)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    size = a.dtype.itemsize
    if a.dtype.hasobject or size not in (1, 2, 4, 8):
        return a.tobytes() == b.tobytes()
    unsigned = np.dtype(f"u{size}")  # as integers: -0.0 differs from 0.0, a nan equals itself
    return bool((a.view(unsigned) == b.view(unsigned)).all())


def _plain(value):
    return isinstance(value, (numbers.Number, str, bytes, type(None)))


def bits(value):
    """A number as a key that tells -0.0 from 0.0 (and a float from an equal int); any other
    plain value as it is."""
    if isinstance(value, np.generic):
        return value.dtype.str, value.tobytes()
    if isinstance(value, float):
        return value.hex()
    if isinstance(value, complex):
        return value.real.hex(), value.imag.hex()
    return value


def closure_getters(fn, depth=4):
    """Functions that read what `fn` reads from outside itself: its closure cells, the module
    globals its code names, the attributes its code names of objects and modules among them,
    followed into the functions they hold (`depth` levels; not into numpy's or npgrad's own).
    Arrays, numbers, strings and lists, tuples and dicts of them are watched; other state of
    objects is not (frozen into a replay, like Python control flow)."""
    getters, seen = [], set()

    def visit(f, depth):
        while isinstance(f, (functools.partial, types.MethodType)):
            if isinstance(f, functools.partial):
                for value in (*f.args, *f.keywords.values()):
                    add(lambda v=value: v, value, depth, ())
            f = f.func if isinstance(f, functools.partial) else f.__func__
        f = getattr(f, "__wrapped__", f)
        if not isinstance(f, types.FunctionType) or id(f) in seen or _library(f):
            return
        seen.add(id(f))
        names = set()
        for code in _codes(f.__code__):
            names.update(code.co_names)
        names = sorted(names)
        for cell in f.__closure__ or ():
            try:
                add(lambda c=cell: _contents(c), cell.cell_contents, depth, names)
            except ValueError:  # an empty cell (a name assigned later)
                getters.append(lambda c=cell: _contents(c))
        for name in names:
            if name in f.__globals__:
                add(lambda g=f.__globals__, n=name: g.get(n), f.__globals__[name], depth, names)

    def add(get, value, depth, names):
        if _watchable(value):
            getters.append(get)
        elif depth <= 0 or _library(value):
            return
        elif isinstance(value, (types.FunctionType, functools.partial, types.MethodType)):
            visit(value, depth - 1)
        elif isinstance(getattr(value, "__dict__", None), dict):  # an object or a module
            attrs = vars(value)
            for name in names:  # the attributes the code may read (`data.x`, `example.JITTER`)
                if name in attrs:
                    add(lambda o=value, n=name: vars(o).get(n), attrs[name], depth - 1, names)

    visit(fn, depth)
    return getters


def _library(value):
    """numpy's, scipy's, npgrad's and Python's own objects, whose state nobody changes."""
    name = value.__name__ if isinstance(value, types.ModuleType) else getattr(
        value, "__module__", None)
    return isinstance(value, type) or (isinstance(name, str) and name.split(".")[0] in (
        "numpy", "scipy", "autograd", "nn", "builtins", "math", "functools"))


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:
        return None


def _codes(code):
    """A code object and those of the functions and comprehensions defined in it."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def _watchable(value):
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(map(_watchable, value))
    return isinstance(value, np.ndarray) or _plain(value)
