"""Rules that zero a gradient select 0 (np.where) rather than multiply by a 0/1 mask (issue 17).

An infinite upstream gradient (sqrt's at 0, a power below 1 at 0) times a mask's 0 is nan; a
selection gives the 0 that the rule means, at first and second order. And clip's bounds may be
Tensors, with gradients of their own by PyTorch's clamp rules (checked against PyTorch in
tests/test_torch_selection.py; here against closed forms).
"""

import warnings

import numpy as np
import pytest

from autograd import Tensor, grad
from autograd.compile import CompiledStep
from autograd.functions import maximum, minimum, where

X = [-1.0, 0.0, 2.0]
SQRT2 = 1 / (2 * np.sqrt(2.0))  # d sqrt(y)/dy at y = 2


def leaf(values):
    return Tensor(values, requires_grad=True)


def grad_through_sqrt(fn, values=X):
    x = leaf(values)
    with np.errstate(divide="ignore"):  # sqrt's own gradient at 0 is inf: the point here
        fn(x).sqrt().sum().backward()
    return x.grad


@pytest.mark.parametrize("fn, expected", [
    (lambda x: x.relu(), [0.0, 0.0, SQRT2]),
    (lambda x: x.leaky_relu(0.0), [0.0, 0.0, SQRT2]),  # slope 0 is relu (PyTorch: nan)
    (lambda x: x.clip(0.0, None), [0.0, np.inf, SQRT2]),  # the bound itself passes g (clamp)
    (lambda x: x.clip(None, 0.0) * -1.0, [-0.5, np.inf, 0.0]),  # sqrt(-0)
    (lambda x: where(x > 0, x, 0.0), [0.0, 0.0, SQRT2]),
    (lambda x: maximum(x, 0.0), [0.0, np.inf, SQRT2]),  # the tie gets inf / 2
    (lambda x: minimum(x, 0.0) * -1.0, [-0.5, np.inf, 0.0]),
], ids=["relu", "leaky_relu0", "clip lo", "clip hi", "where", "maximum", "minimum"])
def test_an_infinite_gradient_is_selected_away_not_multiplied_by_zero(fn, expected):
    np.testing.assert_array_equal(grad_through_sqrt(fn), expected)


def test_abs_at_zero_selects_zero():
    # d|x|/dx = sign(x), 0 at 0: 0 even when the gradient arriving is inf (PyTorch: nan)
    np.testing.assert_array_equal(grad_through_sqrt(lambda x: x.abs()), [-0.5, 0.0, SQRT2])


@pytest.mark.parametrize("reduce, values, expected", [
    (lambda x: x.max(), [0.0, -1.0, 0.0], [np.inf, 0.0, np.inf]),  # ties share inf; PyTorch nan
    (lambda x: x.min() * -1.0, [0.0, 1.0, 0.0], [np.inf, 0.0, np.inf]),
    (lambda x: x.max(axis=1), [[0.0, -3.0], [2.0, 1.0]], [[np.inf, 0.0], [SQRT2, 0.0]]),
])
def test_max_and_min_give_the_others_a_selected_zero(reduce, values, expected):
    np.testing.assert_array_equal(grad_through_sqrt(reduce, values), expected)


@pytest.mark.parametrize("fn", [lambda x: x.relu(), lambda x: x.clip(0.0, None),
                                lambda x: where(x > 0, x, 0.0), lambda x: x.leaky_relu(0.0)],
                         ids=["relu", "clip", "where", "leaky_relu0"])
def test_second_order_at_a_dead_unit_is_zero(fn):
    # f = relu(x)^1.3: f' = 1.3 relu(x)^0.3, f'' = 0.39 x^-0.7 for x > 0, and 0 where x < 0
    x = leaf(X)
    with np.errstate(divide="ignore", invalid="ignore"):
        (first,) = grad((fn(x) ** 1.3).sum(), x, create_graph=True)
        first.sum().backward()
    np.testing.assert_allclose(first.data, [0.0, 0.0, 1.3 * 2.0**0.3], rtol=1e-15)
    assert x.grad[0] == 0.0 and x.grad[2] == pytest.approx(0.39 * 2.0**-0.7, rel=1e-14)


# ---------------------------------------------------------------- clip with Tensor bounds
def test_tensor_bounds_are_differentiable_inputs():
    # the repros recursed until RecursionError
    t, u = leaf([0.0, 1.0, 3.0]), leaf([0.5, 1.0, 2.0])
    np.testing.assert_array_equal(t.clip(Tensor([1.0, 1.0, 1.0]), 0.5).data, [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(np.clip(np.zeros(3), u, 1.0).data, [0.5, 1.0, 1.0])
    out = t.clip(u)
    np.testing.assert_array_equal(out.data, [0.5, 1.0, 3.0])
    out.backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(t.grad, [0.0, 2.0, 4.0])  # a tie (1 = 1) belongs to x
    np.testing.assert_array_equal(u.grad, [1.0, 0.0, 0.0])


@pytest.mark.parametrize("x, lo, hi, dx, dlo, dhi", [
    (0.0, 1.0, 2.0, 0, 1, 0),  # below: lo replaced x
    (3.0, 1.0, 2.0, 0, 0, 1),  # above: hi did
    (1.0, 1.0, 2.0, 1, 0, 0),  # ties with a bound: x keeps it
    (2.0, 1.0, 2.0, 1, 0, 0),
    (1.0, 1.0, 1.0, 1, 0, 0),
    (1.5, 2.0, 1.0, 0, 0, 1),  # crossed bounds: the result is hi, and so is the gradient
    (0.0, 1.0, 1.0, 0, 0, 0),  # x < lo = hi: no one (PyTorch's rule)
])
def test_clip_tensor_bound_rules_at_ties(x, lo, hi, dx, dlo, dhi):
    x, lo, hi = leaf([x]), leaf([lo]), leaf([hi])
    x.clip(lo, hi).sum().backward()
    assert (x.grad[0], lo.grad[0], hi.grad[0]) == (dx, dlo, dhi)


def test_tensor_bounds_broadcast_and_keep_float32():
    x = Tensor(np.array([-2.0, 0.0, 2.0], np.float32), requires_grad=True)
    lo = Tensor(np.array([[-1.0], [1.0]], np.float32), requires_grad=True)
    out = x.clip(lo)  # hi None: no upper bound
    assert out.shape == (2, 3) and out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(lo.grad, [[1.0], [2.0]])
    assert x.grad.dtype == lo.grad.dtype == np.float32


def test_the_compiled_relu_kernel_selects_too():
    # the fast kernel multiplied the mask as well: compiled steps fell back with a warning
    w = Tensor(np.array([[1.0, -1.0, 0.5], [2.0, 0.0, -3.0]]), requires_grad=True)
    step = CompiledStep(lambda x: (Tensor(x) @ w).relu().sqrt().sum(), [w])
    with warnings.catch_warnings(), np.errstate(divide="ignore"):
        warnings.simplefilter("error")  # no "a fast kernel disagrees" fallback
        for _ in range(3):
            w.grad = None
            step(np.array([[1.0, 1.0]]))
    np.testing.assert_array_equal(w.grad, [[1 / np.sqrt(12.0), 0.0, 0.0]] * 2)
