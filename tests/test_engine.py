"""How gradients flow: reuse, diamonds, accumulation, grad mode, deep chains and backward's errors.

Values are checked against closed forms; the graph walk against the graph's structure.
"""

import copy
import threading

import numpy as np
import pytest

from autograd import Tensor, engine, gradcheck, is_grad_enabled, no_grad
from autograd.engine import reduce_to, toposort
from autograd.ops import Op, reads
from autograd.tensor import apply


def leaf(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------- graph shapes
def test_node_used_twice_gets_both_contributions():
    x = leaf([1.0, -2.0, 3.0])
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 * x.data)


def test_node_used_three_times_in_one_op_chain():
    x = leaf([0.5, 2.0])
    (x + x + x * x).sum().backward()
    np.testing.assert_allclose(x.grad, 2 + 2 * x.data)


def test_diamond():
    # x -> h -> (tanh(h), h**2) -> product: h's two paths must both reach x
    x = leaf([0.3, -0.7, 1.1])
    h = x * 3
    y = (h.tanh() * h**2).sum()
    y.backward()
    hv = 3 * x.data
    dy_dh = (1 - np.tanh(hv) ** 2) * hv**2 + np.tanh(hv) * 2 * hv
    np.testing.assert_allclose(x.grad, 3 * dy_dh)
    assert gradcheck(lambda x: (x * 3).tanh() * (x * 3) ** 2, leaf(x.data))


def test_wide_shared_subgraph():
    # many branches share one intermediate; its gradient is the sum over all of them
    x = leaf([2.0])
    h = x.exp()
    y = sum((h * k for k in range(1, 11)), start=Tensor(0.0))
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 55 * np.exp(2.0))


def test_toposort_visits_each_node_once_parents_first():
    x = leaf([1.0, 2.0])
    c = Tensor([3.0, 4.0])  # a constant: not part of the walk
    a = x * c
    b = x.exp()
    y = (a + b) * a
    order = toposort(y)
    assert len(order) == len({id(n) for n in order}) == 5
    assert all(n is not c for n in order)
    position = {id(n): i for i, n in enumerate(order)}
    for node in order:
        for parent in node.parents:
            if parent.requires_grad:
                assert position[id(parent)] < position[id(node)]
    assert order[-1] is y


def test_leaves_made_between_operations():
    # backward visits nodes newest first: a leaf made after an intermediate is visited before it
    x = leaf([1.0, 2.0])
    h = x * x
    w = leaf([3.0, -1.0])
    y = (h * w + x * w).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * x.data * w.data + w.data)
    np.testing.assert_allclose(w.grad, x.data**2 + x.data)


def test_copied_tensors_in_one_graph():
    # a deep copy keeps the creation number: both copies must still get their own gradient
    x = leaf([1.0, 2.0])
    x2 = copy.deepcopy(x)
    y = (x * x2 * 3).sum()
    y.backward()
    np.testing.assert_allclose(x.grad, 3 * x2.data)
    np.testing.assert_allclose(x2.grad, 3 * x.data)


def test_vjps_run_only_for_inputs_that_need_a_gradient():
    calls = []
    spy = Op("spy_multiply", np.multiply,
             lambda g, out, x, y: calls.append("x") or g * y, reads("y"),
             lambda g, out, x, y: calls.append("y") or g * x, reads("x"))
    x, data = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    apply(spy, x, data).sum().backward()
    assert calls == ["x"]
    np.testing.assert_allclose(x.grad, [3.0, 4.0])


def test_constants_and_intermediates_get_no_grad():
    x, c = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    h = x * c
    h.sum().backward()
    assert c.grad is None and h.grad is None
    assert not c.requires_grad and h.requires_grad and not h.is_leaf


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf([1.0, 2.0])
    h = (x * 2).retain_grad()
    y = (h * h).sum()
    y.backward()
    np.testing.assert_allclose(h.grad, 2 * h.data)
    y.backward()  # retained gradients accumulate like a leaf's
    np.testing.assert_allclose(h.grad, 4 * h.data)


def test_backward_retain_grads_keeps_every_intermediate():
    x = leaf([1.0, 2.0])
    a = x * 3
    b = a.exp()
    y = b.sum()
    y.backward(retain_grads=True)
    np.testing.assert_allclose(y.grad, 1.0)
    np.testing.assert_allclose(b.grad, [1.0, 1.0])
    np.testing.assert_allclose(a.grad, np.exp(a.data))
    np.testing.assert_allclose(x.grad, 3 * np.exp(a.data))


