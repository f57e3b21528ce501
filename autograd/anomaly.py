"""Where was the NaN born? Inside `with autograd.detect_anomaly():` the first operation whose
result, or whose gradient in backward, is not finite raises NonFiniteError naming the op, the
shapes and the line of your code that made the node; `err.graph()` draws it in red.
It is an engine.Watcher: outside the with-block it costs nothing.
"""

import contextlib
import linecache
import os
import sys
import weakref
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import engine
from .explain import Arrivals, array_of
from .graph import draw_graph, walk

_HERE = Path(__file__).resolve().parent
# Frames in these folders are the library's; the first frame outside them is the user's line.
_LIBRARY = tuple(str(folder) + os.sep for folder in (_HERE, _HERE.parent / "nn",
                                                  Path(np.__file__).resolve().parent))
_GRAPH_HINT = "err.graph() draws it in red (catch it: except NonFiniteError as err)"


class Location(NamedTuple):
    """A line of the user's code: file, line number and the line's text."""

    filename: str
    lineno: int
    code: str

    def __str__(self):
        return f"{self.filename}:{self.lineno}: {self.code}"


class NonFiniteError(FloatingPointError):
    """A NaN or inf that detect_anomaly caught where it was born.

    `phase` ("forward" or "backward"), `op` (its name), `node` (the tensor the op made; for an op
    that recorded no graph, a stand-in that shows its inputs), `root` (what to draw from:
    the node in forward; in backward, backward's starting tensor, or the node itself if that
    does not reach it), `location` (the line of your
    code that made the node, or None if it was made outside detect_anomaly), and `graph(...)`:
    draw_graph of `root` with the node in red.
    """

    def __init__(self, message, phase, op, node, root, location, note):
        super().__init__(message)
        self.phase, self.op, self.node, self.root = phase, op, node, root
        self.location, self.note = location, note

    def graph(self, show_values=True, **kwargs):
        """The graph with this node in red (values shown by default), as draw_graph draws it."""
        return draw_graph(self.root, show_values=show_values, highlight={self.node: self.note},
                          **kwargs)


