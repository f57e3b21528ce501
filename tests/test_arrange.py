"""autograd.arrange and ops/arrange.py: numpy's building and rearranging functions on Tensors,
values against numpy and gradients against central differences (first and second order), on
ordinary, size-1, empty and 0-d shapes; cumprod's gradient with zeros; linspace's ends and
step; partition and select with ties and overlaps; numpy's errors.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Tensor, gradcheck, gradgradcheck


def normal(*shape):
    return lambda rng: rng.normal(size=shape)


def distinct(*shape):
    """Values at least 0.25 apart, so that a sort's order survives a finite difference."""
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n) - n / 2).reshape(shape) * 0.25


def joined(pieces, axis=0):
    """A split's pieces joined again, piece i times i + 1 (so that each piece's gradient counts)."""
    return np.concatenate([p * (i + 1) for i, p in enumerate(pieces)], axis=axis)


CONDITIONS = [np.array([[True, False, True], [False, False, True]]), np.array([True, True, False])]


# (numpy function, call, samplers): call on Tensors equals call on arrays and differentiates.
# tests/test_numpy_api.py runs these too, as its cases for the functions.
ARRANGE_CASES = [
    (np.atleast_1d, lambda x: np.atleast_1d(x), (normal(),)),
    (np.atleast_1d, lambda x, y: np.atleast_1d(x, y)[0] * np.atleast_1d(x, y)[1],
     (normal(), normal(2, 3))),
    (np.atleast_2d, lambda x: np.atleast_2d(x), (normal(3),)),
    (np.atleast_2d, lambda x: np.atleast_2d(x), (normal(),)),
    (np.atleast_3d, lambda x: np.atleast_3d(x), (normal(3),)),
    (np.atleast_3d, lambda x: np.atleast_3d(x), (normal(2, 3),)),
    (np.atleast_3d, lambda x: np.atleast_3d(x), (normal(),)),
    (np.hstack, lambda x, y: np.hstack([x, y]), (normal(2, 3), normal(2, 1))),
    (np.hstack, lambda x, y: np.hstack((x, y)), (normal(3), normal(0))),
    (np.hstack, lambda x, y: np.hstack([x, y]), (normal(), normal(2))),
    (np.vstack, lambda x, y: np.vstack([x, y]), (normal(3), normal(2, 3))),
    (np.vstack, lambda x, y: np.vstack([x, y]), (normal(), normal(1))),
    (np.dstack, lambda x, y: np.dstack([x, y]), (normal(3), normal(3))),
    (np.dstack, lambda x, y: np.dstack([x, y]), (normal(2, 3), normal(2, 3, 2))),
    (np.column_stack, lambda x, y: np.column_stack([x, y]), (normal(3), normal(3, 2))),
    (np.column_stack, lambda x: np.column_stack([x, 2.0 * x]), (normal(1),)),
    (np.append, lambda x, y: np.append(x, y), (normal(2, 3), normal(2))),
    (np.append, lambda x, y: np.append(x, y, axis=0), (normal(2, 3), normal(1, 3))),
    (np.append, lambda x: np.append(x, [1.0, 2.0]), (normal(),)),
    (np.repeat, lambda x: np.repeat(x, 3), (normal(2, 2),)),
    (np.repeat, lambda x: np.repeat(x, 2, axis=-1), (normal(2, 3),)),
    (np.repeat, lambda x: np.repeat(x, [2, 0, 1], axis=0), (normal(3, 2),)),
    (np.repeat, lambda x: np.repeat(x, 0, axis=1), (normal(2, 3),)),
    (np.repeat, lambda x: np.repeat(x, 4), (normal(),)),
    (np.repeat, lambda x: np.repeat(x, 2, axis=0), (normal(0, 3),)),
    (np.tile, lambda x: np.tile(x, 2), (normal(2, 3),)),
    (np.tile, lambda x: np.tile(x, (2, 1, 3)), (normal(2, 2),)),
    (np.tile, lambda x: np.tile(x, (3,)), (normal(),)),
    (np.tile, lambda x: np.tile(x, (0, 2)), (normal(2, 1),)),
    (np.pad, lambda x: np.pad(x, 1), (normal(2, 3),)),
    (np.pad, lambda x: np.pad(x, ((1, 0), (2, 3)), constant_values=((4.0, 5.0), (6.0, 7.0))),
     (normal(2, 3),)),
    (np.pad, lambda x: np.pad(x, (0, 2), mode="edge"), (normal(1, 3),)),
    (np.pad, lambda x: np.pad(x, ((3, 1), (2, 2)), mode="edge"), (normal(2, 3),)),
    (np.pad, lambda x: np.pad(x, (2, 7), mode="reflect"), (normal(3),)),  # past its length
    (np.pad, lambda x: np.pad(x, 2, mode="reflect"), (normal(1, 2),)),
    (np.pad, lambda x: np.pad(x, ((4, 9), (1, 0)), mode="wrap"), (normal(3, 2),)),
    (np.pad, lambda x: np.pad(x, 2), (normal(0, 2),)),
    (np.pad, lambda x: np.pad(x, 2), (normal(),)),
    (np.flip, lambda x: np.flip(x), (normal(2, 3, 2),)),
    (np.flip, lambda x: np.flip(x, (0, -1)), (normal(2, 3, 2),)),
    (np.flip, lambda x: np.flip(x), (normal(),)),
    (np.fliplr, lambda x: np.fliplr(x), (normal(2, 3),)),
    (np.flipud, lambda x: np.flipud(x), (normal(3),)),
    (np.rot90, lambda x: np.rot90(x), (normal(2, 3),)),
    (np.rot90, lambda x: np.rot90(x, 2), (normal(2, 3),)),
    (np.rot90, lambda x: np.rot90(x, -1, axes=(2, 0)), (normal(2, 3, 4),)),
    (np.rot90, lambda x: np.rot90(x, 4), (normal(2, 3),)),
    (np.roll, lambda x: np.roll(x, 4), (normal(2, 3),)),
    (np.roll, lambda x: np.roll(x, -1, axis=1), (normal(2, 3),)),
    (np.roll, lambda x: np.roll(x, (1, 5, -2), axis=(0, 1, 0)), (normal(3, 4),)),
    (np.roll, lambda x: np.roll(x, 2), (normal(0),)),
    (np.roll, lambda x: np.roll(x, 3), (normal(),)),
    (np.moveaxis, lambda x: np.moveaxis(x, 0, -1), (normal(2, 3, 4),)),
    (np.moveaxis, lambda x: np.moveaxis(x, (0, 2), (2, 1)), (normal(2, 3, 4),)),
    (np.diff, lambda x: np.diff(x), (normal(2, 4),)),
    (np.diff, lambda x: np.diff(x, n=3, axis=0), (normal(5, 2),)),
    (np.diff, lambda x, y: np.diff(x, prepend=1.5, append=y), (normal(2, 3), normal(2, 1))),
    (np.diff, lambda x: np.diff(x, n=2), (normal(1),)),
    (np.cumsum, lambda x: np.cumsum(x), (normal(2, 3),)),
    (np.cumsum, lambda x: np.cumsum(x, axis=0), (normal(3, 2),)),
    (np.cumsum, lambda x: np.cumsum(x, axis=1), (normal(2, 0),)),
    (np.cumsum, lambda x: np.cumsum(x), (normal(),)),
    (np.cumprod, lambda x: np.cumprod(x, axis=-1), (normal(2, 4),)),
    (np.cumprod, lambda x: np.cumprod(x), (normal(2, 3),)),
    (np.cumprod, lambda x: np.cumprod(x, axis=0), (normal(1, 3),)),
    (np.cumprod, lambda x: np.cumprod(x, axis=1), (normal(2, 0),)),
    (np.sort, lambda x: np.sort(x), (distinct(3, 4),)),
    (np.sort, lambda x: np.sort(x, axis=0), (distinct(3, 4),)),
    (np.sort, lambda x: np.sort(x, axis=None), (distinct(2, 3),)),
    (np.sort, lambda x: np.sort(x), (distinct(1),)),
    (np.sort, lambda x: np.sort(x), (normal(2, 0),)),
    (np.take_along_axis, lambda x: np.take_along_axis(x, np.array([[2, 0, 2]]), axis=1),
     (normal(1, 4),)),
    (np.take_along_axis, lambda x: np.take_along_axis(x, np.array([[1], [0], [1]]), axis=0),
     (normal(2, 3),)),
    (np.take_along_axis, lambda x: np.take_along_axis(x, np.array([5, 0, 5]), axis=None),
     (normal(2, 3),)),
    (np.take, lambda x: np.take(x, [4, 0, 4]), (normal(2, 3),)),
    (np.take, lambda x: np.take(x, [[1, -1], [0, 1]], axis=1), (normal(2, 3),)),
    (np.take, lambda x: np.take(x, 2, axis=0), (normal(3, 2),)),
    (np.copy, lambda x: np.copy(x), (normal(2, 3),)),
    (np.copy, lambda x: np.copy(x), (normal(),)),
    (np.linspace, lambda x, y: np.linspace(x, y, 5), (normal(), normal())),
    (np.linspace, lambda x, y: np.linspace(x, y, 4, endpoint=False, axis=-1),
     (normal(2, 1), normal(3))),
    (np.linspace, lambda x: np.linspace(x, 2.5, 1), (normal(2),)),
    (np.linspace, lambda x: np.linspace(-1.0, x, 2, axis=1), (normal(2, 3),)),
    (np.linspace, lambda x: np.linspace(x, x, 3), (normal(),)),  # a zero step: numpy's branch
    (np.linspace, lambda x, y: np.linspace(x, y, 0), (normal(2), normal(2))),
    (np.array_split, lambda x: joined(np.array_split(x, 3)), (normal(7),)),
    (np.array_split, lambda x: joined(np.array_split(x, [1, 5], axis=1), 1), (normal(2, 6),)),
    (np.array_split, lambda x: joined(np.array_split(x, 4)), (normal(2, 2),)),  # empty pieces
    (np.array_split, lambda x: joined(np.array_split(x, 2, axis=-1), -1), (normal(3, 0),)),
    (np.vsplit, lambda x: joined(np.vsplit(x, 2)), (normal(4, 2),)),
    (np.hsplit, lambda x: joined(np.hsplit(x, [1, 3]), 1), (normal(2, 4),)),
    (np.hsplit, lambda x: joined(np.hsplit(x, 2)), (normal(4),)),
    (np.dsplit, lambda x: joined(np.dsplit(x, 2), 2), (normal(1, 2, 4),)),
    (np.rollaxis, lambda x: np.rollaxis(x, 2), (normal(2, 3, 4),)),
    (np.rollaxis, lambda x: np.rollaxis(x, 0, 3), (normal(2, 3, 4),)),
    (np.rollaxis, lambda x: np.rollaxis(x, -1, -2), (normal(2, 3, 4),)),
    (np.rollaxis, lambda x: np.rollaxis(x, 1, 1), (normal(2, 3),)),
    (np.partition, lambda x: np.partition(x, 2), (distinct(5),)),
    (np.partition, lambda x: np.partition(x, [1, 4], axis=1), (distinct(3, 6),)),
    (np.partition, lambda x: np.partition(x, -1, axis=None), (distinct(2, 3),)),
    (np.partition, lambda x: np.partition(x, 0, axis=0), (distinct(1, 3),)),
    (np.partition, lambda x: np.partition(x, 1, axis=0), (normal(3, 0),)),
    (np.select, lambda x, y: np.select(CONDITIONS, [x, y], default=0.5),
     (normal(2, 3), normal(3))),
    (np.select, lambda x, y, z: np.select(CONDITIONS[::-1], [x, y], default=z),
     (normal(3), normal(1), normal(2, 1))),
    (np.select, lambda x: np.select([x > 0.1, x < -0.6], [x, 2 * x], default=-x),
     (normal(2, 3),)),
    (np.select, lambda x: np.select([np.ones((0, 3), bool)], [x]), (normal(3),)),
]
IDS = [f"{f.__name__}-{i}" for i, (f, _, _) in enumerate(ARRANGE_CASES)]