# ---------------------------------------------------------------- accumulation and zero_grad
def test_two_backward_calls_add():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad, 4 * x.data)


def test_two_graphs_accumulate_into_one_leaf():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    x.exp().sum().backward()
    np.testing.assert_allclose(x.grad, 3 + np.exp(x.data))


def test_zero_grad_starts_over():
    x = leaf([1.0, 2.0])
    y = (x * 5).sum()
    y.backward()
    x.zero_grad()
    assert x.grad is None
    y.backward()
    np.testing.assert_allclose(x.grad, [5.0, 5.0])


def test_leaf_as_root():
    x = leaf(4.0)
    x.backward()
    assert x.grad.shape == () and x.grad == 1.0


# ---------------------------------------------------------------- leaf gradients are private
ALIAS_CASES = {
    "add": lambda a, b: a + b,
    "broadcast add": lambda a, b: a[0] + b,  # a (2, 3)[0] -> (3,), b (2, 3)
    "subtract twice": lambda a, b: (a - b) + (b - a) * 2,
    "reshape views": lambda a, b: a.reshape(6) + b.reshape(-1),
    "transpose views": lambda a, b: a.T + b.T,
    "sum": lambda a, b: a.sum() + b.sum(),
    "mean": lambda a, b: a.mean(axis=0) + b.mean(axis=0),
    "indexing": lambda a, b: a[[0, 0]] + b[::-1],
}


@pytest.mark.parametrize("fn", ALIAS_CASES.values(), ids=ALIAS_CASES.keys())
def test_leaf_grads_are_not_aliased_and_writable(fn):
    rng = np.random.default_rng(0)
    a, b = leaf(rng.normal(size=(2, 3))), leaf(rng.normal(size=(2, 3)))
    out = fn(a, b)
    out.backward(np.ones(out.shape))
    for t in (a, b):
        assert type(t.grad) is np.ndarray and t.grad.flags.writeable
        assert t.grad.shape == t.shape and t.grad.dtype == t.dtype
        assert not np.shares_memory(t.grad, t.data)
    assert a.grad is not b.grad and not np.shares_memory(a.grad, b.grad)
    before = b.grad.copy()
    a.grad *= 0  # an optimizer may update in place; b must not notice
    np.testing.assert_array_equal(b.grad, before)


def test_zero_dim_leaf_broadcast_into_a_vector_gets_an_ndarray_grad():
    w = leaf(2.0)
    (w * leaf([1.0, 2.0, 3.0])).sum().backward()
    assert type(w.grad) is np.ndarray and w.grad.shape == () and w.grad.flags.writeable
    assert w.grad == 6.0


def test_explicit_grad_is_copied():
    x = leaf([1.0, 2.0])
    g = np.array([1.0, 1.0])
    (x + 0).backward(g)
    assert not np.shares_memory(x.grad, g)


def test_reduce_to_undoes_broadcasting():
    g = np.ones((4, 2, 3))
    np.testing.assert_array_equal(reduce_to(g, np.zeros((2, 1))), np.full((2, 1), 12.0))
    np.testing.assert_array_equal(reduce_to(g, np.zeros(3)), np.full(3, 8.0))
    assert reduce_to(g, np.zeros((1, 1), np.float32)).dtype == np.float32
    assert reduce_to(g, np.zeros(())) == 24.0


# ---------------------------------------------------------------- explicit grad and errors
def test_backward_with_explicit_grad():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([[1.0, -1.0], [0.5, 2.0]])
    (x**2).backward(v)
    np.testing.assert_allclose(x.grad, 2 * x.data * v)
    x.zero_grad()
    (x * 3).backward(Tensor(v))  # a Tensor is accepted as the seed gradient too
    np.testing.assert_allclose(x.grad, 3 * v)


def test_explicit_grad_with_the_wrong_shape():
    y = leaf([1.0, 2.0, 3.0]) * 2
    with pytest.raises(ValueError, match=r"grad has shape \(2,\) but the output has shape \(3,\)"):
        y.backward(np.ones(2))


def test_backward_on_a_non_scalar_needs_grad():
    y = leaf(np.ones((2, 3))) * 2
    with pytest.raises(RuntimeError, match=r"not a scalar \(shape \(2, 3\)\)"):
        y.backward()


def test_backward_on_a_tensor_without_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2).backward()
    with no_grad():
        y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


