"""How gradients flow: grad mode, the graph walk, and reverse-mode accumulation.

`backward` visits the graph once, newest node first (a heap on creation order, which is a
reverse topological order: no recursion, so chains of any depth work), and calls each node's
VJPs only for parents that need a gradient; `grad` walks the same way and returns gradients
instead of storing them. With `create_graph=True` the VJPs run on Tensors and are recorded,
for derivatives of any order. Every gradient is reduced to its input's shape and dtype in one
place: `reduce_to`. Tools that watch every operation (detect_anomaly, compile) install one
`Watcher`: the only hook in `apply` and `backward`.
"""

import contextlib
import threading
from heapq import heappop, heappush

import numpy as np

from .ops.core import reduce_to, sum_to  # noqa: F401  (sum_to: re-exported, public)


# ---------------------------------------------------------------- grad mode (per thread)
class _GradMode(threading.local):
    enabled = True


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when operations are being recorded for differentiation in this thread."""
    return _grad_mode.enabled


class _SetGradMode(contextlib.ContextDecorator):
    """Sets grad mode to `_mode` inside a with-block or a decorated call (this thread only)."""

    _mode = True

    def __enter__(self):
        self._previous = _grad_mode.enabled
        _grad_mode.enabled = self._mode
        return self

    def __exit__(self, *exc):
        _grad_mode.enabled = self._previous
        return False

    def _recreate_cm(self):
        # A fresh instance per decorated call keeps nested and concurrent calls independent.
        return type(self)()


class no_grad(_SetGradMode):
    """Context manager and decorator: operations inside record no graph (this thread only)."""

    _mode = False


class enable_grad(_SetGradMode):
    """Context manager and decorator: operations inside are recorded, even within no_grad()."""

    _mode = True


# ---------------------------------------------------------------- the watcher hook
class Watcher:
    """What a tool that watches every operation implements (detect_anomaly, compile_step).

    Install one with `watching(w)`; while it is installed, `apply` reports every operation it
    runs, and `backward` every gradient a VJP returns. With no watcher, each costs one test.
    """

    def forward(self, op, inputs, attrs, out):
        """After `apply` ran `op` on `inputs` (Tensors) and made `out` (recorded or not)."""

    def backward(self, node, index, parent, grad):
        """After node's VJP for input `index` (`parent`) returned `grad`, reduced to its shape."""

    def made(self, array, func, *args):
        """`array` is `func(*args)`, made outside any op from Tensors or plain values (a Tensor
        made from data or a number, a comparison): where an array without a node came from."""

    def read(self, tensor):
        """A Python number was read from `tensor` (item(), float(), int(), bool(), format)."""

    def modified(self, tensor):
        """`tensor`'s array was changed in place outside any recorded op (mark_modified: an
        in-place operator under no_grad, such as a running statistic's update)."""


watcher = None  # the installed Watcher, or None


@contextlib.contextmanager
def watching(w):
    """Install watcher `w` for the duration of a with-block (the previous one comes back)."""
    global watcher
    previous, watcher = watcher, w
    try:
        yield w
    finally:
        watcher = previous


# ---------------------------------------------------------------- the graph walk
def toposort(root):
    """Nodes reachable from `root` through tensors that require grad, parents before children.

    Iterative depth-first search (a chain of any depth works); each node is expanded once.
    For tools that want the differentiable part of a graph in order; `backward` needs no sort.
    """
    order, visited = [], set()
    stack = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)  # all of its parents are in `order` already
        elif id(node) not in visited:
            visited.add(id(node))
            stack.append((node, True))
            for parent in node.parents:
                if parent.seq > node.seq:
                    parent = as_recorded(parent, node.seq)
                if parent.requires_grad and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def as_recorded(t, seq):
    """Tensor `t` as the node recorded at `seq` used it.

    A recorded in-place op (`h += 1` on an intermediate) gives h a new node, newer than the
    nodes that used h before; h's old self (node and data) lives on as the first input of that
    new node, a snapshot: nodes recorded earlier reach it through h, so that their gradients
    flow into h's old node with h's old values (a cycle through h otherwise).
    """
    while t.seq > seq:
        t = t.parents[0]
    return t