class detect_anomaly(contextlib.ContextDecorator, engine.Watcher):
    """Context manager (and decorator): the first non-finite forward result or backward
    gradient inside it raises NonFiniteError at the op that made it.

    PyTorch's name; where it differs: PyTorch checks only backward, and only for NaN; this
    checks forward results too, and inf as well as NaN.
    Values that come in already non-finite (from data, a parameter, or a tensor computed before
    the block) are not born in any op inside it: the first op whose result they make
    non-finite raises, and the message says that its input came in that way (check the data).
    An op that turns a non-finite input into a finite result (exp(-inf) = 0) passes.
    A gradient is checked after the engine sums it down to its input's shape: an op whose
    gradient is non-finite while the gradient arriving at it is finite is where it was born.
    numpy may warn (RuntimeWarning) before the error: the warning comes from inside the op.
    It watches every operation of every thread while installed, and another watcher installed
    before it (compile_step, explain_backward) keeps receiving every call.
    """

    def __init__(self):
        self._previous = None
        self._installed = None
        self._made = {}  # id(node) -> (weakref to it, Location): where each node was made
        self._arrivals = Arrivals()
        self._root = None
        self._visiting = self._arriving = None  # the node backward is at, what arrived at it

    # ------------------------------------------------------------ the context
    def __enter__(self):
        self._previous = engine.watcher
        self._installed = engine.watching(self)
        self._installed.__enter__()
        return self

    def __exit__(self, *exc):
        installed, self._installed = self._installed, None
        self._made.clear()
        self._arrivals, self._root, self._visiting = Arrivals(), None, None
        return installed.__exit__(*exc)

    def _recreate_cm(self):
        return type(self)()  # a fresh one per decorated call: nested calls stay independent

    # ------------------------------------------------------------ forward
    def forward(self, op, inputs, attrs, out):
        if not _finite(out.data):
            raise self._forward_error(op, inputs, attrs, out)
        if out.op is not None:  # recorded: backward may need the line that made it
            key = id(out)
            self._made[key] = (weakref.ref(out, lambda _, key=key: self._made.pop(key, None)),
                               user_line())
        if self._previous is not None:
            self._previous.forward(op, inputs, attrs, out)

    def _forward_error(self, op, inputs, attrs, out):
        node = out
        if out.op is None:  # recorded nothing (no_grad, or constants only): draw a stand-in
            from .tensor import constant

            node = constant(out.data)
            node.op, node.parents, node.attrs = op, tuple(inputs), attrs
        location = user_line()
        shapes = " and ".join(str(t.shape) for t in inputs) or "none"
        bad_inputs = [(i, t) for i, t in enumerate(inputs) if not _finite(t.data)]
        if bad_inputs:
            i, t = bad_inputs[0]
            where = "a leaf: data or a parameter" if t.op is None else (
                f"made by {t.op.name} before detect_anomaly was entered")
            cause = (f"because its input {i} (shape {t.shape}, {where}) already holds "
                     f"{_count(t.data)}: no operation inside detect_anomaly made it; look "
                     "where that input comes from")
            note = f"input {i} came in with {_count(t.data)}"
        else:
            cause = f"from finite inputs (shapes {shapes}): it was born here"
            note = f"non-finite result born here ({_count(out.data)})"
        message = (f"detect_anomaly: {op.name} made a non-finite result in the forward pass: "
                   f"shape {out.shape}, {_count(out.data)}, {cause}\n"
                   f"  at {location or 'an unknown line'}\n"
                   f"  {_GRAPH_HINT}")
        return NonFiniteError(message, "forward", op.name, node, node, location, note)

    # ------------------------------------------------------------ backward
    def backward(self, node, index, parent, grad):
        if node is not self._visiting:  # backward reached a new node: what arrived at it?
            self._visiting = node
            self._arriving = self._arrivals.arrived(node)
            if self._arriving is None:  # nothing was sent to it: a root, seeded by backward
                self._root = node
        if not _finite(array_of(grad)):
            raise self._backward_error(node, index, parent, array_of(grad))
        self._arrivals.sent(parent, grad)
        if self._previous is not None:
            self._previous.backward(node, index, parent, grad)

    def _backward_error(self, node, index, parent, grad):
        op, arriving = node.op, self._arriving
        entry = self._made.get(id(node))
        location = entry[1] if entry is not None and entry[0]() is node else None
        made = (f"the node was made at {location}" if location else
                "the node was made before detect_anomaly was entered (run the forward pass "
                "inside it to see its line)")
        values = [t for t in (node, *node.parents) if not _finite(t.data)]
        rule = op.rule(index)
        if values:
            cause = (f"its forward values were already non-finite ({_count(values[0].data)} "
                     f"in a tensor of shape {values[0].shape}): the forward pass ran outside "
                     "detect_anomaly; run it inside to see where they were born")
        elif arriving is None:  # the watcher never sees backward's starting gradient
            cause = ("backward started at this node: unless the grad= passed to backward() "
                     "is not finite, it was born here")
        elif not _finite(arriving):
            cause = (f"the gradient arriving at its result has {_count(arriving)}: the sum of "
                     "the finite gradients its consumers sent overflowed")
        else:
            cause = "the gradient arriving at its result is finite: it was born here"
        message = (f"detect_anomaly: the backward of {op.name} (inputs "
                   f"{' and '.join(str(p.shape) for p in node.parents)}, result {node.shape}) "
                   f"sent {_count(grad)} to its input {index} (shape {parent.shape}); "
                   f"{cause}\n  its rule: {rule or 'none given'}\n  {made}\n"
                   f"  {_GRAPH_HINT}")
        note = f"its backward sends {_count(grad)} to input {index}: {rule or 'no rule given'}"
        root = self._root
        # With several roots (grad() of several outputs) the last one seen may not reach it.
        if root is None or not any(t is node for t in walk(root)):
            root = node
        try:
            error = NonFiniteError(message, "backward", op.name, node, root, location, note)
        finally:
            self._arrivals, self._root, self._visiting = Arrivals(), None, None
        return error


def user_line():
    """The innermost stack frame outside autograd/, nn/ and numpy: the line of user code."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARY):
        frame = frame.f_back
    if frame is None:
        return None
    filename, lineno = frame.f_code.co_filename, frame.f_lineno
    return Location(filename, lineno, linecache.getline(filename, lineno).strip())


def _finite(array):
    return bool(np.isfinite(array).all())


def _count(array):
    counts = [(int(np.isnan(array).sum()), "nan"), (int(np.isposinf(array).sum()), "+inf"),
              (int(np.isneginf(array).sum()), "-inf")]
    return ", ".join(f"{n} {what}" for n, what in counts if n)