def _inputs(samplers, dtype=np.float64):
    rng = np.random.default_rng(0)
    return [sample(rng).astype(dtype) for sample in samplers]


@pytest.mark.parametrize("func, call, samplers", ARRANGE_CASES, ids=IDS)
def test_values_match_numpy_and_gradients_both_orders(func, call, samplers):
    arrays = _inputs(samplers)
    x = [Tensor(a, requires_grad=True) for a in arrays]
    out, want = call(*x), call(*arrays)
    assert isinstance(out, Tensor) and out.shape == np.shape(want)
    np.testing.assert_array_equal(out.data, want)
    weights = np.random.default_rng(1).normal(size=out.shape)
    assert gradcheck(lambda *t: call(*t) * weights, *x)
    assert gradgradcheck(lambda *t: call(*t) * weights, *x)


@pytest.mark.parametrize("func, call, samplers", ARRANGE_CASES, ids=IDS)
def test_float32_stays_float32(func, call, samplers):
    x = [Tensor(a, requires_grad=True) for a in _inputs(samplers, np.float32)]
    out = call(*x)
    assert out.dtype == np.float32
    out.backward(np.ones(out.shape, np.float32))
    assert all(t.grad.dtype == np.float32 and t.grad.shape == t.shape for t in x)


def test_every_function_of_the_module_has_a_case():
    tested = {f.__name__ for f, _, _ in ARRANGE_CASES}
    public = {n for n, v in vars(autograd.arrange).items()
              if callable(v) and not n.startswith("_") and v.__module__ == "autograd.arrange"}
    assert public <= tested, public - tested


