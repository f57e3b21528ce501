"""Every primitive a function runs, in order: the engine's watcher hook, for tools that rebuild a
computation elsewhere (nn.export builds PyTorch and ONNX graphs from it).

`record(fn, *args)` runs `fn` without recording a graph for gradients and returns its result and
the list of `Event`s, one per `apply`: the op, its input and output Tensors (kept alive, so that
their ids name them for the whole list), the versions they had then (an in-place change shows as
a later version), and the attributes the op was given (arrays it saved for its VJPs left out).
The list's `modified` holds the tensors changed in place outside any op (an in-place operator
under no_grad, such as a running statistic's update), which a rebuilt graph would not repeat.
"""

from dataclasses import dataclass

from .engine import Watcher, no_grad, watching


@dataclass
class Event:
    """One primitive applied: `out = op(*inputs, **attrs)`, with the versions seen then."""

    op: object
    inputs: tuple
    versions: tuple
    attrs: dict
    out: object


class Events(list):
    """The recorded Events, in order, and `modified`: tensors changed in place outside any op."""

    modified: list


class _Recorder(Watcher):
    def __init__(self):
        self.events = Events()
        self.events.modified = []

    def modified(self, tensor):
        self.events.modified.append(tensor)

    def forward(self, op, inputs, attrs, out):
        attrs = {k: v for k, v in attrs.items() if k not in op.saves}
        self.events.append(Event(op, tuple(inputs), tuple(t.version for t in inputs), attrs, out))


def record(fn, *args, **kwargs):
    """`(fn(*args, **kwargs), events)`: the result and every primitive it ran, in order."""
    recorder = _Recorder()
    with no_grad(), watching(recorder):
        result = fn(*args, **kwargs)
    return result, recorder.events
