"""Tests for autograd/explain.py: explain_backward's rows come in the engine's order, carry the
right gradient norms (closed forms, and backward's own .grad), leave .grad alone unless asked,
and print as a text table and an HTML one.
"""

from collections import Counter

import numpy as np
import pytest

import nn
from autograd import Tensor, concatenate, detect_anomaly, engine, explain_backward
from autograd.anomaly import NonFiniteError


def norm(a):
    return float(np.linalg.norm(np.ravel(a)))


class Recorder(engine.Watcher):
    """The nodes backward visits, in its order."""

    def __init__(self):
        self.nodes = []

    def backward(self, node, index, parent, grad):
        if not self.nodes or self.nodes[-1] is not node:
            self.nodes.append(node)


def small():
    """loss = sum(tanh(x @ w + b) ** 2) with x constant; its gradients in closed form."""
    x = Tensor([[1.0, 2.0], [-1.0, 0.5]])
    w = Tensor([[0.3, -0.2], [0.1, 0.4]], requires_grad=True, name="w")
    b = Tensor([0.1, -0.1], requires_grad=True, name="b")
    loss = ((x @ w + b).tanh() ** 2).sum()
    return loss, x, w, b


def test_rows_follow_the_chain_rule_with_closed_form_norms():
    loss, x, w, b = small()
    z = x.data @ w.data + b.data
    t = np.tanh(z)
    d_t = 2 * t                  # sum(t ** 2) -> t
    d_z = d_t * (1 - t**2)       # tanh -> z
    rows = explain_backward(loss).steps
    assert [r.op for r in rows] == ["sum", "power", "tanh", "add", "matmul"]
    assert [r.number for r in rows] == [1, 2, 3, 4, 5]
    assert [r.shape for r in rows] == [(), (2, 2), (2, 2), (2, 2), (2, 2)]
    expected_g = [1.0, norm(np.ones((2, 2))), norm(d_t), norm(d_z), norm(d_z)]
    assert [r.grad_norm for r in rows] == pytest.approx(expected_g, rel=1e-12)

    power, add, matmul = rows[1], rows[3], rows[4]
    assert [(f.label, f.shape) for f in power.inputs] == [("#3 tanh", (2, 2)), ("constant 2", ())]
    assert power.inputs[0].norm == pytest.approx(norm(d_t), rel=1e-12)
    assert power.inputs[1].norm is None  # a constant: backward runs no VJP for it
    assert power.inputs[0].rule == "dx = g * y * x^(y-1) (0 where y = 0)"
    assert [f.label for f in add.inputs] == ["#5 matmul", "b"]
    assert add.inputs[1].norm == pytest.approx(norm(d_z.sum(axis=0)), rel=1e-12)  # summed to (2,)
    assert [f.label for f in matmul.inputs] == ["constant", "w"]
    assert matmul.inputs[1].rule == "dy = x.T @ g"
    assert matmul.inputs[1].norm == pytest.approx(norm(x.data.T @ d_z), rel=1e-12)
    leaves = explain_backward(loss).leaves
    assert [(f.label, f.shape) for f in leaves] == [("w", (2, 2)), ("b", (2,))]


def test_rows_come_in_the_order_the_engine_visits_the_nodes():
    x = Tensor([0.3, -1.2], requires_grad=True)
    y = x * 2.0
    loss = (y.exp() + y.sin()).sum()  # a diamond: newest first, so sin before exp
    assert [r.op for r in explain_backward(loss)] == ["sum", "add", "sin", "exp", "multiply"]
    # The same order a watcher sees during an ordinary backward, on a network too.
    X = np.random.default_rng(0).standard_normal((5, 3))
    model = nn.MLP([3, 4, 4, 2], activation="tanh", rng=np.random.default_rng(1))
    for root in (loss, nn.functional.cross_entropy(model(X), np.array([0, 1, 1, 0, 1]))):
        recorder = Recorder()
        with engine.watching(recorder):
            root.backward()
        assert [id(r.node) for r in explain_backward(root)] == [id(n) for n in recorder.nodes]
        assert len(recorder.nodes) >= 5


def test_norms_equal_those_of_backwards_own_gradients():
    rng = np.random.default_rng(2)
    model = nn.MLP([3, 5, 2], activation="relu", output_activation="sigmoid", rng=rng)
    X, Y = rng.standard_normal((6, 3)), rng.random((6, 2))
    loss = nn.functional.mse_loss(model(X), Y) + 0.1 * model.layers[0].weight.abs().sum()
    table = explain_backward(loss, params=model)
    loss.backward(retain_grads=True)
    uses = Counter(id(f.tensor) for row in table for f in row.inputs)
    checked = 0
    for row in table:
        assert row.grad_norm == pytest.approx(norm(row.node.grad), rel=1e-12), row.op
        for flow in row.inputs:
            if flow.tensor.requires_grad and uses[id(flow.tensor)] == 1:
                # A tensor used once receives exactly what this row sends.
                assert flow.norm == pytest.approx(norm(flow.tensor.grad), rel=1e-12)
                checked += 1
    assert checked >= 8
    names = dict(model.named_parameters())
    assert {f.label for f in table.leaves} == set(names)
    for flow in table.leaves:
        assert flow.norm == pytest.approx(norm(names[flow.label].grad), rel=1e-12)
    # layers.0.weight is used twice (the layer and the penalty): two rows send to it.
    senders = [f for row in table for f in row.inputs if f.label == "layers.0.weight"]
    assert len(senders) == 2 and all(f.norm > 0 for f in senders)


