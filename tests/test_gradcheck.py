"""gradcheck itself: it passes right gradients, and catches wrong ones with a readable table.

Wrong gradients come from custom Ops with deliberately broken VJPs, applied via `apply`.
"""

import re

import numpy as np
import pytest

from autograd import GradcheckError, Tensor, gradcheck
from autograd.gradcheck import numerical_grad
from autograd.ops import Op, reads
from autograd.tensor import apply

# d(x^2)/dx is 2x; this VJP forgets the 2
bad_square = Op("bad_square", np.square, lambda g, out, x: g * x, reads("x"))
# right up to a relative error of 2e-4
almost_square = Op("almost_square", np.square, lambda g, out, x: g * 2 * x * (1 + 2e-4),
                   reads("x"))
nan_square = Op("nan_square", np.square, lambda g, out, x: g * np.nan, reads())


def leaf(values, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def table_rows(message):
    """The table's lines after the header, split into cells."""
    lines = message.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("input"))
    return lines[header], [re.split(r"\s{2,}", line.strip()) for line in lines[header + 1:]]


def test_right_gradients_pass():
    x, w = leaf([[0.5, -1.0], [2.0, 0.3]]), leaf([1.5, -0.7])
    assert gradcheck(lambda x, w: (x @ w).tanh() * x.sum(), x, w) is True


def test_non_tensor_and_constant_inputs_are_passed_through():
    x, c = leaf([1.0, 2.0]), Tensor([3.0, 4.0])
    assert gradcheck(lambda x, c, k: (x * c) ** k, x, c, 2)
    assert c.grad is None


def test_a_wrong_vjp_is_caught_with_a_table():
    x = leaf([[0.5, -2.0, 1.0], [3.0, 0.1, -1.0]])
    w = leaf([1.0, 2.0, 3.0])
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, w: apply(bad_square, x) * w, x, w)
    message = str(info.value)
    assert "atol=1e-05, rtol=0.001" in message
    header, rows = table_rows(message)
    for column in ("input", "shape", "max abs err", "max rel err", "worst index"):
        assert column in header
    # input 0: analytic x*w against numeric 2x*w; the worst element is x=-2, w=2 at (0, 1)
    assert rows[0][:5] == ["0", "(2, 3)", "4.000e+00", "5.000e-01", "(0, 1)"]
    assert rows[0][-1] == "FAIL"
    # input 1 has a right gradient (x^2, computed by the forward) and is marked ok
    assert rows[1][:2] == ["1", "(3,)"] and rows[1][-1] == "ok"


def test_gradcheck_error_is_an_assertion_error():
    # so that a bare `gradcheck(...)` in a test fails the test with the table
    with pytest.raises(AssertionError, match="gradients differ"):
        gradcheck(lambda x: apply(bad_square, x), leaf([1.0, 2.0]))


def test_tolerances_are_respected():
    x = leaf([0.5, 1.0, 2.0])
    assert gradcheck(lambda x: apply(almost_square, x), x)  # rtol=1e-3 accepts 2e-4
    with pytest.raises(GradcheckError, match="rtol=1e-05"):
        gradcheck(lambda x: apply(almost_square, x), x, rtol=1e-5)
    assert gradcheck(lambda x: apply(bad_square, x), x, atol=10.0)


def test_non_finite_gradients_fail():
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: apply(nan_square, x), leaf([1.0, 2.0]))


def test_float32_inputs():
    x, w = leaf([[0.5, -1.0], [2.0, 0.3]], np.float32), leaf([1.5, -0.7], np.float32)
    assert gradcheck(lambda x, w: (x @ w).sigmoid() * x.sum(), x, w)
    with pytest.raises(GradcheckError, match=r"\(2, 2\)"):
        gradcheck(lambda x: apply(bad_square, x), x)
    assert x.dtype == np.float32 and w.dtype == np.float32


def test_inputs_and_their_grads_are_left_as_they_were():
    x = leaf([1.0, 2.0])
    data, grad = x.data.copy(), np.array([7.0, 8.0])
    x.grad = grad
    gradcheck(lambda x: x.exp(), x)
    assert x.grad is grad
    np.testing.assert_array_equal(x.data, data)


def test_needs_an_input_that_requires_grad():
    with pytest.raises(ValueError, match="no input is a Tensor with requires_grad=True"):
        gradcheck(lambda x: x * 2, Tensor([1.0]))


def test_numerical_grad_matches_the_closed_form():
    x = Tensor([0.5, -1.5, 2.0])
    np.testing.assert_allclose(numerical_grad(lambda x: x**3, [x], 0), 3 * x.data**2, rtol=1e-8)
    np.testing.assert_allclose(numerical_grad(lambda x: x.exp(), [x], 0, eps=1e-4),
                               np.exp(x.data), rtol=1e-7)


def test_params_checks_tensors_the_function_closes_over():
    rng = np.random.default_rng(0)
    w, b = leaf(rng.normal(size=(3, 2))), leaf(rng.normal(size=2))
    w32 = Tensor(rng.normal(size=(2, 2)).astype(np.float32), requires_grad=True)
    x = rng.normal(size=(4, 3))
    fn = lambda: (((x @ w + b).tanh() @ w32) ** 2).sum()  # noqa: E731
    assert gradcheck(fn, params=[w, b, w32])
    assert w32.dtype == np.float32 and w.grad is None  # restored: dtype and gradients
    assert gradcheck(fn, params={"w": w, "b": b, "w32": w32})
    broken = lambda: apply(bad_square, w).sum() + b.sum()  # noqa: E731
    with pytest.raises(GradcheckError) as info:
        gradcheck(broken, params={"w": w, "b": b})
    header, rows = table_rows(str(info.value))
    assert [row[0] for row in rows] == ["w", "b"] and rows[0][-1] == "FAIL" and rows[1][-1] == "ok"


def test_an_input_the_output_does_not_depend_on_is_named():
    # gradcheck over a model's parameters while fn closes over the model: the numerical
    # gradient of every input is 0, and the relative error was a bare 4.5e11
    w = leaf([[1.0, 2.0], [3.0, 4.0]])
    x = np.array([[0.5, -1.0]])
    with pytest.raises(GradcheckError, match=r"input 0: the numerical gradient is exactly 0 "
                                             r"everywhere, so the output does not depend on it.*"
                                             r"params="):
        gradcheck(lambda weights: (Tensor(x) @ w).tanh().sum(), w)