# ---------------------------------------------------------------- cumprod: exact with zeros
@pytest.mark.parametrize("values", [
    [2.0, 0.0, 3.0, -1.5], [0.0, 0.0, 2.0, 3.0], [1.5, -2.0, 0.5, 0.0], [0.0], [0.0, 4.0],
])
def test_cumprod_gradient_is_exact_where_elements_are_zero(values):
    x = np.array(values)
    t = Tensor(x, requires_grad=True)
    weights = np.arange(1.0, len(x) + 1)
    (np.cumprod(t) * weights).sum().backward()
    # closed form: d/dx_i sum_j w_j prod_{k<=j} x_k = sum_{j>=i} w_j prod_{k<=j, k!=i} x_k
    want = [sum(weights[j] * np.prod(np.delete(x[:j + 1], i)) for j in range(i, len(x)))
            for i in range(len(x))]
    np.testing.assert_array_equal(t.grad, want)
    assert gradgradcheck(lambda u: np.cumprod(u) * weights, Tensor(x, requires_grad=True))


def test_cumprod_with_zeros_matches_central_differences_batched():
    x = np.random.default_rng(2).normal(size=(3, 5, 2))
    x[0, 1, 0] = x[2, 3, 1] = x[2, 0, 1] = 0.0
    assert gradcheck(lambda t: np.cumprod(t, axis=1) * np.arange(30.0).reshape(3, 5, 2),
                     Tensor(x, requires_grad=True))