def test_nothing_is_left_in_grad_unless_asked():
    loss, x, w, b = small()
    b.grad = np.array([5.0, 5.0])
    hidden = loss.parents[0].retain_grad()
    explain_backward(loss)
    assert w.grad is None and hidden.grad is None
    np.testing.assert_array_equal(b.grad, [5.0, 5.0])

    table = explain_backward(loss, accumulate=True)  # as loss.backward() would
    reference, _, ref_w, ref_b = small()
    reference.backward()
    np.testing.assert_allclose(w.grad, ref_w.grad, rtol=1e-12)
    np.testing.assert_allclose(b.grad, 5.0 + ref_b.grad, rtol=1e-12)  # accumulated
    assert hidden.grad is not None  # retain_grad() is honoured, as in backward
    assert table.leaves[0].norm == pytest.approx(norm(ref_w.grad), rel=1e-12)


def test_a_root_with_several_elements_needs_grad_and_uses_it():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = x * x
    with pytest.raises(RuntimeError, match=r"explain_backward: the root is not a scalar "
                                           r"\(shape \(3,\)\); pass grad="):
        explain_backward(y)
    with pytest.raises(ValueError, match=r"grad has shape \(2,\) but the output has shape"):
        explain_backward(y, grad=np.ones(2))
    seed = np.array([1.0, 0.0, 2.0])
    table = explain_backward(y, grad=seed)
    assert table[0].grad_norm == pytest.approx(norm(seed))
    # d(x*x)/dx sends g * x to each of its two inputs (both x).
    assert [f.norm for f in table[0].inputs] == pytest.approx([norm(seed * x.data)] * 2)
    assert table.leaves[0].norm == pytest.approx(norm(2 * seed * x.data))
    assert x.grad is None


def test_a_root_without_a_graph_is_refused():
    with pytest.raises(RuntimeError, match="explain_backward: this tensor does not require grad"):
        explain_backward(Tensor([1.0]).sum())


def test_a_leaf_root_has_no_rows():
    w = Tensor([1.0, 2.0], requires_grad=True)
    table = explain_backward(w, grad=np.ones(2))
    assert len(table) == 0 and table.leaves == []


def test_variadic_ops_and_float32():
    a = Tensor(np.ones((2, 2), np.float32), requires_grad=True, name="a")
    c = Tensor(np.full((1, 2), 3.0, np.float32), requires_grad=True, name="c")
    loss = (concatenate([a, c, a]) * 2).sum()
    row = explain_backward(loss)[2]
    assert row.op == "concatenate axis=0"
    assert [f.label for f in row.inputs] == ["a", "c", "a"]
    assert {f.rule for f in row.inputs} == {"dx_i = g's piece i along axis"}
    assert [f.norm for f in row.inputs] == pytest.approx([4.0, norm([2.0, 2.0]), 4.0])


def test_printed_as_a_text_table_and_as_html():
    loss, x, w, b = small()
    b.name = "<b>"  # escaped in HTML
    table = explain_backward(loss)
    text = str(table)
    assert repr(table) == text
    lines = text.splitlines()
    assert lines[0] == "explain_backward: 5 nodes, in the order backward visits them"
    assert lines[2].split() == ["#", "op", "shape", "|g|", "input", "shape", "rule", "|sent|"]
    assert lines[3].split()[:5] == ["1", "sum", "scalar", "1", "#2"]
    power = lines[4:6]  # two inputs: the node's own cells on the first line only
    assert power[0].split()[:4] == ["2", "power", "(2,", "2)"]
    assert power[1].split() == ["constant", "2", "()", "not", "needed"] or \
        power[1].split() == ["constant", "2", "scalar", "not", "needed"]
    assert "gradients reaching the leaves (what backward() adds to their .grad):" in text
    assert f"w (2, 2): |grad| {table.leaves[0].norm:.4g}" in text

    page = table._repr_html_()
    assert page.count("<tr>") == 1 + sum(len(r.inputs) for r in table)
    assert '<td rowspan="2">power</td>' in page and "&lt;b&gt;" in page and "<b>" not in page


def test_inside_detect_anomaly_the_anomaly_is_still_caught():
    x = Tensor([0.0, 4.0], requires_grad=True)
    loss = x.sqrt().sum()
    with detect_anomaly(), pytest.raises(NonFiniteError, match="backward of sqrt"), \
            np.errstate(divide="ignore"):
        explain_backward(loss)
    assert engine.watcher is None and x.grad is None
