"""Tests for autograd/anomaly.py: detect_anomaly stops at the op where a NaN or inf is born, in
forward or backward, naming the op, the shapes and this file's line; outside the with-block
nothing changes.
"""

import inspect

import numpy as np
import pytest
from dot_source import source_graph

import nn
from autograd import NonFiniteError, Tensor, detect_anomaly, engine, no_grad
from autograd.graph import FIRST_BAD_VALUE


def quiet():
    """numpy warns before detect_anomaly raises: the tests silence it."""
    return np.errstate(divide="ignore", over="ignore", invalid="ignore")


def next_line():
    """The number of the caller's next line: where the statement under test is."""
    return inspect.currentframe().f_back.f_lineno + 1


def red_nodes(dot):
    nodes, _ = source_graph(dot.source)
    return {name: node["texts"] for name, node in nodes.items()
            if FIRST_BAD_VALUE["fillcolor"] in node["fills"]}


def test_forward_nan_names_log_and_this_line():
    x = Tensor([1.0, 0.0, 2.0], requires_grad=True)
    with quiet(), pytest.raises(NonFiniteError) as info, detect_anomaly():
        h = x * 3.0
        line = next_line()
        h.log()
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert err.phase == "forward" and err.op == "log"
    assert err.location.filename == __file__ and err.location.lineno == line
    assert err.location.code == "h.log()"
    assert str(err).startswith("detect_anomaly: log made a non-finite result in the forward "
                               "pass: shape (3,), 1 -inf, from finite inputs (shapes (3,)): it "
                               "was born here\n")
    assert f"at {__file__}:{line}: h.log()" in str(err)
    # The graph, one call away: the log node is red, with its note; its input is not.
    red = red_nodes(err.graph())
    assert set(red) == {"t3", "o3"}  # x, 3, x * 3, log
    assert red["t3"][-1] == "!! non-finite result born here (1 -inf)"
    assert red["o3"] == ["log"]


def test_backward_inf_names_sqrt_and_the_line_that_made_it():
    x = Tensor([0.0, 4.0], requires_grad=True, name="x")
    with quiet(), pytest.raises(NonFiniteError) as info, detect_anomaly():
        line = next_line()
        root = x.sqrt()
        loss = (root * 2.0).sum()
        loss.backward()
    err = info.value
    assert err.phase == "backward" and err.op == "sqrt" and err.node is root
    assert err.location.lineno == line and err.location.code == "root = x.sqrt()"
    message = str(err)
    assert message.startswith("detect_anomaly: the backward of sqrt (inputs (2,), result (2,)) "
                              "sent 1 +inf to its input 0 (shape (2,)); the gradient arriving "
                              "at its result is finite: it was born here\n")
    assert "  its rule: dx = g / (2 * out)\n" in message
    assert f"the node was made at {__file__}:{line}: root = x.sqrt()" in message
    assert x.grad is None  # stopped before anything reached the leaf
    assert err.root is loss  # drawn from backward's starting tensor
    red = red_nodes(err.graph())
    assert set(red) == {"t1", "o1"}
    assert red["t1"][-1] == "!! its backward sends 1 +inf to input 0: dx = g / (2 * out)"
    assert "value [0, 2]" in red["t1"]  # the 0 that divides


def test_the_line_is_the_users_even_when_nn_made_the_node():
    layer = nn.Linear(2, 1, rng=np.random.default_rng(0))
    with no_grad():
        layer.weight.data[:] = 1e308
    with quiet(), pytest.raises(NonFiniteError, match="linear made a non-finite result") as info, \
            detect_anomaly():
        line = next_line()
        layer(np.array([[3.0, 4.0]]))
    assert info.value.location.filename == __file__ and info.value.location.lineno == line


def test_values_that_come_in_non_finite_are_named_as_such():
    data = Tensor([np.nan, 1.0])
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NonFiniteError) as info, detect_anomaly():
        (w * data).sum()
    message = str(info.value)
    assert "multiply made a non-finite result in the forward pass: shape (2,), 1 nan, because "\
           "its input 1 (shape (2,), a leaf: data or a parameter) already holds 1 nan: no "\
           "operation inside detect_anomaly made it" in message
    # The picture marks the input where the nan was first seen, and the op that took it in.
    red = red_nodes(info.value.graph())
    assert "!! first non-finite value here" in red["t1"]
    assert red["t2"][-1] == "!! input 1 came in with 1 nan"
    # A non-finite input that gives a finite result is not reported.
    with detect_anomaly():
        zero = Tensor([-np.inf, 0.0], requires_grad=True).exp()
    np.testing.assert_array_equal(zero.data, [0.0, 1.0])