def test_cumsum_and_cumprod_tensor_methods_and_ufunc_accumulate():
    x = np.random.default_rng(3).normal(size=(3, 4))
    t = Tensor(x, requires_grad=True)
    np.testing.assert_array_equal(t.cumsum(1).data, x.cumsum(1))
    np.testing.assert_array_equal(t.cumprod().data, x.cumprod())
    np.testing.assert_array_equal(np.add.accumulate(t).data, np.add.accumulate(x))
    np.testing.assert_array_equal(np.multiply.accumulate(t, axis=1).data,
                                  np.multiply.accumulate(x, axis=1))
    assert np.add.accumulate(t).op is autograd.ops.cumsum


def test_sort_sends_each_gradient_to_the_element_it_came_from():
    t = Tensor([3.0, 1.0, 2.0, 1.0], requires_grad=True)
    out = np.sort(t)
    np.testing.assert_array_equal(out.data, [1.0, 1.0, 2.0, 3.0])
    (out * np.array([10.0, 20.0, 30.0, 40.0])).sum().backward()
    np.testing.assert_array_equal(t.grad, [40.0, 10.0, 30.0, 20.0])  # ties: numpy's stable order


def test_copy_and_clone_are_new_arrays_in_the_graph():
    t = Tensor([1.0, 2.0], requires_grad=True)
    for c in (t.copy(), t.clone(), np.copy(t)):
        assert c.data is not t.data and not np.shares_memory(c.data, t.data)
        assert c.op is autograd.ops.copy and c.parents == (t,)
    u = Tensor([1.0, 2.0])
    c = u.clone()
    c.data[0] = 9.0
    assert u.data[0] == 1.0


