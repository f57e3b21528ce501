"""The op table at extreme inputs, with warnings turned into errors: logits of 1e4, sigmoid at
+-1000, empty axes and batches, values that overflow if computed naively.
"""

import contextlib
import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from op_cases import weighted
from test_ops import PROPERTY, arrays, check

from autograd import Tensor, gradcheck


# ---------------------------------------------------------------- extreme inputs
@contextlib.contextmanager
def strict():
    """Warnings are errors; numpy raises on overflow, division by zero and invalid results.

    Underflow is allowed: exp(-1000) rounding to 0 is the correctly rounded answer.
    """
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise",
                                                under="ignore"):
        warnings.simplefilter("error")
        yield


@pytest.fixture
def strict_numerics():
    with strict():
        yield


FLOATS = pytest.mark.parametrize("dtype", [np.float64, np.float32])
LOGITS = np.array([[1e4, 0.0, -1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, 1e4 - 1]])
# A float32 logit of 1e4 is resolved to ~1e-3, and a stable result is exact for inputs moved that
# little: so float32 results may differ from the float64 truth by about 1e-3.
TOL = {np.float64: {"rtol": 1e-9, "atol": 1e-10}, np.float32: {"rtol": 1e-3, "atol": 1e-3}}


def finite_grad(fn, values, dtype, weights=None):
    """fn's output and the gradient of sum(weights * output), both checked finite, as float64."""
    x = Tensor(np.asarray(values, dtype), requires_grad=True)
    out = fn(x)
    weights = np.ones(out.shape, dtype) if weights is None else weights.astype(dtype)
    (out * weights).sum().backward()
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert np.isfinite(out.data).all() and np.isfinite(x.grad).all()
    return out.data.astype(np.float64), x.grad.astype(np.float64)


@FLOATS
def test_sigmoid_at_plus_minus_1000(strict_numerics, dtype):
    x = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    out, grad = finite_grad(Tensor.sigmoid, x, dtype)
    expected = scipy.special.expit(x)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(grad, expected * (1 - expected), rtol=1e-6, atol=1e-12)
    assert out[0] == 0.0 and out[-1] == 1.0


@FLOATS
def test_tanh_at_plus_minus_1000(strict_numerics, dtype):
    out, grad = finite_grad(Tensor.tanh, [-1000.0, 1000.0], dtype)
    np.testing.assert_array_equal(out, [-1.0, 1.0])
    np.testing.assert_array_equal(grad, [0.0, 0.0])


@FLOATS
def test_logsumexp_at_logits_of_1e4(strict_numerics, dtype):
    out, grad = finite_grad(lambda t: t.logsumexp(axis=1), LOGITS, dtype)
    np.testing.assert_allclose(out, [1e4, 1e4 + np.log(3), 1e4 - 1], **TOL[dtype])
    np.testing.assert_allclose(grad, scipy.special.softmax(LOGITS, axis=1), **TOL[dtype])
    total, _ = finite_grad(lambda t: t.logsumexp(), LOGITS, dtype)
    np.testing.assert_allclose(total, 1e4 + np.log(4 + np.exp(-1.0)), **TOL[dtype])


@FLOATS
def test_softmax_and_log_softmax_at_logits_of_1e4(strict_numerics, dtype):
    w = np.random.default_rng(0).normal(size=LOGITS.shape)
    p = scipy.special.softmax(LOGITS, axis=-1)
    out, grad = finite_grad(Tensor.softmax, LOGITS, dtype, w)
    np.testing.assert_allclose(out, p, **TOL[dtype])
    np.testing.assert_allclose(grad, p * (w - (w * p).sum(-1, keepdims=True)), **TOL[dtype])
    out, grad = finite_grad(Tensor.log_softmax, LOGITS, dtype, w)
    np.testing.assert_allclose(out, scipy.special.log_softmax(LOGITS, axis=-1), **TOL[dtype])
    np.testing.assert_allclose(grad, w - p * w.sum(-1, keepdims=True), **TOL[dtype])


@FLOATS
def test_cross_entropy_at_logits_of_1e4(strict_numerics, dtype):
    target = np.eye(3)[[1, 0, 2]]
    out, grad = finite_grad(lambda t: t.cross_entropy(target), LOGITS, dtype)
    expected = -(target * scipy.special.log_softmax(LOGITS, axis=-1)).sum() / 3
    np.testing.assert_allclose(out, expected, **TOL[dtype])
    p = scipy.special.softmax(LOGITS, axis=-1)
    np.testing.assert_allclose(grad, (p - target) / 3, **TOL[dtype])