# ---------------------------------------------------------------- grad mode
def test_no_grad_context_records_nothing():
    x = leaf([1.0, 2.0])
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2
    assert is_grad_enabled()
    assert not y.requires_grad and y.op is None and y.parents == ()
    np.testing.assert_allclose(y.data, [2.0, 4.0])
    assert (x * 2).requires_grad  # recording resumes after the block


def test_no_grad_nests_and_survives_exceptions():
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()  # the inner block restores "off", not "on"
    assert is_grad_enabled()
    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()


def test_no_grad_as_decorator():
    x = leaf([1.0, 2.0])

    @no_grad()
    def predict(t):
        assert not is_grad_enabled()
        return t * 2

    y = predict(x)
    assert not y.requires_grad and y.op is None
    assert is_grad_enabled()
    with no_grad():
        predict(x)
        assert not is_grad_enabled()  # the decorated call restores the mode it found


def test_no_grad_is_per_thread():
    x = leaf([1.0])
    inside, checked = threading.Event(), threading.Event()
    seen = {}

    def worker():
        with no_grad():
            inside.set()
            checked.wait(timeout=10)
            seen["worker records"] = (x * 2).requires_grad

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(timeout=10)
    seen["main enabled"] = is_grad_enabled()
    seen["main records"] = (x * 2).requires_grad
    checked.set()
    thread.join(timeout=10)
    assert seen == {"main enabled": True, "main records": True, "worker records": False}


def test_grad_mode_off_in_main_thread_does_not_reach_a_new_thread():
    seen = []
    with no_grad():
        thread = threading.Thread(target=lambda: seen.append(is_grad_enabled()))
        thread.start()
        thread.join(timeout=10)
    assert seen == [True]


def test_detach_stops_the_gradient_and_shares_data():
    x = leaf([1.0, 2.0])
    d = x.detach()
    assert d.is_leaf and not d.requires_grad and d.grad is None
    assert np.shares_memory(d.data, x.data)
    (x * d).sum().backward()  # d is a constant: the gradient is x, not 2x
    np.testing.assert_allclose(x.grad, x.data)
    assert d.grad is None


# ---------------------------------------------------------------- deep graphs
def test_chain_of_100000_ops():
    # y_{k+1} = c * y_k + 1, 50,000 times (100,000 ops): y_n = c^n x + (c^n - 1) / (c - 1)
    n, c = 50_000, 1.00001
    x = leaf(0.5)
    y = x
    for _ in range(n):
        y = y * c + 1.0
    y.backward()
    np.testing.assert_allclose(y.item(), c**n * 0.5 + (c**n - 1) / (c - 1), rtol=1e-9)
    np.testing.assert_allclose(x.grad, c**n, rtol=1e-9)
    assert len(toposort(y)) == 2 * n + 1


# ---------------------------------------------------------------- changed in place after use
MODIFIED = r"modified in place after the graph was built"


def test_an_update_between_forward_and_backward_is_refused():
    # forward, then an optimizer-style step, then backward used to run on the new weights
    w, x = leaf([[1.0, 2.0], [3.0, 4.0]]), leaf([[1.0, -1.0]])
    loss = (x @ w).tanh().sum()
    with no_grad():
        w -= 0.1  # the in-place operator marks w modified; x's gradient g @ w.T reads it
    with pytest.raises(RuntimeError, match=r"backward: its input 1 of shape \(2, 2\), needed by "
                                           r"matmul to compute gradients, was " + MODIFIED):
        loss.backward()


def test_an_update_that_no_gradient_reads_is_no_reason_to_refuse():
    # w's gradient x.T @ g reads x, never w (and tanh's reads its own output): still right
    w, x = leaf([[1.0, 2.0], [3.0, 4.0]]), Tensor([[1.0, -1.0]])
    loss = (x @ w).tanh().sum()
    expected = x.data.T @ (1 - np.tanh(x.data @ w.data) ** 2)
    with no_grad():
        w -= 0.1
    loss.backward()
    np.testing.assert_allclose(w.grad, expected, rtol=1e-15)


def test_mark_modified_guards_writes_into_data():
    w = leaf([1.0, 2.0])
    loss = (w * w).sum()
    w.data[...] = 0.0  # a direct write: invisible until the writer says so
    w.mark_modified()
    with pytest.raises(RuntimeError, match=r"multiply .*" + MODIFIED):
        loss.backward()
    w.grad = None
    (w * w).sum().backward()  # a graph recorded after the change is fine
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])


def test_a_constant_changed_after_use_is_refused_too():
    w, c = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    loss = (w * c).sum()
    c += 1
    with pytest.raises(RuntimeError, match=r"its input 1 of shape \(2,\), needed by multiply"):
        loss.backward()