def test_ops_that_record_no_graph_are_checked_and_drawn_with_their_inputs():
    x = Tensor([1.0, -1.0])
    with quiet(), pytest.raises(NonFiniteError, match="sqrt made a non-finite result") as info, \
            detect_anomaly(), no_grad():
        x.sqrt()
    err = info.value
    assert err.node.op.name == "sqrt" and err.node.parents == (x,)
    red = red_nodes(err.graph())
    assert set(red) == {"t1", "o1"} and "value has 1 nan" in red["t1"]


def test_a_float32_overflow_is_born_in_astype():
    x = Tensor([1e39, 1.0], requires_grad=True)
    with quiet(), pytest.raises(NonFiniteError, match=r"astype made a non-finite result in the "
                                                    r"forward pass: shape \(2,\), 1 \+inf"), \
            detect_anomaly():
        x.astype(np.float32)


def test_an_overflowing_sum_of_finite_gradients_is_named():
    x = Tensor([1e-300], requires_grad=True)
    with quiet(), pytest.raises(NonFiniteError) as info, detect_anomaly():
        y = x * 1.0
        loss = (y * 1e308 + y * 1e308).sum()  # 2e8, but y's two consumers each send it 1e308
        loss.backward()
    assert info.value.op == "multiply" and info.value.node is y
    assert "the gradient arriving at its result has 1 +inf: the sum of the finite gradients "\
           "its consumers sent overflowed" in str(info.value)


def test_a_non_finite_seed_is_mentioned():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(NonFiniteError, match="backward started at this node: unless the grad= "
                                             "passed to backward"), detect_anomaly():
        (x * 2.0).backward(grad=np.array([np.nan, 1.0]))


def test_a_graph_made_outside_the_block_has_no_line_but_its_values_are_checked():
    x = Tensor([0.0, -1.0], requires_grad=True)
    with quiet():
        born_outside = x.sqrt().sum()  # sqrt(-1) = nan, unnoticed here
        with pytest.raises(NonFiniteError) as info, detect_anomaly():
            born_outside.backward()
    err = info.value
    assert err.location is None and err.op == "sqrt"
    assert "the node was made before detect_anomaly was entered" in str(err)
    assert "its forward values were already non-finite (1 nan in a tensor of shape (2,)): the "\
           "forward pass ran outside detect_anomaly" in str(err)


def test_finite_computations_are_unchanged_and_nothing_stays_installed():
    def step(x, w):
        loss = ((x @ w).tanh() ** 2).mean()
        loss.backward()
        return loss.data, w.grad

    x = np.random.default_rng(0).standard_normal((4, 3))
    w1, w2 = (Tensor(np.linspace(-1, 1, 6).reshape(3, 2), requires_grad=True) for _ in range(2))
    assert engine.watcher is None
    with detect_anomaly():
        inside = step(x, w1)
    outside = step(x, w2)
    assert engine.watcher is None
    np.testing.assert_array_equal(inside[0], outside[0])
    np.testing.assert_array_equal(inside[1], outside[1])
    # After the block (left normally or by the error), non-finite values pass as before.
    with quiet():
        with pytest.raises(NonFiniteError), detect_anomaly():
            Tensor([0.0], requires_grad=True).log()
        assert engine.watcher is None
        y = Tensor([0.0], requires_grad=True).log()
        y.sum().backward()  # -inf forward, inf backward: no error outside
    assert y.data[0] == -np.inf


def test_as_a_decorator_and_nested_inside_another_watcher():
    class Counter(engine.Watcher):
        forwards = backwards = 0

        def forward(self, op, inputs, attrs, out):
            self.forwards += 1

        def backward(self, node, index, parent, grad):
            self.backwards += 1

    @detect_anomaly()
    def broken(x):
        return x.log()

    counter = Counter()
    x = Tensor([2.0, 3.0], requires_grad=True)
    with engine.watching(counter):
        (x * x).sum().backward()
        before = counter.forwards, counter.backwards
        with detect_anomaly():  # the outer watcher keeps receiving every call
            (x * x).sum().backward()
        assert (counter.forwards, counter.backwards) == (2 * before[0], 2 * before[1])
        assert engine.watcher is counter
        with quiet(), pytest.raises(NonFiniteError, match="log made a non-finite result"):
            broken(Tensor([0.0]))
        assert engine.watcher is counter
    assert engine.watcher is None


def test_with_several_roots_the_graph_is_drawn_from_one_that_reaches_the_node():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with quiet(), pytest.raises(NonFiniteError) as info, detect_anomaly():
        root = x.sqrt()
        other = (x * 2.0).sum()
        engine.grad([root.sum(), other], [x])  # visits: root.sum(), other, x * 2, sqrt
    # The last root seen, `other`, does not reach the sqrt: it is drawn from the sqrt itself.
    assert info.value.op == "sqrt" and info.value.root is root
    assert set(red_nodes(info.value.graph())) == {"t1", "o1"}