# ---------------------------------------------------------------- edges found by fuzzing
def test_pow_with_exponent_zero_sends_zero_to_the_base(strict_numerics):
    # PyTorch: [0, 0]; y * x**(y-1) would be 0 * inf = nan at x = 0
    x = Tensor([0.0, 2.0], requires_grad=True)
    (x ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    x, y = Tensor([0.0, 2.0], requires_grad=True), Tensor([0.0, 0.0], requires_grad=True)
    (x ** y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    np.testing.assert_array_equal(y.grad, [0.0, np.log(2.0)])  # d/dy 0**y is 0 at y = 0 too


@pytest.mark.parametrize("base, exponent, base_grad, exponent_grad", [
    (-2.0, 2.0, -4.0, np.nan),        # log of a negative base: nan, never a silent 0
    (-2.0, 3.0, 12.0, np.nan),
    (0.0, -1.0, -np.inf, -np.inf),    # inf * log(0); the base gets -1 * 0**-2
    (0.0, 0.5, np.inf, 0.0),          # the derivative of sqrt at 0
    (0.0, 2.0, 0.0, 0.0),
    (0.0, 1.0, 1.0, 0.0),
    (3.0, 0.0, 0.0, np.log(3.0)),
])
def test_pow_gradients_at_the_edges_match_pytorch(base, exponent, base_grad, exponent_grad):
    x, y = Tensor(base, requires_grad=True), Tensor(exponent, requires_grad=True)
    with np.errstate(divide="ignore"):  # the forward 0 ** -1 = inf warns, as numpy's does
        out = x ** y
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out.backward()  # the gradients warn about nothing
    np.testing.assert_array_equal(x.grad, base_grad)
    np.testing.assert_array_equal(y.grad, exponent_grad)


def test_linear_equals_matmul_plus_bias_for_the_issues_repro():
    x, w, b = (Tensor(v, requires_grad=True) for v in ([1.0, 2.0], [3.0, 4.0], [0.0, 0.0]))
    out = x.linear(w, b)
    assert out.shape == (2,)
    np.testing.assert_array_equal(out.data, [11.0, 11.0])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])  # x @ w is used twice by the broadcast
    np.testing.assert_array_equal(x.grad, [6.0, 8.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_linear_promotes_like_numpy_and_takes_a_bias_that_adds_dimensions():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    w = Tensor(np.ones((3, 4), np.float32), requires_grad=True)
    b = Tensor(np.ones(4), requires_grad=True)  # float64
    out = x.linear(w, b)
    assert out.dtype == np.float64 == (x @ w + b).dtype
    out.sum().backward()
    assert (x.grad.dtype, w.grad.dtype, b.grad.dtype) == (np.float32, np.float32, np.float64)
    wide = x.linear(w, Tensor(np.zeros((5, 1, 4), np.float32)))
    assert wide.shape == (5, 2, 4)


@PROPERTY
@given(data=st.data(),
       shapes=hnp.mutually_broadcastable_shapes(signature=np.matmul.signature, max_dims=2,
                                                max_side=3),
       bias_dims=st.integers(0, 3))
def test_linear_is_x_at_w_plus_b_for_every_shape(data, shapes, bias_dims):
    a, b = shapes.input_shapes
    product = np.broadcast_shapes(shapes.result_shape)
    # a bias of any shape that broadcasts with the product, adding dimensions or not
    bias_shape = data.draw(hnp.broadcastable_shapes(product, min_dims=0,
                                                    max_dims=len(product) + bias_dims,
                                                    max_side=3), label="bias")
    x, w, c = (data.draw(arrays(s), label=n) for s, n in ((a, "x"), (b, "w"), (bias_shape, "b")))
    check(lambda x, w, c: x.linear(w, c), lambda x, w, c: x @ w + c, x, w, c)


EMPTY_AXIS = np.zeros((3, 0))


@pytest.mark.parametrize("fn, expected", [
    (lambda t: t.softmax(axis=-1), np.zeros((3, 0))),
    (lambda t: t.log_softmax(axis=-1), np.zeros((3, 0))),
    (lambda t: t.logsumexp(axis=-1), np.full(3, -np.inf)),   # log of an empty sum
    (lambda t: t.softmax(axis=0), np.zeros((3, 0))),
    (lambda t: t.cross_entropy(np.zeros((3, 0)), reduction="none"), np.zeros(3)),
    (lambda t: t.cross_entropy(np.zeros((3, 0))), np.zeros(())),
])
def test_normalisations_over_an_empty_axis_return_empty_results(strict_numerics, fn, expected):
    x = Tensor(EMPTY_AXIS, requires_grad=True)
    out = fn(x)
    np.testing.assert_array_equal(out.data, expected)
    out.backward(np.ones(out.shape))
    assert x.grad.shape == (3, 0)


@pytest.mark.parametrize("loss", [
    lambda x, r: x.cross_entropy(np.zeros((0, 3)), reduction=r),
    lambda x, r: x.bce_with_logits(np.zeros((0, 3)), reduction=r),
])
def test_an_empty_batch_sums_to_zero_and_has_a_nan_mean(strict_numerics, loss):
    x = Tensor(np.zeros((0, 3)), requires_grad=True)
    total = loss(x, "sum")
    assert total.item() == 0.0
    total.backward()
    assert x.grad.shape == (0, 3)
    assert np.isnan(loss(x, "mean").item())  # PyTorch's mean of nothing, without a warning
    assert loss(x, "none").shape[0] == 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_losses_reduce_like_their_unfused_forms(dtype, reduction):
    rng = np.random.default_rng(0)
    logits, probs = rng.normal(size=(4, 3)).astype(dtype), rng.uniform(size=(4, 3)).astype(dtype)
    reduce = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]
    ce = -(probs * scipy.special.log_softmax(logits.astype(np.float64), axis=-1)).sum(-1)
    bce = np.logaddexp(0, logits.astype(np.float64)) - logits * probs
    for method, expected in (("cross_entropy", ce), ("bce_with_logits", bce)):
        fn = lambda x, m=method: getattr(x, m)(probs, reduction=reduction)  # noqa: E731
        x = Tensor(logits, requires_grad=True)
        out = fn(x)
        assert out.dtype == dtype
        np.testing.assert_allclose(out.data, reduce(expected), rtol=1e-5 if dtype == np.float32
                                   else 1e-12)
        assert gradcheck(weighted(fn, out.shape, dtype), Tensor(logits.astype(np.float64),
                                                                 requires_grad=True))


def test_fused_losses_name_a_bad_reduction():
    with pytest.raises(ValueError, match="cross_entropy: reduction must be 'mean', 'sum' or"):
        Tensor([[1.0, 2.0]]).cross_entropy([[0.0, 1.0]], reduction="avg")


# ---------------------------------------------------------------- property-based: edge values
EDGES = st.sampled_from([0.0, 0.0, 1.0, -1.0, 0.5, -0.5, 2.0])  # zeros twice: they matter most

# The derivative at every point, kinks included, by PyTorch's conventions: relu'(0) = 0,
# |x|'(0) = 0, and clip passes the gradient on its boundary.
DERIVATIVES = {
    "relu": (Tensor.relu, lambda a: (a > 0).astype(float)),
    "abs": (Tensor.abs, np.sign),
    "clip": (lambda t: t.clip(-0.5, 0.5), lambda a: ((a >= -0.5) & (a <= 0.5)).astype(float)),
    "square": (lambda t: t ** 2, lambda a: 2 * a),
    "pow0": (lambda t: t ** 0, np.zeros_like),
    "tanh": (Tensor.tanh, lambda a: 1 - np.tanh(a) ** 2),
    "sigmoid": (Tensor.sigmoid, lambda a: scipy.special.expit(a) * (1 - scipy.special.expit(a))),
}


@pytest.mark.parametrize("name", list(DERIVATIVES))
@PROPERTY
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=4),
                    elements=EDGES))
