"""autograd.contractions through numpy (np.einsum(..., t), np.tensordot, np.dot, np.cross, ...):
values against numpy, gradients against float64 central differences (first and second order),
edge shapes (0-d, size-1, empty axes), float32, the chain of two-operand einsums, and errors.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
from autograd import Tensor, gradcheck, gradgradcheck, ops
from autograd import contractions as ct


def normal(*shape):
    return lambda rng: rng.normal(size=shape)


CASES = [
    # einsum: explicit and implicit outputs, ellipsis, repeated letters, chains
    ("einsum-matmul", lambda x, y: np.einsum("ij,jk->ik", x, y), (normal(2, 3), normal(3, 4))),
    ("einsum-implicit", lambda x, y: np.einsum("ij,jk", x, y), (normal(2, 3), normal(3, 4))),
    ("einsum-implicit-order", lambda x: np.einsum("ba", x), (normal(2, 3),)),
    ("einsum-trace", lambda x: np.einsum("ii", x), (normal(3, 3),)),
    ("einsum-diagonal", lambda x: np.einsum("ii->i", x), (normal(3, 3),)),
    ("einsum-diagonal-3", lambda x: np.einsum("iii->i", x), (normal(2, 2, 2),)),
    ("einsum-repeated-with-other", lambda x, y: np.einsum("iij,i->j", x, y),
     (normal(3, 3, 2), normal(3))),
    ("einsum-sum", lambda x: np.einsum("ij->", x), (normal(2, 3),)),
    ("einsum-transpose", lambda x: np.einsum("ijk->kji", x), (normal(2, 3, 4),)),
    ("einsum-ellipsis", lambda x, y: np.einsum("...ij,...jk->...ik", x, y),
     (normal(2, 1, 2, 3), normal(4, 3, 2))),
    ("einsum-ellipsis-implicit", lambda x, y: np.einsum("...i,...i", x, y),
     (normal(2, 3), normal(3))),
    ("einsum-ellipsis-middle", lambda x: np.einsum("i...i->...", x), (normal(3, 2, 3),)),
    ("einsum-broadcast-size-1", lambda x, y: np.einsum("ij,ij->ij", x, y),
     (normal(3, 1), normal(3, 4))),
    ("einsum-outer", lambda x, y: np.einsum("i,j->ij", x, y), (normal(3), normal(2))),
    ("einsum-0d", lambda x, y: np.einsum(",ij->ij", x, y), (normal(), normal(2, 3))),
    ("einsum-3-operands", lambda x, y, z: np.einsum("ij,jk,kl->il", x, y, z),
     (normal(2, 3), normal(3, 4), normal(4, 2))),
    ("einsum-3-optimize", lambda x, y, z: np.einsum("ij,jk,kl->il", x, y, z, optimize=True),
     (normal(2, 3), normal(3, 4), normal(4, 2))),
    ("einsum-4-shared-letter", lambda w, x, y, z: np.einsum("i,i,ij,j->", w, x, y, z,
                                                           optimize="greedy"),
     (normal(3), normal(3), normal(3, 2), normal(2))),
    ("einsum-sublists", lambda x, y: np.einsum(x, [0, 1], y, [1, 2], [2, 0]),
     (normal(2, 3), normal(3, 4))),
    ("einsum-sublists-ellipsis", lambda x: np.einsum(x, [Ellipsis, 0, 0]), (normal(2, 3, 3),)),
    # tensordot and dot for any dimensions
    ("tensordot-2", lambda x, y: np.tensordot(x, y), (normal(2, 3, 4), normal(3, 4, 2))),
    ("tensordot-0", lambda x, y: np.tensordot(x, y, axes=0), (normal(2), normal(3))),
    ("tensordot-pairs", lambda x, y: np.tensordot(x, y, axes=([0, 2], [2, 0])),
     (normal(2, 3, 4), normal(4, 5, 2))),
    ("tensordot-int-axes", lambda x, y: np.tensordot(x, y, axes=(1, 0)),
     (normal(2, 3), normal(3, 4))),
    ("dot-0d", lambda x, y: np.dot(x, y), (normal(), normal(2, 3))),
    ("dot-1d-1d", lambda x, y: np.dot(x, y), (normal(3), normal(3))),
    ("dot-2d-1d", lambda x, y: np.dot(x, y), (normal(2, 3), normal(3))),
    ("dot-1d-2d", lambda x, y: np.dot(x, y), (normal(3), normal(3, 2))),
    ("dot-3d-3d", lambda x, y: np.dot(x, y), (normal(2, 2, 3), normal(4, 3, 2))),
    ("dot-method", lambda x, y: x.dot(y), (normal(2, 3), normal(3, 2))),
    ("vdot", lambda x, y: np.vdot(x, y), (normal(2, 3), normal(6))),
    ("inner-1d", lambda x, y: np.inner(x, y), (normal(3), normal(3))),
    ("inner-nd", lambda x, y: np.inner(x, y), (normal(2, 3), normal(4, 2, 3))),
    ("inner-0d", lambda x, y: np.inner(x, y), (normal(2), normal())),
    ("outer", lambda x, y: np.outer(x, y), (normal(2, 2), normal(3))),
    ("kron-1d", lambda x, y: np.kron(x, y), (normal(2), normal(3))),
    ("kron-2d", lambda x, y: np.kron(x, y), (normal(2, 3), normal(2, 2))),
    ("kron-mixed", lambda x, y: np.kron(x, y), (normal(2, 1, 2), normal(3))),
    # traces, diagonals, triangles
    ("trace", lambda x: np.trace(x), (normal(3, 3),)),
    ("trace-offset-axes", lambda x: np.trace(x, -1, 2, 0), (normal(3, 2, 4),)),
    ("trace-method", lambda x: x.trace(1), (normal(3, 4),)),
    ("diagonal", lambda x: np.diagonal(x), (normal(3, 4),)),
    ("diagonal-offset", lambda x: np.diagonal(x, 2, 1, 2), (normal(2, 3, 4),)),
    ("diagonal-method", lambda x: x.diagonal(-1), (normal(4, 3),)),
    ("diag-from-vector", lambda x: np.diag(x), (normal(3),)),
    ("diag-from-vector-k", lambda x: np.diag(x, -2), (normal(2),)),
    ("diag-of-matrix", lambda x: np.diag(x, 1), (normal(3, 3),)),
    ("tril", lambda x: np.tril(x), (normal(3, 4),)),
    ("tril-k-batched", lambda x: np.tril(x, -1), (normal(2, 3, 3),)),
    ("tril-1d", lambda x: np.tril(x, 1), (normal(3),)),
    ("triu", lambda x: np.triu(x), (normal(4, 3),)),
    ("triu-k", lambda x: np.triu(x, 2), (normal(2, 3, 4),)),
    # size-1 and empty axes
    ("einsum-size-1", lambda x, y: np.einsum("ij,jk->ik", x, y), (normal(1, 1), normal(1, 3))),
    ("einsum-empty-sum", lambda x, y: np.einsum("ij,jk->ik", x, y),
     (normal(2, 0), normal(0, 3))),
    ("tensordot-empty", lambda x, y: np.tensordot(x, y, axes=1), (normal(0, 2), normal(2, 3))),
    ("diagonal-empty", lambda x: np.diagonal(x, 5), (normal(3, 3),)),
    ("trace-1x1", lambda x: np.trace(x), (normal(1, 1),)),
    ("kron-size-1", lambda x, y: np.kron(x, y), (normal(1, 1), normal(2, 1))),
    # cross products: batched, broadcast, moved axes, size-1 and empty batches
    ("cross", lambda x, y: np.cross(x, y), (normal(3), normal(3))),
    ("cross-broadcast", lambda x, y: np.cross(x, y), (normal(4, 3), normal(2, 1, 3))),
    ("cross-axes", lambda x, y: np.cross(x, y, axisa=0, axisb=1, axisc=0),
     (normal(3, 2), normal(2, 3))),
    ("cross-axis", lambda x, y: np.cross(x, y, axis=0), (normal(3, 2), normal(3, 1))),
    ("cross-plain", lambda x: np.cross(x, np.array([0.5, -1.0, 2.0])), (normal(2, 3),)),
    ("cross-size-1", lambda x, y: np.cross(x, y), (normal(1, 3), normal(3))),
    ("cross-empty", lambda x, y: np.cross(x, y), (normal(0, 3), normal(0, 3))),
]
IDS = [case[0] for case in CASES]


def make(samplers, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(np.asarray(s(rng), dtype=dtype), requires_grad=True) for s in samplers]


def weighted(call, shape):
    weights = np.random.default_rng(1).normal(size=shape)
    return lambda *x: call(*x) * weights


@pytest.mark.parametrize("name, call, samplers", CASES, ids=IDS)
def test_values_match_numpy(name, call, samplers):
    x = make(samplers)
    out = call(*x)
    assert isinstance(out, Tensor)
    want = call(*[t.data for t in x])
    assert out.shape == np.shape(want)
    np.testing.assert_allclose(out.data, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name, call, samplers", CASES, ids=IDS)
def test_gradients_match_central_differences(name, call, samplers):
    x = make(samplers)
    assert gradcheck(weighted(call, call(*x).shape), *x)


@pytest.mark.parametrize("name, call, samplers", CASES, ids=IDS)
def test_second_derivatives_match_central_differences(name, call, samplers):
    x = make(samplers)
    assert gradgradcheck(weighted(call, call(*x).shape), *x)


@pytest.mark.parametrize("name, call, samplers", CASES, ids=IDS)
def test_float32_in_float32_out(name, call, samplers):
    x = make(samplers, np.float32)
    out = call(*x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert all(t.grad.dtype == np.float32 for t in x)


# ---------------------------------------------------------------- how einsum runs
def _einsum_nodes(out):
    nodes, stack = [], [out]
    while stack:
        t = stack.pop()
        if t.op is not None:
            nodes += [t] if t.op in (ops.einsum, ops.einsum_unary) else []
            stack.extend(t.parents)
    return nodes


@pytest.mark.parametrize("optimize", [False, True, "greedy", "optimal",
                                      ["einsum_path", (2, 3), (0, 1), (0, 1)]])
def test_an_einsum_of_n_operands_is_a_chain_of_n_minus_1_and_passes_optimize_on(optimize):
    x = make((normal(2, 3), normal(3, 4), normal(4, 5), normal(5, 2)))
    out = np.einsum("ij,jk,kl,lm->im", *x, optimize=optimize)
    nodes = _einsum_nodes(out)
    passed = optimize if isinstance(optimize, (bool, str)) else True  # a path: for all at once
    assert len(nodes) == 3 and all(n.attrs["optimize"] == passed for n in nodes)
    np.testing.assert_allclose(out.data, np.linalg.multi_dot([t.data for t in x]), rtol=1e-12)


def test_the_gradient_of_an_einsum_is_an_einsum():
    x, y = make((normal(2, 3), normal(3, 4)))
    (gx,) = autograd.grad(np.einsum("ij,jk->", x, y), x, create_graph=True)
    assert gx.op in (ops.einsum, ops.einsum_unary)
    np.testing.assert_allclose(gx.data, np.broadcast_to(y.data.sum(axis=1), (2, 3)))


def test_a_trace_gradient_lands_on_the_diagonal_only():
    (x,) = make((normal(3, 3),))
    np.einsum("ii", x).backward()
    np.testing.assert_array_equal(x.grad, np.eye(3))


def test_tril_passes_no_gradient_and_no_nan_from_the_other_triangle():
    x = Tensor(np.triu(np.full((3, 3), np.inf), 1) + np.tril(np.ones((3, 3))), requires_grad=True)
    out = np.tril(x)
    np.testing.assert_array_equal(out.data, np.tril(x.data))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.tril(np.ones((3, 3))))


def test_plain_arrays_give_a_constant_tensor():
    out = ct.einsum("ij,jk", np.ones((2, 3)), np.ones((3, 2)))
    assert isinstance(out, Tensor) and not out.requires_grad
    np.testing.assert_array_equal(out.data, np.full((2, 2), 3.0))


@pytest.mark.parametrize("shapes", [((2,), (2,)), ((4, 2), (3,)), ((3,), (2, 1, 2)),
                                    ((2, 2), (2, 2))])
def test_cross_of_2_vectors_is_numpys_and_deprecated_as_numpy_says(shapes):
    x = make([normal(*s) for s in shapes])
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        out = np.cross(*x)
    with pytest.warns(DeprecationWarning):
        want = np.cross(*(t.data for t in x))
    np.testing.assert_array_equal(out.data, want)
    with pytest.warns(DeprecationWarning):
        assert gradcheck(weighted(np.cross, out.shape), *x)
        assert gradgradcheck(weighted(np.cross, out.shape), *x)


def test_cross_gradient_is_the_closed_form():
    # d/da <w, a x b> = b x w and d/db = w x a
    a, b = make((normal(3), normal(3)))
    w = np.array([0.5, -2.0, 1.5])
    (np.cross(a, b) * w).sum().backward()
    np.testing.assert_allclose(a.grad, np.cross(b.data, w), rtol=1e-14)
    np.testing.assert_allclose(b.grad, np.cross(w, a.data), rtol=1e-14)


# ---------------------------------------------------------------- errors that name the problem
@pytest.mark.parametrize("call, error, message", [
    (lambda x: np.einsum("ij,jk", x), ValueError, r"einsum: 'ij,jk' names 2 operands, got 1"),
    (lambda x: np.einsum("ijk", x), ValueError, r"einsum: 'ijk' does not fit operands of shapes"),
    (lambda x: np.einsum("ij,jk", x, np.ones((4, 2))), ValueError,
     r"einsum: 'ij,jk': letter 'j' has size 3 and 4 \(operands of shapes \(2, 3\), \(4, 2\)\)"),
    (lambda x: np.einsum("ij", x, out=np.empty(3)), TypeError, r"takes only optimize="),
    (lambda x: np.einsum("ij,jk->iz", x, np.ones((3, 2))), ValueError, r"einsum: 'ij,jk->iz': "),
    (lambda x: np.tensordot(x, np.ones((3, 2))), ValueError,
     r"tensordot: axes \[0, 1\] of a \(2, 3\) and \[0, 1\] of b \(3, 2\) do not pair up"),
    (lambda x: np.tensordot(x, np.ones((4, 2)), axes=1), ValueError,
     r"tensordot: axes \[1\] of a \(2, 3\) and \[0\] of b \(4, 2\) do not pair up"),
    (lambda x: np.vdot(x, np.ones(5)), ValueError, r"vdot: operands of shapes \(2, 3\) and \(5,\)"),
    (lambda x: np.diag(x[None]), ValueError, r"diag: input must be 1-D or 2-D, got shape"),
    (lambda x: np.diagonal(x[0]), ValueError, r"diagonal: needs at least 2 dimensions"),
    (lambda x: np.trace(x, out=np.empty(())), TypeError, r"np\.trace\(\.\.\., out="),
    (lambda x: np.cross(x, np.ones((2, 4))), ValueError,
     r"cross: vectors must have 2 or 3 components, got 3 and 4"),
    (lambda x: np.cross(x.sum(), x), ValueError, r"cross: needs vectors, got shapes \(\)"),
    (lambda x: np.cross(x, x, axisa=2), np.exceptions.AxisError, r"cross \(axisa\): axis 2"),
    (lambda x: np.cross(x, x, axisc=2), np.exceptions.AxisError, r"cross \(axisc\): axis 2"),
])
def test_bad_calls_raise_naming_the_function(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((2, 3)), requires_grad=True))


# ---------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None)
@given(batch=st.lists(st.integers(1, 3), max_size=2), ones=st.lists(st.booleans(), min_size=2,
       max_size=2), drop=st.booleans(), n=st.integers(0, 3), seed=st.integers(0, 100))
def test_a_batched_einsum_matches_matmul(batch, ones, drop, n, seed):
    # broadcast batch axes (size 1 or missing), size-1 and empty contractions: as @ does
    batch_y = [1 if one else b for b, one in zip(batch, ones)][1 if drop else 0:]
    shape_x, shape_y = (*batch, 2, n), (*batch_y, n, 3)
    rng = np.random.default_rng(seed)
    x1, y1 = Tensor(rng.normal(size=shape_x), requires_grad=True), Tensor(
        rng.normal(size=shape_y), requires_grad=True)
    x2, y2 = Tensor(x1.data, requires_grad=True), Tensor(y1.data, requires_grad=True)
    out = np.einsum("...ij,...jk->...ik", x1, y1)
    ref = x2 @ y2
    np.testing.assert_allclose(out.data, ref.data, atol=1e-12)
    g = rng.normal(size=out.shape)
    (out * g).sum().backward()
    (ref * g).sum().backward()
    np.testing.assert_allclose(x1.grad, x2.grad, atol=1e-12)
    np.testing.assert_allclose(y1.grad, y2.grad, atol=1e-12)