def _check_reads(node, parents, create_graph):
    """Raise if a VJP that will run reads an array changed in place since `node` was recorded.

    Only VJPs of parents that require grad run, and each reads what its op row declares
    (`ops.reads`): an in-place change to anything else leaves the gradients right.
    """
    seq, op = node.seq, node.op
    for i, parent in enumerate(parents):
        if parent.requires_grad:
            for j in op.read_by(i, len(parents), create_graph):
                read = node if j < 0 else parents[j]
                if read.version > seq:
                    raise _modified_error(node, read, None if j < 0 else j)


def _modified_error(node, tensor, index=None):
    """The error for a tensor changed in place after `node` was recorded from it."""
    role = "its output" if index is None else f"its input {index}"
    return RuntimeError(
        f"backward: {role} of shape {tensor.shape}, needed by {node.op.name} to compute "
        "gradients, was modified in place after the graph was built (by an optimizer step, an "
        "in-place operator such as +=, load_state_dict or mark_modified()); call backward() "
        "before changing it, or run the forward pass again"
    )


def backward(root, grad=None, retain_grads=False, create_graph=False):
    """Accumulate d(root)/d(leaf) into `.grad` of every leaf that requires grad.

    `retain_grads=True` also stores the gradient of every intermediate node in its `.grad`
    (PyTorch keeps only leaves' gradients unless asked; the graph renderer can show them).
    `create_graph=True` runs the VJPs on Tensors, recording the backward pass as a graph of
    its own: every `.grad` it sets is then a Tensor that can be differentiated again.
    """
    seeds = [(root, _seed(root, grad, create_graph, "backward"))]
    if not create_graph:  # (the usual case, without _propagate's call)
        return _walk(seeds, False, retain_grads, None)
    _propagate(seeds, create_graph, retain_grads=retain_grads)


def grad(outputs, inputs, grad_outputs=None, create_graph=False, allow_unused=False):
    """The gradients of `outputs` with respect to `inputs`, returned, not stored in `.grad`.

    PyTorch's signature: `outputs` and `inputs` are Tensors or sequences of them; the result is
    a tuple with one gradient per input (a Tensor of the input's shape). `grad_outputs` weighs
    each output (required for outputs with more than one element). With `create_graph=True`
    the gradients carry their own graph and can be differentiated again, to any order. An input
    the outputs do not depend on raises, unless `allow_unused=True` (its gradient is None).
    """
    outputs = [outputs] if is_tensor(outputs) else list(outputs)
    inputs = [inputs] if is_tensor(inputs) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif is_tensor(grad_outputs) or isinstance(grad_outputs, np.ndarray):
        grad_outputs = [grad_outputs]
    else:
        grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(f"grad: {len(outputs)} outputs but {len(grad_outputs)} grad_outputs")
    seeds = [(out, _seed(out, g, create_graph, "grad")) for out, g in zip(outputs, grad_outputs)]
    captured = {id(t): None for t in inputs}
    _propagate(seeds, create_graph, capture=captured)
    results = []
    for i, t in enumerate(inputs):
        g = captured[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {t.shape}) was not used to compute the "
                               "outputs (or does not require grad); pass allow_unused=True to "
                               "get None for it")
        if g is not None and not is_tensor(g):
            g = t._constant(np.array(g))  # a private copy: VJPs may hand out shared views
        results.append(g)
    return tuple(results)


def is_tensor(value):
    """True for a Tensor (the engine and the layers below tensor.py import no Tensor class)."""
    return hasattr(value, "requires_grad") and hasattr(value, "parents")


def _seed(root, grad, create_graph, where):
    """The gradient that starts the walk at `root`: ones, or `grad` checked against its shape."""
    if not root.requires_grad:
        raise RuntimeError(
            f"{where}: this tensor does not require grad and has no graph "
            "(create leaves with requires_grad=True, outside no_grad())"
        )
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(
                f"{where}: output is not a scalar (shape {root.shape}); "
                "pass grad= with the output's shape, or reduce it first (e.g. .sum())"
            )
        grad = np.array(1, root.data.dtype)  # (np.ones_like's Python wrapper costs much more)
        if root.data.ndim:
            grad = grad.reshape(root.data.shape)
    elif create_graph and is_tensor(grad):
        pass  # kept as it is: a second derivative may be taken with respect to it
    else:
        grad = np.array(getattr(grad, "data", grad), dtype=root.data.dtype)  # a private copy
    if grad.shape != root.data.shape:
        raise ValueError(f"{where}: grad has shape {grad.shape} but the output has shape "
                         f"{root.shape}")
    # The engine imports no Tensor class: it makes Tensors through the ones it is handed.
    return root._constant(grad) if create_graph and not is_tensor(grad) else grad


