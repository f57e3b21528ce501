"""Item assignment, `t[index] = value` (Tensor.__setitem__ and the setitem op): numpy's values,
recorded like the in-place operators, so gradients reach value and t's untouched elements;
refused on a leaf that requires grad while recording; a plain write under no_grad.
"""

import numpy as np
import pytest

from autograd import Tensor, gradcheck, gradgradcheck, no_grad, ops

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4))
MASK = A > 0

# (index, value shape): basic, advanced (with a repeated row), boolean, broadcast, one element
INDEXES = [
    ((1,), (4,)),
    ((slice(None), slice(1, 3)), (3, 2)),
    ((slice(None), 2), ()),
    ((Ellipsis, None, 0), (3, 1)),
    ((np.array([0, 2, 0]), slice(1, None)), (3, 3)),
    ((np.array([[0], [2]]), np.array([1, 3])), (2, 2)),
    ((MASK,), (int(MASK.sum()),)),
    ((slice(0, 0),), (4,)),
    ((1, 2), ()),
]
IDS = [str(i) for i in range(len(INDEXES))]


def assign(a, v, index):
    h = a * 1.0  # an intermediate: assignment into it is recorded
    h[index] = v
    return h


def weighted(index):
    w = np.arange(1.0, 13.0).reshape(3, 4)
    return lambda a, v: assign(a, v, index) * w


@pytest.mark.parametrize("index, shape", INDEXES, ids=IDS)
def test_values_match_numpy(index, shape):
    v = RNG.normal(size=shape)
    want = A.copy()
    want[index] = v
    got = assign(Tensor(A, requires_grad=True), Tensor(v, requires_grad=True), index)
    np.testing.assert_array_equal(got.data, want)
    assert got.op is ops.setitem


@pytest.mark.parametrize("index, shape", INDEXES, ids=IDS)
def test_gradients_reach_value_and_the_untouched_elements(index, shape):
    a = Tensor(A, requires_grad=True)
    v = Tensor(RNG.normal(size=shape), requires_grad=True)
    assert gradcheck(weighted(index), a, v)
    assert gradgradcheck(weighted(index), a, v)


def test_a_repeated_position_gives_the_gradient_to_the_last_write_only():
    a = Tensor(np.zeros(3), requires_grad=True)
    v = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = a * 1.0
    h[[0, 2, 0]] = v  # numpy keeps the last write to 0: v[2]
    np.testing.assert_array_equal(h.data, [3.0, 0.0, 2.0])
    (h * np.array([10.0, 20.0, 30.0])).sum().backward()
    np.testing.assert_array_equal(v.grad, [0.0, 30.0, 10.0])
    np.testing.assert_array_equal(a.grad, [0.0, 20.0, 0.0])


def test_a_broadcast_value_sums_its_gradient():
    a = Tensor(A, requires_grad=True)
    v = Tensor([5.0], requires_grad=True)
    h = a * 1.0
    h[:, 1:3] = v
    h.sum().backward()
    np.testing.assert_array_equal(v.grad, [6.0])
    np.testing.assert_array_equal(a.grad, np.where(np.arange(4) % 3 == 0, 1.0, 0.0)[None]
                                  .repeat(3, 0))


def test_nodes_recorded_before_the_assignment_use_the_old_values():
    a = Tensor(A, requires_grad=True)
    v = Tensor(RNG.normal(size=4), requires_grad=True)
    h = a * 2.0
    squares = h * h  # reads h as it is now
    h[0] = v
    (squares.sum() + (h * 3.0).sum()).backward()
    untouched = np.ones_like(A)
    untouched[0] = 0.0
    np.testing.assert_allclose(a.grad, 8.0 * A + 6.0 * untouched)
    np.testing.assert_allclose(v.grad, np.full(4, 3.0))