def test_take_method_matches_numpy():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Tensor(x).take([0, 5]).data, x.take([0, 5]))
    np.testing.assert_array_equal(Tensor(x).take([2], axis=1).data, x.take([2], axis=1))


# ---------------------------------------------------------------- linspace, partition, select
@pytest.mark.parametrize("num, endpoint", [(5, True), (4, False), (1, True), (1, False)])
def test_linspace_sends_each_sample_to_both_ends_in_proportion(num, endpoint):
    start, stop = Tensor(-1.5, requires_grad=True), Tensor(2.0, requires_grad=True)
    samples, step = np.linspace(start, stop, num, endpoint=endpoint, retstep=True)
    want, want_step = np.linspace(-1.5, 2.0, num, endpoint=endpoint, retstep=True)
    np.testing.assert_array_equal(samples.data, want)
    weights = np.arange(1.0, num + 1)
    (samples * weights).sum().backward()
    div = num - 1 if endpoint else num
    share = np.arange(num) / div if div else np.zeros(num)  # closed form: i / div
    np.testing.assert_allclose(stop.grad, weights @ share, rtol=1e-15)
    np.testing.assert_allclose(start.grad, weights @ (1 - share), rtol=1e-15)
    if div:
        assert float(step) == want_step
        (grad,) = autograd.grad(step, [stop])
        assert float(grad) == 1 / div
    else:
        assert np.isnan(step) and np.isnan(want_step)


def test_linspace_dtype_and_float32():
    start = Tensor(np.float32(0.5), requires_grad=True)
    out = np.linspace(start, 3, 7)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out.data, np.linspace(np.float32(0.5), 3, 7))
    assert np.linspace(start, 3, 7, dtype=np.float64).dtype == np.float64
    assert gradgradcheck(lambda a, b: np.linspace(a, b, 6, axis=-1) ** 2,
                         Tensor([0.5, -1.0], requires_grad=True),
                         Tensor([[2.0], [3.0]], requires_grad=True))


@pytest.mark.parametrize("start, stop", [(0.0, 5e-324), (-0.0, 1e-310), (2.0, 2.0)])
def test_linspace_with_a_zero_or_denormal_step_gives_numpys_values(start, stop):
    for num in (3, 4):
        out = np.linspace(Tensor(start, requires_grad=True), stop, num, endpoint=num == 3)
        np.testing.assert_array_equal(out.data, np.linspace(start, stop, num, endpoint=num == 3))


