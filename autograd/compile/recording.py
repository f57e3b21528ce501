"""Recording a step: run it once eagerly while the engine's watcher keeps every operation,
every gradient, and what made each array used inside it.
"""

from .. import engine
from ..tensor import Tensor


class _Unreplayable(Exception):
    """What in a recorded step a plan cannot replay (the message says what and why)."""


# ---------------------------------------------------------------- recording a step
class _Recorder(engine.Watcher):
    """Keeps every operation `apply` runs and every gradient `backward` computes, in order."""

    def __init__(self):
        # (op, inputs, attrs, out, versions and seqs of the inputs when used, out's seq then):
        # a recorded in-place operator later moves a tensor to a newer node and seq.
        self.forwards = []
        self.backwards = []  # (node, index, parent, reduced gradient)
        self.leaf_grads = {}  # id(leaf that requires grad) -> its .grad before the step
        self.origins = {}  # id(array) -> (array, func, args, versions, its values then)
        self.reads = []  # (tensor, version): Python numbers read from tensors
        self.changed = []  # tensors changed in place outside any recorded op

    def forward(self, op, inputs, attrs, out):
        self.forwards.append((op, inputs, attrs, out, [t.version for t in inputs],
                              [t.seq for t in inputs], out.seq))
        for t in inputs:
            if t.requires_grad and t.op is None and id(t) not in self.leaf_grads:
                self.leaf_grads[id(t)] = t.grad

    def backward(self, node, index, parent, grad):
        self.backwards.append((node, index, parent, grad))

    def made(self, array, func, *args):
        versions = [a.version if isinstance(a, Tensor) else None for a in args]
        # A copy: numpy code may write into the array later, which a replay would not do.
        self.origins[id(array)] = (array, func, args, versions, array.copy())

    def read(self, tensor):
        self.reads.append((tensor, tensor.version))

    def modified(self, tensor):
        self.changed.append(tensor)


class _Trace:
    """One eager step run under a _Recorder: what it did and what it left in `.grad`."""

    recorder = _Recorder  # what watches the step (a subclass may record differently)

    def __init__(self, fn, inputs, arrays, params):
        self.arrays = arrays
        self.start = Tensor(0.0).seq  # tensors made from here on were made inside the step
        rec = self.rec = self.recorder()
        for p in params:
            p.grad = None
        with engine.watching(rec):
            result = fn(*inputs)
            loss, self.extras = (result[0], result[1:]) if isinstance(result, tuple) else (
                result, ())
            self.backward_in_forward = len(rec.backwards)
            loss.backward()
        self.loss = loss
        self.value = loss.item()
        self.grads = [p.grad for p in params]
        self.leaf_grads = rec.leaf_grads
        self.outputs = [t.data if isinstance(t, Tensor) else t for t in self.extras]

    def release(self):
        """Drop the recorded step's graph and gradients, keeping what a plan's check compares
        (the loss, the .grad of `params`, the outputs): its arrays then go before a plan's
        buffers are made, which hold as much again."""
        self.rec = self.loss = self.extras = None