def test_derivatives_at_kinks_and_zeros(name, x):
    fn, derivative = DERIVATIVES[name]
    t = Tensor(x, requires_grad=True)
    with strict():
        fn(t).sum().backward()
    np.testing.assert_allclose(t.grad, derivative(x), rtol=1e-12, atol=1e-15)


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3))
def test_max_ties_share_the_gradient_equally(data, shape):
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.sampled_from([0.0, 1.0])), label="x")
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1), label="axis")
    t = Tensor(x, requires_grad=True)
    t.max(axis=axis).sum().backward()
    winners = x == x.max(axis=axis, keepdims=True)
    np.testing.assert_allclose(t.grad, winners / winners.sum(axis=axis, keepdims=True))


@PROPERTY
@given(x=hnp.arrays(np.float64, st.integers(1, 6), elements=EDGES | st.just(-2.0)),
       y=st.sampled_from([0.0, 1.0, 2.0, 3.0, 0.5, -1.0, -2.0]))
def test_pow_gradients_follow_the_closed_form_at_every_base(x, y):
    """Base: y x^(y-1), but 0 for y = 0; exponent: x^y log x, but 0 at x = 0 for y >= 0."""
    base, exponent = Tensor(x, requires_grad=True), Tensor(np.full(x.shape, y), requires_grad=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = base ** exponent
        expected_base = np.where(y == 0, 0.0, y * x ** (y - 1))
        expected_exponent = np.where((x == 0) & (y >= 0), 0.0, x ** y * np.log(x))
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        out.sum().backward()
    np.testing.assert_array_equal(base.grad, expected_base)
    np.testing.assert_array_equal(exponent.grad, expected_exponent)


@pytest.mark.parametrize("name", ["sum", "mean", "logsumexp", "softmax", "log_softmax"])
@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
def test_reductions_and_normalisations_over_empty_shapes(name, data, shape):
    """Empty axes and batches: numpy's (and PyTorch's) values, no warning, gradients shaped."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    x = np.zeros(shape)
    t = Tensor(x, requires_grad=True)
    with strict():
        out = getattr(t, name)(axis=axis)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numpy's own mean of nothing warns: compare quietly
        if name in ("softmax", "log_softmax") and not x.size:
            expected = np.zeros(shape)  # scipy's fail on empty input: empty, the same shape
        else:
            expected = {"sum": np.sum, "mean": np.mean, "logsumexp": scipy.special.logsumexp,
                        "softmax": scipy.special.softmax,
                        "log_softmax": scipy.special.log_softmax}[name](x, axis=axis)
    np.testing.assert_array_equal(out.data, expected)
    with strict():
        out.backward(np.ones(out.shape))
    assert t.grad.shape == shape
