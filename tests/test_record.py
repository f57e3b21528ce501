"""autograd.record: every primitive a function runs, in order, with the versions it saw."""

import numpy as np

import autograd
from autograd import Tensor
from autograd.record import record


def test_events_in_order_with_inputs_and_attrs():
    x = Tensor(np.array([[1.0, -2.0]]), requires_grad=True)
    out, events = record(lambda t: (t * 2).sum(axis=1), x)
    assert [e.op.name for e in events] == ["multiply", "sum"]
    assert events[0].inputs[0] is x and events[1].inputs[0] is events[0].out
    assert events[1].attrs == {"axis": 1, "keepdims": False}
    assert events[1].out is out and np.array_equal(out.data, [-2.0])
    assert not out.requires_grad and x.grad is None  # nothing recorded for gradients
    assert autograd.is_grad_enabled()


def test_saved_arrays_are_left_out_and_versions_show_in_place_changes():
    logits = Tensor(np.array([[1.0, 2.0, 3.0]]))
    _, events = record(lambda t: t.cross_entropy(np.array([[0.0, 0.0, 1.0]])), logits)
    assert set(events[0].attrs) == {"reduction"}  # probs and log_probs are the op's own

    def bump(t):
        h = t * 1
        y = h + 0
        h += 1
        return y + h

    _, events = record(bump, Tensor(np.ones(2), requires_grad=True))
    h = events[0].out
    assert events[1].versions[0] != h.version  # h was used before it changed in place
