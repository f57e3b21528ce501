"""The ported HIPS check itself: it passes a right gradient and catches a wrong one, at first
and at second order, and a wrong value, so the ported files cannot pass vacuously."""

import numpy as np
import pytest
from hips_check import check_grads, combo_check

from autograd import Tensor


def detached_square(x):
    """x * x with one factor cut from the graph: value right, gradient half of 2x."""
    return x * Tensor(x.data) if isinstance(x, Tensor) else x * x


def cube_with_wrong_second_derivative(x):
    """x**3 plus (x - x.data)**2, zero: the gradient 3x^2 + 2(x - x.data) is right, but
    differentiates again as 6x + 2."""
    if not isinstance(x, Tensor):
        return x**3
    return x * x * x + (x - Tensor(x.data)) ** 2


def test_a_right_gradient_passes():
    check_grads(lambda x, y: np.sin(x) * y, np.array([0.3, -1.2]), np.array([2.0, 0.5]))


def test_a_wrong_first_derivative_fails():
    with pytest.raises(AssertionError, match="analytic"):
        check_grads(detached_square, np.array([0.3, -1.2, 2.0]))


def test_a_wrong_second_derivative_fails():
    x = np.array([0.3, -1.2, 2.0])
    with pytest.raises(AssertionError, match="analytic"):
        check_grads(cube_with_wrong_second_derivative, x)


def test_combo_check_compares_values_with_numpy():
    def off_by_one_on_tensors(x):
        return x + 1.0 if isinstance(x, Tensor) else x

    with pytest.raises(AssertionError):
        combo_check(off_by_one_on_tensors, [0], [np.ones(3)])


def test_tuples_of_arrays_are_checked_as_their_arrays():
    with pytest.raises(AssertionError, match="analytic"):
        combo_check(lambda xs: xs[0] * Tensor(xs[1].data) if isinstance(xs[1], Tensor)
                    else xs[0] * xs[1], [0], [(np.array([1.0, 2.0]), np.array([3.0, -1.0]))])