def test_a_changed_input_whose_gradient_is_not_computed_is_no_reason_to_refuse():
    # w changed, but only w's own gradient runs (c needs none), and it reads c alone
    w, c = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    loss = (w * c).sum()
    with no_grad():
        w *= 10
    loss.backward()
    np.testing.assert_array_equal(w.grad, [3.0, 4.0])


def test_saved_arrays_spare_backward_but_create_graph_reads_the_input():
    # cross_entropy's logits gradient reads the probabilities it saved, never the logits;
    # create_graph=True drops saved arrays (constants to a second derivative) and recomputes
    # them from the logits, so that path must refuse
    x, t = leaf([[0.5, -1.0, 2.0]]), Tensor([[0.0, 1.0, 0.0]])
    probs = np.exp(x.data) / np.exp(x.data).sum()
    logits = x * 1.0
    loss = logits.cross_entropy(t)
    with no_grad():
        logits *= 2.0
    loss.backward()
    np.testing.assert_allclose(x.grad, probs - t.data, rtol=1e-14)
    logits = x * 1.0
    loss = logits.cross_entropy(t)
    with no_grad():
        logits *= 2.0
    with pytest.raises(RuntimeError, match=r"its input 0 of shape \(1, 3\), needed by "
                                           r"cross_entropy"):
        engine.grad(loss, x, create_graph=True)


def test_an_output_changed_in_place_under_no_grad_is_refused():
    # exp's gradient reads its own output: changing it silently would give exp(x) + 1
    x = leaf([0.0, 1.0])
    y = x.exp()
    with no_grad():
        y += 1
    with pytest.raises(RuntimeError, match=r"its output of shape \(2,\), needed by exp"):
        y.sum().backward()


def test_nodes_recorded_before_a_recorded_in_place_op_use_the_old_value():
    # h += 1 gives h a new node over a snapshot of its old self: nodes recorded before it reach
    # the snapshot (old node, old values), never h's new node (a cycle h -> before -> h)
    x = leaf([1.0, 2.0])
    h = x * 3
    before = h * h        # used h's old value
    h += 1                # recorded: h is now (3x + 1)
    after = (h * h).sum()  # recorded from the new value
    after.backward()
    np.testing.assert_array_equal(x.grad, 2 * (3 * x.data + 1) * 3)
    x.grad = None
    before.sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * (3 * x.data) * 3)


def test_a_change_before_a_recorded_in_place_op_still_refuses():
    x = leaf([1.0, 2.0])
    h = x * 3
    before = h * h
    with no_grad():
        h *= 2            # not recorded: the values `before` read are gone
    h += x                # recorded: its snapshot holds the already changed values
    with pytest.raises(RuntimeError, match=r"its input 1 of shape \(2,\), needed by multiply"):
        before.sum().backward()
    h.sum().backward()  # h = 3x (doubled unrecorded) + x: x's gradient through 3x reads only 3
    np.testing.assert_array_equal(x.grad, [4.0, 4.0])


# ---------------------------------------------------------------- the watcher hook
class Recorder(engine.Watcher):
    def __init__(self):
        self.forwards, self.backwards = [], []

    def forward(self, op, inputs, attrs, out):
        self.forwards.append((op.name, tuple(t.shape for t in inputs), out.requires_grad))

    def backward(self, node, index, parent, grad):
        self.backwards.append((node.op.name, index, parent.shape, grad.copy()))


def test_a_watcher_sees_every_operation_and_every_vjp_in_the_engines_order():
    w, x = leaf([[1.0, 2.0], [3.0, 4.0]]), Tensor([[1.0, -1.0]])
    recorder = Recorder()
    with engine.watching(recorder) as installed:
        assert installed is recorder and engine.watcher is recorder
        h = (x @ w).tanh()
        c = Tensor([2.0]) * 3  # a constant: reported too, not recorded
        (h * c).sum().backward()
    assert engine.watcher is None
    assert recorder.forwards == [("matmul", ((1, 2), (2, 2)), True), ("tanh", ((1, 2),), True),
                                 ("multiply", ((1,), ()), False),
                                 ("multiply", ((1, 2), (1,)), True), ("sum", ((1, 2),), True)]
    assert [(name, i, shape) for name, i, shape, _ in recorder.backwards] == [
        ("sum", 0, (1, 2)), ("multiply", 0, (1, 2)), ("tanh", 0, (1, 2)), ("matmul", 1, (2, 2))]
    np.testing.assert_allclose(recorder.backwards[-1][3], w.grad)