def _propagate(seeds, create_graph, retain_grads=False, capture=None):
    """Walk the graph from `seeds` [(tensor, its gradient)], calling each node's VJPs once.

    Leaves accumulate into `.grad` (and intermediates too, with `retain_grads` or
    `retain_grad()`), unless `capture` is given: a dict {id(tensor): None} that receives the
    gradients of those tensors instead, leaving every `.grad` alone (for `grad`).
    """
    if not create_graph:
        return _walk(seeds, False, retain_grads, capture)
    with enable_grad():  # the VJPs' own operations must be recorded
        return _walk(seeds, True, retain_grads, capture)


def _walk(seeds, create_graph, retain_grads, capture):
    # Newest first: a tensor is made after its parents, so when a node leaves the heap every
    # gradient contribution to it has arrived (its consumers are all newer and went before).
    # Entries are (-seq, id, node): the id keys `grads` and breaks ties between copies of one
    # tensor (copy.deepcopy keeps `seq`), which never depend on each other.
    watch = watcher
    grads, heap = {}, []
    for root, g in seeds:
        key = id(root)
        if key in grads:
            grads[key] = grads[key] + g
        else:
            grads[key] = g
            heappush(heap, (-root.seq, key, root))
    handed_out = set()  # ids of arrays a leaf owns as .grad: never share one between two leaves
    while heap:
        _, key, node = heappop(heap)
        g = grads.pop(key)
        op = node.op
        if capture is not None:
            if key in capture:
                capture[key] = g
            if op is None:
                continue
        elif op is None:
            if node.grad is not None:
                node.grad = node.grad + g
            else:
                if id(g) in handed_out or (not create_graph and (type(g) is not np.ndarray
                                                                 or g.base is not None)):
                    g = g * 1 if create_graph else np.array(g)  # a private, writable copy
                handed_out.add(id(g))
                node.grad = g
            continue
        elif retain_grads or node.retains_grad:
            node.grad = g if node.grad is None else node.grad + g  # accumulates, like a leaf's
        # A tensor changed in place after this node was recorded has a newer `version`: then
        # (rarely) find each parent as recorded, and refuse if a VJP to run reads a change.
        seq = node.seq
        parents = node.parents
        if len(parents) == 2:  # (unrolled for the usual one or two inputs: no loop, no list)
            a, b = parents
            inputs = (a.data, b.data)
            changed = node.version > seq or a.version > seq or b.version > seq
        elif len(parents) == 1:
            a = parents[0]
            inputs = (a.data,)
            changed = node.version > seq or a.version > seq
        else:
            changed = node.version > seq
            inputs = []
            for p in parents:  # a loop: a list comprehension is a function call before 3.12
                if p.version > seq:
                    changed = True
                inputs.append(p.data)
        if changed:
            parents = tuple(as_recorded(p, seq) for p in parents)
            inputs = [p.data for p in parents]
            _check_reads(node, parents, create_graph)
        if create_graph:  # VJPs on the Tensors themselves; saved arrays would be constants
            args, out = parents, node
            attrs = {k: v for k, v in node.attrs.items() if k not in op.saves}
        else:
            args, out, attrs = inputs, node.data, node.attrs
        i = 0
        for parent, vjp in zip(parents, op.vjps):
            if parent.requires_grad:
                gx = vjp(g, out, *args, **attrs) if attrs else vjp(g, out, *args)
                x = inputs[i]
                if gx.shape != x.shape or gx.dtype is not x.dtype:  # `is`: a cheap first test
                    gx = reduce_to(gx, x)
                if watch is not None:
                    watch.backward(node, i, parent, gx)
                key = id(parent)
                if key in grads:
                    # Out-of-place sum: a VJP may hand the same array to several parents.
                    grads[key] = grads[key] + gx
                else:
                    grads[key] = gx
                    heappush(heap, (-parent.seq, key, parent))
            i += 1