def test_partition_with_ties_gives_numpys_values_and_moves_each_gradient_once():
    x = np.random.default_rng(5).integers(0, 4, size=(3, 40)).astype(float)  # many ties
    for kth in (0, 17, [3, 20, 39]):
        t = Tensor(x, requires_grad=True)
        out = np.partition(t, kth, axis=1)
        np.testing.assert_array_equal(out.data, np.partition(x, kth, axis=1))
        weights = np.random.default_rng(6).normal(size=x.shape)
        (out * weights).sum().backward()
        # a permutation per row: each input gets exactly one weight, and equal values only
        np.testing.assert_array_equal(np.sort(t.grad, axis=1), np.sort(weights, axis=1))
        for row in range(3):
            for value in range(4):
                got = np.sort(t.grad[row][x[row] == value])
                np.testing.assert_array_equal(got, np.sort(weights[row][out.data[row] == value]))


def test_select_takes_the_first_condition_that_holds():
    x, y = Tensor([1.0, 2.0, 3.0], requires_grad=True), Tensor([10.0, 20.0, 30.0],
                                                               requires_grad=True)
    out = np.select([np.array([True, False, False]), np.array([True, True, False])], [x, y],
                    default=-1.0)
    np.testing.assert_array_equal(out.data, [1.0, 20.0, -1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(y.grad, [0.0, 1.0, 0.0])


def test_append_of_a_list_holding_tensors_is_recorded():
    a, b = Tensor(1.0, requires_grad=True), Tensor([2.0, 3.0], requires_grad=True)
    out = np.append([[a, 0.5]], b)
    np.testing.assert_array_equal(out.data, [1.0, 0.5, 2.0, 3.0])
    (out * np.array([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert float(a.grad) == 1.0
    np.testing.assert_array_equal(b.grad, [3.0, 4.0])


# ---------------------------------------------------------------- errors that name the problem
@pytest.mark.parametrize("call, error, message", [
    (lambda t: np.pad(t, 1, mode="symmetric"), ValueError, r"pad: mode 'symmetric' has no "),
    (lambda t: np.pad(t[:, :0], 1, mode="wrap"), ValueError, r"axis 1 of length 0"),
    (lambda t: np.pad(t, -1), ValueError, r"non-negative"),
    (lambda t: np.repeat(t, -1), ValueError, r"repeats must be non-negative"),
    (lambda t: np.roll(t, 1, axis=2), np.exceptions.AxisError, r"roll: axis 2 is out of bounds"),
    (lambda t: np.moveaxis(t, [0, 0], [0, 1]), ValueError, r"repeated axis"),
    (lambda t: np.rot90(t, axes=(1, 1)), ValueError, r"same axis"),
    (lambda t: np.fliplr(t[0]), ValueError, r"fliplr: needs at least 2"),
    (lambda t: np.diff(t.sum()), ValueError, r"diff: needs at least 1"),
    (lambda t: np.take(t, [0.5]), IndexError, r"take: indices must be integers"),
    (lambda t: np.take(t, [7]), IndexError, r"out of bounds"),
    (lambda t: np.take_along_axis(t, np.array([0]), axis=0), ValueError, r"same number"),
    (lambda t: np.cumsum(t, axis=3), np.exceptions.AxisError, r"cumsum: axis 3"),
    (lambda t: np.cumsum(t, out=np.empty(6)), TypeError, r"dtype=/out="),
    (lambda t: np.sort(t, order="x"), TypeError, r"no fields"),
    (lambda t: autograd.arrange.hstack([]), ValueError, r"hstack: needs at least one"),
    (lambda t: np.linspace(t, 1.0, -1), ValueError, r"linspace: number of samples, -1"),
    (lambda t: np.linspace(t, 1.0, 3, dtype=int), TypeError, r"dtype=int64.*np\.linspace"),
    (lambda t: np.array_split(t, 0), ValueError, r"array_split: the number of sections"),
    (lambda t: np.array_split(t, 2, axis=2), np.exceptions.AxisError, r"array_split: axis 2"),
    (lambda t: np.vsplit(t[0], 3), ValueError, r"vsplit: needs an array of at least 2 dim"),
    (lambda t: np.dsplit(t, 3), ValueError, r"dsplit: needs an array of at least 3 dim"),
    (lambda t: np.hsplit(t, 2), ValueError, r"split: an axis of length 3 does not split"),
    (lambda t: np.rollaxis(t, 0, 3), np.exceptions.AxisError, r"rollaxis: start 3 must be"),
    (lambda t: np.rollaxis(t, -3), np.exceptions.AxisError, r"rollaxis: axis -3 is out of"),
    (lambda t: np.partition(t, 3), ValueError, r"kth\(=3\) out of bounds"),
    (lambda t: np.partition(t, 1, order="x"), TypeError, r"partition.*no fields"),
    (lambda t: np.select([t.data > 0], [t, t]), ValueError, r"select: 1 conditions and 2 "),
    (lambda t: autograd.arrange.select([], []), ValueError, r"select: an empty condition list"),
    (lambda t: np.select([t], [t]), TypeError, r"select: entry 0 of condlist should be a bool"),
])
def test_errors_name_the_function_and_the_problem(call, error, message):
    with pytest.raises(error, match=message):
        call(Tensor(np.ones((2, 3)), requires_grad=True))


# ---------------------------------------------------------------- properties over shapes
@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3))
def test_roll_flip_and_pad_match_numpy_on_any_shape(data, shape):
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2)), label="x")
    axis = data.draw(st.integers(0, len(shape) - 1), label="axis")
    shift = data.draw(st.integers(-7, 7), label="shift")
    width = data.draw(st.tuples(st.integers(0, 4), st.integers(0, 4)), label="width")
    mode = data.draw(st.sampled_from(["constant", "edge", "reflect", "wrap"]), label="mode")
    widths = [(0, 0)] * len(shape)
    widths[axis] = width
    calls = [lambda a: np.roll(a, shift, axis=axis), lambda a: np.flip(a, axis),
             lambda a: np.cumsum(a, axis=axis)]
    if shape[axis] or mode == "constant":
        calls.append(lambda a: np.pad(a, widths, mode=mode))
    for call in calls:
        t = Tensor(x, requires_grad=True)
        out = call(t)
        np.testing.assert_array_equal(out.data, call(x))
        w = np.random.default_rng(0).normal(size=out.shape)
        assert gradcheck(lambda u, call=call, w=w: call(u) * w, t)