def test_a_value_made_from_the_tensor_itself():
    def shift(a):
        h = a * 1.0
        h[1:] = h[:-1] * 2.0  # reads the old h
        return h * np.arange(1.0, 13.0).reshape(3, 4)
    a = Tensor(A, requires_grad=True)
    want = A.copy()
    want[1:] = A[:-1] * 2.0
    np.testing.assert_array_equal(shift(a).data / np.arange(1.0, 13.0).reshape(3, 4), want)
    assert gradcheck(shift, a) and gradgradcheck(shift, a)
    h = a * 1.0
    h[...] = h  # the whole tensor over itself: the identity
    h.sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones_like(A))


def test_a_constant_tensor_joins_the_graph_when_its_value_requires_grad():
    t = Tensor(np.zeros((2, 3)))
    v = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    t[1] = v
    assert t.requires_grad and t.op is ops.setitem
    (t * t).sum().backward()
    np.testing.assert_array_equal(v.grad, [2.0, 4.0, 6.0])


def test_a_leaf_that_requires_grad_is_refused_while_recording():
    p = Tensor(A, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"t\[index\] = value on a leaf tensor that requires "
                                           r"grad \(shape \(3, 4\)\).*no_grad"):
        p[0] = 1.0
    np.testing.assert_array_equal(p.data, A)  # unchanged


def test_under_no_grad_a_plain_write_that_later_backward_notices():
    p = Tensor(A, requires_grad=True)
    y = (p * p).sum()  # multiply reads p
    with no_grad():
        p[0, 0] = 7.0
    assert p.data[0, 0] == 7.0 and p.is_leaf and p.op is None
    with pytest.raises(RuntimeError, match="in place"):
        y.backward()


def test_writes_into_a_constant_are_plain_and_keep_the_dtype():
    t = Tensor(np.zeros(3, np.float32))
    t[1] = np.float64(0.1)
    assert t.dtype == np.float32 and t.op is None and t.data[1] == np.float32(0.1)
    h = Tensor(np.zeros(3, np.float32), requires_grad=True) * 1.0
    h[0] = np.array(2.0)
    assert h.dtype == np.float32
    h.sum().backward()


def test_errors_name_the_problem():
    h = Tensor(A, requires_grad=True) * 1.0
    with pytest.raises(TypeError, match="cannot be an index"):
        h[Tensor([0.0])] = 1.0
    with pytest.raises(ValueError, match=r"setitem \(t\[index\] = value\): could not "
                                         r"broadcast .* value of shape \(3,\), index 0"):
        h[0] = np.ones(3)
    np.testing.assert_array_equal(h.data, A)  # nothing written



@pytest.mark.parametrize("leaf_shape, view", [
    ((12,), lambda a: a.reshape(3, 4)),  # a view of the leaf's own array
    ((3, 4), lambda a: (a * 1.0)[0]),  # of an intermediate that a node reads
    ((3, 4), lambda a: (a * 1.0).T),
], ids=["reshape", "getitem", "transpose"])
@pytest.mark.parametrize("write", ["setitem", "+="])
def test_a_recorded_write_into_a_view_is_refused_and_changes_nothing(leaf_shape, view, write):
    # once silent: t = leaf.reshape(...); t[0] = v (or t += v) wrote into the leaf's weights
    leaf = Tensor(A.reshape(leaf_shape), requires_grad=True)
    t = view(leaf)
    base = t.data.base.copy()
    with pytest.raises(RuntimeError, match=r"whose array is a view of another one"):
        if write == "setitem":
            t[0] = Tensor(np.ones(t.shape[1:]), requires_grad=True)
        else:
            t += Tensor(np.ones(t.shape), requires_grad=True)
    np.testing.assert_array_equal(t.data.base, base)
    np.testing.assert_array_equal(leaf.data, A.reshape(leaf_shape))
    c = t.copy()
    c[0] = Tensor(np.ones(c.shape[1:]), requires_grad=True)  # a copy owns its array
    np.testing.assert_array_equal(leaf.data, A.reshape(leaf_shape))
    assert c.op is ops.setitem
