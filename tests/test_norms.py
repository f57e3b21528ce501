"""Vector and matrix norms (autograd/norms.py, Tensor.norm, np.linalg.norm on Tensors).

Values against np.linalg.norm, gradients against float64 central differences away from the
kinks, PyTorch's subgradients at them (0 at 0, ties sharing), and the arguments: the order
first, as numpy and PyTorch both have it, never silently read as an axis.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, gradcheck, gradgradcheck

RNG = np.random.default_rng(0)
# values 0.5 to 1.5 away from 0, with distinct magnitudes: no kink, no tie
AWAY = (RNG.permutation(24).reshape(2, 3, 4) / 23 + 0.5) * RNG.choice([-1, 1], (2, 3, 4))

VECTOR_ORDERS = [None, 2, 1, 3, 0.5, 1.5, -1, -2.5, math.inf, -math.inf, 2.0, np.float32(3)]
MATRIX_ORDERS = [None, "fro", 1, -1, math.inf, -math.inf]


def grad_of(fn, x, weights=None):
    t = Tensor(x, requires_grad=True)
    out = fn(t)
    (out * (1.0 if weights is None else weights)).sum().backward()
    return out, t.grad


def matches_numpy_and_central_differences(ord, axis, keepdims):
    """AWAY's norm against numpy's (values and shape) and first-order central differences;
    returns the leaf, for a second-order check."""
    x = Tensor(AWAY, requires_grad=True)
    got = x.norm(ord, axis=axis, keepdims=keepdims)
    want = np.linalg.norm(AWAY, ord, axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(got.data, want, rtol=1e-13)
    assert got.shape == want.shape
    assert gradcheck(lambda t: t.norm(ord, axis=axis, keepdims=keepdims), x, rtol=1e-6)
    return x


@pytest.mark.parametrize("ord", VECTOR_ORDERS, ids=repr)
@pytest.mark.parametrize("axis, keepdims", [(0, False), (-1, True), (1, False)])
def test_vector_norms_match_numpy_and_central_differences(ord, axis, keepdims):
    x = matches_numpy_and_central_differences(ord, axis, keepdims)
    assert gradgradcheck(lambda t: t.norm(ord, axis=axis, keepdims=keepdims), x, rtol=1e-4)


@pytest.mark.parametrize("ord", [*VECTOR_ORDERS, 0])
def test_a_vector_without_an_axis_and_a_number_like_tensor(ord):
    v = AWAY[0, 0]
    np.testing.assert_allclose(Tensor(v).norm(ord).data, np.linalg.norm(v, ord), rtol=1e-13)
    assert Tensor(-2.5).norm(ord).item() == pytest.approx(2.5 if ord != 0 else 1.0)  # 0-d: |x|


@pytest.mark.parametrize("ord", MATRIX_ORDERS, ids=repr)
@pytest.mark.parametrize("axis", [(0, 1), (1, 0), (-1, -2), (2, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norms_match_numpy_and_central_differences(ord, axis, keepdims):
    matches_numpy_and_central_differences(ord, axis, keepdims)


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", [(1, 2), (2, 0), (-1, -2)])
@pytest.mark.parametrize("ord", [2, -2, "nuc"])
def test_singular_value_norms_have_svds_gradient(ord, axis, keepdims):
    x = Tensor(AWAY, requires_grad=True)
    np.testing.assert_allclose(x.norm(ord, axis=axis, keepdims=keepdims).data,
                               np.linalg.norm(AWAY, ord, axis=axis, keepdims=keepdims),
                               rtol=1e-13)
    assert gradcheck(lambda t: t.norm(ord, axis=axis, keepdims=keepdims), x, rtol=1e-6)
    assert gradgradcheck(lambda t: t.norm(ord, axis=axis, keepdims=keepdims), x, rtol=1e-5)


# ---------------------------------------------------------------- kinks: PyTorch's subgradients
@pytest.mark.parametrize("ord", [None, 1, 3, 0.5, 1.5, -1, math.inf, -math.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_gradient_at_the_zero_vector_is_zero_not_nan(ord, dtype):
    with np.errstate(all="raise"):
        rows = np.array([[0.0, 0.0, 0.0], [3.0, -4.0, 0.0]], dtype)
        out, grad = grad_of(lambda t: t.norm(ord, axis=1), rows)
    assert grad.dtype == dtype and np.isfinite(grad).all()
    np.testing.assert_array_equal(grad[0], 0.0)  # the zero row
    assert grad[1, 2] == 0.0  # a zero element of a nonzero row
    if ord not in (-1, -math.inf, math.inf):  # (-1, -inf: 0 at a row with a 0, gradient 0)
        assert np.abs(grad[1, :2]).min() > 0


@pytest.mark.parametrize("ord, want", [
    (math.inf, [0.0, 0.5, -0.5, 0.0]),   # |x| max 2 at two places: they share
    (-math.inf, [0.0, 0.0, 0.0, 1.0]),   # the single smallest |x| takes it all
    (1, [1.0, 1.0, -1.0, 1.0]),
])
def test_ties_share_the_gradient_as_in_pytorch(ord, want):
    _, grad = grad_of(lambda t: t.norm(ord), np.array([1.0, 2.0, -2.0, 0.5]))
    np.testing.assert_allclose(grad, want)


def test_the_zero_order_counts_nonzeros_and_is_a_constant():
    out = Tensor([[0.0, 2.0, -1.0], [0.0, 0.0, 5.0]], requires_grad=True).norm(0, axis=1)
    np.testing.assert_array_equal(out.data, [2.0, 1.0])
    assert not out.requires_grad  # piecewise constant: no gradient to carry, as sign()


def test_matrix_one_norm_ties_share_the_gradient():
    _, grad = grad_of(lambda t: t.norm(1, axis=(0, 1)), np.array([[1.0, -2.0], [2.0, 1.0]]))
    np.testing.assert_allclose(grad, [[0.5, -0.5], [0.5, 0.5]])  # both column sums are 3


@settings(max_examples=40, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-1e3, 1e3).filter(lambda v: v == 0 or abs(v) > 1e-30)),
       ord=st.sampled_from([None, 1, 2, 3, 0.5, -1, math.inf, -math.inf, 0]))
def test_values_match_numpy_on_any_vector(x, ord):
    with np.errstate(divide="ignore"):  # numpy's own 0 ** -1
        want = np.linalg.norm(x, ord, axis=-1)
    np.testing.assert_allclose(Tensor(x).norm(ord, axis=-1).data, want, rtol=1e-12)


@pytest.mark.parametrize("x, ord, want", [
    ([1e-300, -1e-300], 3, 2 ** (1 / 3) * 1e-300),  # |x|^3 underflows to 0 in numpy's sum
    ([1e300, 1e300], 3, 2 ** (1 / 3) * 1e300),      # and overflows to inf here
    ([1e-310, 1e-310], -1, 5e-311),                 # |x|^-1 overflows
    ([4e200, 3e200], 0.5, (2 * math.sqrt(12) + 7) * 1e200),
])
def test_huge_and_tiny_elements_give_the_norm_not_0_or_inf(x, ord, want):
    out, grad = grad_of(lambda t: t.norm(ord), np.array(x))
    assert out.item() == pytest.approx(want, rel=1e-12)
    assert np.isfinite(grad).all() and np.abs(grad).max() > 0


# ---------------------------------------------------------------- the arguments
def test_the_first_argument_is_the_order_never_the_axis():
    m = np.array([[3.0, -4.0], [0.0, 1.0]])
    # issue 17: t.norm(1) gave the row 2-norms [5, 1]; numpy and PyTorch read 1 as the order
    np.testing.assert_array_equal(Tensor(m[0]).norm(1).data, 7.0)
    np.testing.assert_array_equal(Tensor(m).norm(1, 1).data, [7.0, 1.0])  # (ord, axis), numpy's
    np.testing.assert_array_equal(Tensor(m).norm(1, axis=(0, 1)).data, 5.0)  # largest column
    with pytest.raises(ValueError, match=r"norm\(1\) of a 2-D tensor without an axis: numpy reads "
                                         r".*matrix norm, PyTorch's norm as the vector norm .* "
                                         r"write axis=\(-2, -1\) .* t\.reshape\(-1\)\.norm\(1\)"):
        Tensor(m).norm(1)
    with pytest.raises(ValueError, match=r"norm\(inf\) of a 3-D tensor"):
        Tensor(AWAY).norm(math.inf)


def test_pytorchs_spellings_mean_what_they_mean_in_pytorch():
    m = Tensor(AWAY[0])
    np.testing.assert_allclose(m.norm(p=1, dim=1).data, np.abs(AWAY[0]).sum(axis=1))
    assert m.norm(p=3, dim=0, keepdim=True).shape == (1, 4)
    frobenius = np.sqrt((AWAY[0] ** 2).sum())
    # torch.norm's p=2 and p="fro" are the 2-norm of the elements, over any dims
    for out in (m.norm(p=2), m.norm(p=2, dim=(0, 1)), m.norm(p="fro"), m.norm("fro"),
                m.norm(dim=(0, 1)), m.norm()):
        np.testing.assert_allclose(out.data, frobenius, rtol=1e-14)
    with pytest.raises(ValueError, match=r"norm\(p=1\) over two axes: torch\.norm's p= is a "
                                         r"vector norm .* write ord=1 for the matrix norm"):
        m.norm(p=1, dim=(0, 1))
    with pytest.raises(TypeError, match="norm: ord/p given twice"):
        m.norm(1, p=1)
    with pytest.raises(TypeError, match="norm: axis/dim given twice"):
        m.norm(axis=0, dim=0)


@pytest.mark.parametrize("call, error, message", [
    (lambda t: t.norm("fro", axis=1), ValueError, r"invalid order 'fro' for a vector norm"),
    (lambda t: t.norm("nuc", axis=0), ValueError, r"invalid order 'nuc' for a vector norm"),
    (lambda t: t.norm(3, axis=(0, 1)), ValueError, r"invalid order 3 for a matrix norm; .*'fro'"),
    (lambda t: t.norm(math.nan, axis=1), ValueError, r"invalid order nan"),
    (lambda t: t.norm(True, axis=1), ValueError, r"invalid order True"),
    (lambda t: t.norm(1, axis=(0, 0)), ValueError, r"the two axes of a matrix norm must differ"),
    (lambda t: t.norm(1, axis=(0, 1, 2)), ValueError, r"over 3 axes"),
])
def test_invalid_orders_and_axes_are_named(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(AWAY))


def test_np_linalg_norm_keeps_numpys_argument_order_and_meanings():
    m = AWAY[0]
    for ord in [None, "fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]:
        np.testing.assert_allclose(np.linalg.norm(Tensor(m), ord).data, np.linalg.norm(m, ord),
                                   rtol=1e-13)
    v = m[0]
    for ord in [None, 0, 1, 2, 3, -1, math.inf]:
        np.testing.assert_allclose(np.linalg.norm(Tensor(v), ord).data, np.linalg.norm(v, ord),
                                   rtol=1e-13)
    with pytest.raises(ValueError, match=r"np\.linalg\.norm\(ord=1\) of a 3-D array"):
        np.linalg.norm(Tensor(AWAY), 1)
    with pytest.raises(ValueError, match=r"np\.linalg\.norm\(axis=\(0, 1, 2\)\)"):
        np.linalg.norm(Tensor(AWAY), axis=(0, 1, 2))
    assert gradcheck(lambda t: np.linalg.norm(t, 2), Tensor(m, requires_grad=True))


def test_float32_stays_float32():
    x = Tensor(AWAY.astype(np.float32), requires_grad=True)
    for ord, axis in [(3, 1), (math.inf, 0), (1, (0, 1)), (None, None), (0.5, -1)]:
        out = x.norm(ord, axis=axis)
        out.sum().backward()
        assert out.dtype == x.grad.dtype == np.float32
        x.grad = None
