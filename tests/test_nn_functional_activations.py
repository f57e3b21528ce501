"""nn/functional_activations.py: PyTorch's activation names against the Tensor methods they
wrap and closed forms; linear's PyTorch layout; dropout's rules; the errors that say what to
write (no dim for softmax, inplace=True, npgrad's weight layout)."""

import numpy as np
import pytest

import nn
import nn.functional as F
from autograd import Tensor, gradcheck

X = np.array([[0.0, 1.0, -1.0, 0.5], [2.0, -0.5, 0.0, 3.0], [-3.0, 0.25, 1.5, -2.0]])


@pytest.mark.parametrize("name, expected", [
    ("relu", np.maximum(X, 0)),
    ("sigmoid", 1 / (1 + np.exp(-X))),
    ("tanh", np.tanh(X)),
])
def test_elementwise_activations_closed_forms(name, expected):
    np.testing.assert_allclose(getattr(F, name)(Tensor(X)).data, expected, rtol=1e-15)
    np.testing.assert_allclose(getattr(F, name)(X).data, expected, rtol=1e-15)  # arrays too


def test_leaky_relu_and_gelu_are_the_layers():
    np.testing.assert_array_equal(F.leaky_relu(X, 0.2).data, np.where(X > 0, X, 0.2 * X))
    np.testing.assert_array_equal(F.gelu(Tensor(X)).data, nn.GELU()(Tensor(X)).data)


@pytest.mark.parametrize("kwargs, axis", [({"dim": 1}, 1), ({"dim": 0}, 0), ({"axis": -1}, -1)])
def test_softmax_and_log_softmax_take_dim_or_axis(kwargs, axis):
    e = np.exp(X - X.max(axis=axis, keepdims=True))
    expected = e / e.sum(axis=axis, keepdims=True)
    np.testing.assert_allclose(F.softmax(X, **kwargs).data, expected, rtol=1e-15)
    np.testing.assert_allclose(F.log_softmax(X, **kwargs).data, np.log(expected), rtol=1e-14,
                               atol=1e-15)
    np.testing.assert_allclose(nn.LogSoftmax(**kwargs)(Tensor(X)).data, np.log(expected),
                               rtol=1e-14, atol=1e-15)


def test_softmax_dtype_casts_first():
    out = F.softmax(Tensor(X.astype(np.float32)), dim=1, dtype=np.float64)
    assert out.dtype == np.float64


@pytest.mark.parametrize("call, message", [
    (lambda: F.softmax(X), r"softmax: pass the axis to normalise over, e.g. softmax\(x, dim=-1\)"),
    (lambda: F.log_softmax(X, dim=0, axis=1), "log_softmax: got both dim=0 and axis=1"),
    (lambda: nn.LogSoftmax(0, axis=1), "LogSoftmax: got both dim=0 and axis=1"),
    (lambda: F.relu(X, inplace=True), r"relu: inplace=True is not available .* x = F.relu\(x\)"),
    (lambda: F.dropout(X, 1.5), r"dropout: p must be a probability in \[0, 1\], got 1.5"),
])
def test_errors_say_what_to_write(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()


def test_linear_uses_pytorchs_layout_and_is_differentiable():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(5, 4)), rng.normal(size=5)
    np.testing.assert_allclose(F.linear(X, w, b).data, X @ w.T + b, rtol=1e-14)
    np.testing.assert_allclose(F.linear(X, w).data, X @ w.T, rtol=1e-14)
    assert gradcheck(lambda x, w, b: F.linear(x, w, b).sum(),
                     *(Tensor(a, requires_grad=True) for a in (X, w, b)))


def test_linear_with_npgrads_layout_names_the_transpose():
    layer = nn.Linear(4, 5)
    with pytest.raises(ValueError, match=r"looks like npgrad's \(in, out\) layout: pass "
                                         r"weight.T"):
        F.linear(X, layer.weight, layer.bias)
    np.testing.assert_allclose(F.linear(X, layer.weight.T, layer.bias).data, layer(X).data,
                               rtol=1e-14)


def test_dropout_rules():
    x = Tensor(np.ones((200, 50)))
    assert F.dropout(x, 0.5, training=False) is x and F.dropout(x, 0.0) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).data, np.zeros((200, 50)))
    out = F.dropout(x, 0.25, rng=np.random.default_rng(0)).data
    assert set(np.unique(out)) == {0.0, 1 / 0.75}
    assert abs((out == 0).mean() - 0.25) < 0.02
    nn.manual_seed(3)
    first = F.dropout(x, 0.5).data
    nn.manual_seed(3)
    np.testing.assert_array_equal(nn.Dropout(0.5)(x).data, first)  # one generator, one rule