@settings(max_examples=25, deadline=None)
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5))
def test_array_split_and_partition_match_numpy_on_any_shape(data, shape):
    x = data.draw(hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(float)),
                  label="x")  # small integers: many ties for partition
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    sections = data.draw(st.integers(1, 6), label="sections")
    t = Tensor(x, requires_grad=True)
    pieces = np.array_split(t, sections, axis=axis)
    for got, want in zip(pieces, np.array_split(x, sections, axis=axis), strict=True):
        np.testing.assert_array_equal(got.data, want)
    joined(pieces, axis).sum().backward()
    sizes = [p.shape[axis] for p in pieces]
    counts = np.repeat(np.arange(1.0, sections + 1), sizes)  # piece i counts i + 1 times
    np.testing.assert_array_equal(t.grad, np.broadcast_to(
        counts.reshape([-1 if d == axis % len(shape) else 1 for d in range(len(shape))]), shape))
    if shape[axis]:
        kth = data.draw(st.integers(-shape[axis], shape[axis] - 1), label="kth")
        u = Tensor(x, requires_grad=True)
        out = np.partition(u, kth, axis=axis)
        np.testing.assert_array_equal(out.data, np.partition(x, kth, axis=axis))
        w = np.random.default_rng(0).normal(size=shape)
        (out * w).sum().backward()
        np.testing.assert_array_equal(np.sort(u.grad, axis=axis), np.sort(w, axis=axis))
