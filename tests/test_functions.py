"""The functions of several tensors: where, maximum, minimum, logaddexp, concatenate, stack, split.

Values against numpy, gradients against float64 central differences, over hypothesis-drawn
shapes that broadcast (0-d and size-1 included); ties split the gradient as PyTorch does; the
joining functions send gradients back to every piece that needs one, including when pieces
that need none (constants, plain arrays) are mixed in; float32 stays float32.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import (
    Tensor,
    concatenate,
    gradcheck,
    logaddexp,
    maximum,
    minimum,
    split,
    stack,
    where,
)

PROPERTY = settings(max_examples=30, deadline=None)
SHAPES_2 = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)
SHAPES_3 = hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3)


def arrays(shape, low=-2.0, high=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(low, high))


def on_grid(shape, offset):
    """Whole numbers plus `offset`: two grids 0.5 apart never tie, so no difference flips."""
    return hnp.arrays(np.float64, shape, elements=st.integers(-3, 3).map(lambda k: k + offset))


def weighted(fn, shape, seed=1):
    """fn times fixed random weights, so that every output element is checked."""
    weights = np.random.default_rng(seed).normal(size=shape)
    return lambda *xs: fn(*xs) * weights


def check(fn, ref, *values):
    """fn's value equals numpy's; its gradients match central differences and have the shapes
    of the inputs."""
    x = [Tensor(v, requires_grad=True) for v in values]
    out = fn(*x)
    np.testing.assert_allclose(out.data, ref(*values), rtol=1e-12, atol=1e-12)
    assert gradcheck(weighted(fn, out.shape), *x)
    out.backward(np.ones(out.shape))
    assert [t.grad.shape for t in x] == [t.shape for t in x]


# ---------------------------------------------------------------- selections, with broadcasting
@pytest.mark.parametrize("fn, ref", [(maximum, np.maximum), (minimum, np.minimum)])
@PROPERTY
@given(data=st.data(), shapes=SHAPES_2)
def test_maximum_and_minimum_broadcast(fn, ref, data, shapes):
    a, b = shapes.input_shapes
    check(fn, ref, data.draw(on_grid(a, 0.0), label="x"), data.draw(on_grid(b, 0.5), label="y"))


@PROPERTY
@given(data=st.data(), shapes=SHAPES_3)
def test_where_broadcasts_condition_and_both_branches(data, shapes):
    c, a, b = shapes.input_shapes
    condition = data.draw(hnp.arrays(np.bool_, c), label="condition")
    check(lambda x, y: where(condition, x, y), lambda x, y: np.where(condition, x, y),
          data.draw(arrays(a), label="x"), data.draw(arrays(b), label="y"))


@PROPERTY
@given(data=st.data(), shapes=SHAPES_2)
def test_logaddexp_broadcasts(data, shapes):
    a, b = shapes.input_shapes
    check(logaddexp, np.logaddexp, data.draw(arrays(a), label="x"),
          data.draw(arrays(b), label="y"))


@pytest.mark.parametrize("fn", [maximum, minimum])
def test_ties_share_the_gradient_as_in_pytorch(fn):
    x = Tensor([0.0, 1.0, -1.0, 2.0], requires_grad=True)
    y = Tensor([0.0, 0.0, 0.0, 2.0], requires_grad=True)
    fn(x, y).sum().backward()
    wins = (x.data > y.data) if fn is maximum else (x.data < y.data)
    np.testing.assert_array_equal(x.grad, np.where(x.data == y.data, 0.5, wins * 1.0))
    np.testing.assert_array_equal(x.grad + y.grad, np.ones(4))  # nothing is lost or doubled
    z = Tensor([3.0, -3.0], requires_grad=True)
    fn(z, z).sum().backward()  # the same tensor on both sides: both halves arrive
    np.testing.assert_array_equal(z.grad, [1.0, 1.0])


def test_maximum_with_zero_is_relu_away_from_zero_and_halves_at_zero():
    x = Tensor([-2.0, 0.0, 3.0], requires_grad=True)
    maximum(x, 0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.5, 1.0])


def test_logaddexp_is_finite_at_plus_minus_1000():
    x = Tensor([1000.0, -1000.0, 1000.0], requires_grad=True)
    y = Tensor([0.0, 0.0, 1000.0], requires_grad=True)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = logaddexp(x, y)
        out.sum().backward()
    np.testing.assert_allclose(out.data, [1000.0, np.log1p(np.exp(-1000.0)), 1000 + np.log(2)])
    np.testing.assert_allclose(x.grad, [1.0, 0.0, 0.5])
    np.testing.assert_allclose(y.grad, [0.0, 1.0, 0.5])


def test_where_takes_a_tensor_condition_and_plain_branches():
    x = Tensor([-1.0, 2.0, 0.5], requires_grad=True)
    out = where(x > 0, x, 0.0)  # a mask from a comparison; a number as the other branch
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [0.0, 2.0, 0.5])
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])
    nonzero = where(Tensor([0.0, 3.0, -1.0]), 1.0, 2.0)  # nonzero values count as true
    np.testing.assert_array_equal(nonzero.data, [2.0, 1.0, 1.0])
    assert not nonzero.requires_grad


@pytest.mark.parametrize("fn", [
    lambda x, y: maximum(x, y), lambda x, y: minimum(x, y), lambda x, y: logaddexp(x, y),
    lambda x, y: where(x > 0, x, y), lambda x, y: concatenate([x, y]),
    lambda x, y: stack([x, y]), lambda x, y: split(x, 3)[1] * y,
])
def test_float32_stays_float32_and_plain_operands_join_in_its_dtype(fn):
    x = Tensor(np.array([0.5, -1.0, 2.0], np.float32), requires_grad=True)
    for y in (Tensor(np.array([1.0, 0.25, -3.0], np.float32)), [1.0, 0.25, -3.0],
              np.array([1.0, 0.25, -3.0])):  # a float64 array too: it takes the tensor's dtype
        out = fn(x, y)
        assert out.dtype == np.float32
        out.sum().backward()
        assert x.grad.dtype == np.float32
        x.zero_grad()


# ---------------------------------------------------------------- joining and splitting
def pieces(shape, axis, count):
    """`count` shapes that agree with `shape` except along `axis`, where each has 0-3."""
    return st.lists(st.integers(0, 3), min_size=count, max_size=count).map(
        lambda sizes: [shape[:axis] + (n,) + shape[axis + 1:] for n in sizes])


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3),
       flags=st.lists(st.booleans(), min_size=1, max_size=4))
def test_concatenate_sends_each_piece_its_slice_of_the_gradient(data, shape, flags):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    shapes = data.draw(pieces(shape, axis % len(shape), len(flags)), label="shapes")
    values = [data.draw(arrays(s), label="piece") for s in shapes]
    # pieces that require grad, constants, and plain arrays, mixed
    xs = [Tensor(v, requires_grad=True) if f else (Tensor(v) if i % 2 else v)
          for i, (v, f) in enumerate(zip(values, flags, strict=True))]
    out = concatenate(xs, axis=axis)
    np.testing.assert_array_equal(out.data, np.concatenate(values, axis=axis))
    assert out.requires_grad == any(flags)
    if not any(flags):
        return
    weights = np.random.default_rng(0).normal(size=out.shape)
    (out * weights).sum().backward()
    expected = np.split(weights, np.cumsum([s[axis] for s in shapes])[:-1], axis=axis)
    for x, flag, g in zip(xs, flags, expected, strict=True):
        if flag:
            np.testing.assert_array_equal(x.grad, g)
        elif isinstance(x, Tensor):
            assert x.grad is None


@PROPERTY
@given(data=st.data(), shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3),
       flags=st.lists(st.booleans(), min_size=1, max_size=4))
def test_stack_sends_each_piece_its_index_of_the_gradient(data, shape, flags):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)), label="axis")
    values = [data.draw(arrays(shape), label="piece") for _ in flags]
    xs = [Tensor(v, requires_grad=f) for v, f in zip(values, flags, strict=True)]
    out = stack(xs, axis=axis)
    np.testing.assert_array_equal(out.data, np.stack(values, axis=axis))
    if not any(flags):
        assert not out.requires_grad
        return
    weights = np.random.default_rng(0).normal(size=out.shape)
    (out * weights).sum().backward()
    for i, (x, flag) in enumerate(zip(xs, flags, strict=True)):
        expected = np.take(weights, i, axis=axis)
        if flag:
            np.testing.assert_array_equal(x.grad, expected)
        else:
            assert x.grad is None


def test_joined_pieces_pass_gradcheck_with_a_constant_among_them():
    rng = np.random.default_rng(3)
    a, b = (Tensor(rng.normal(size=(2, 3)), requires_grad=True) for _ in range(2))
    c = rng.normal(size=(2, 3))  # a plain array: a constant piece
    assert gradcheck(lambda a, b: (concatenate([a, c, b], axis=1) ** 2).sum(), a, b)
    assert gradcheck(lambda a, b: stack([c, a * b, a], axis=1).tanh().sum(), a, b)


SPLITS = [3, [1], [-1], [0, 2], [1, 1], [2, 1], [5], [-5, 2], []]


@pytest.mark.parametrize("indices_or_sections", SPLITS, ids=str)
@pytest.mark.parametrize("axis", [0, 1, -1])
def test_split_cuts_like_numpy_and_every_piece_carries_the_gradient(indices_or_sections, axis):
    a = np.arange(18.0).reshape(3, 6) if axis else np.arange(18.0).reshape(6, 3)
    x = Tensor(a, requires_grad=True)
    got = split(x, indices_or_sections, axis=axis)
    want = np.split(a, indices_or_sections, axis=axis)
    assert [p.shape for p in got] == [p.shape for p in want]
    for p, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(p.data, w)
    # weight each piece differently: the gradient must land on each piece's own elements
    sum(((i + 1) * p).sum() for i, p in enumerate(got)).backward()
    expected = np.concatenate([np.full(w.shape, i + 1.0) for i, w in enumerate(want)],
                              axis=axis)
    if sum(w.size for w in want) == a.size:  # pieces cover x exactly once: no overlaps
        np.testing.assert_array_equal(x.grad, expected)
    assert gradcheck(lambda x: sum(((i + 1) * p ** 2).sum()
                                   for i, p in enumerate(split(x, indices_or_sections, axis))), x)


def test_split_pieces_left_unused_get_zero_gradient():
    x = Tensor(np.arange(6.0), requires_grad=True)
    first, _ = split(x, 2)
    (first * 2).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, 2.0, 0.0, 0.0, 0.0])


def test_concatenate_axis_none_flattens_first():
    x = Tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    out = concatenate([x, np.ones(3)], axis=None)
    np.testing.assert_array_equal(out.data, [0.0, 1.0, 2.0, 3.0, 1.0, 1.0, 1.0])
    (out * np.arange(7.0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0], [2.0, 3.0]])


@pytest.mark.parametrize("call, error, message", [
    (lambda: concatenate([]), ValueError, "concatenate: needs at least one tensor"),
    (lambda: stack([]), ValueError, "stack: needs at least one tensor"),
    (lambda: concatenate([Tensor(np.ones((2, 3))), Tensor(np.ones((3, 2)))]), ValueError,
     r"concatenate\(axis=0\).*\(2, 3\) and \(3, 2\)"),
    (lambda: stack([Tensor(np.ones(2)), Tensor(np.ones(3))]), ValueError,
     r"stack\(axis=0\).*\(2,\) and \(3,\)"),
    (lambda: concatenate([Tensor(1.0), Tensor(2.0)]), ValueError, "concatenate.*zero-dim"),
    (lambda: split(Tensor(np.ones(5)), 2), ValueError,
     "split: an axis of length 5 does not split into 2 equal sections"),
    (lambda: split(Tensor(np.ones(5)), 0), ValueError, "does not split into 0 equal sections"),
    (lambda: maximum(Tensor(np.ones(2)), Tensor(np.ones(3))), ValueError,
     r"maximum: shapes \(2,\) and \(3,\) cannot be broadcast"),
    (lambda: where(np.ones(4, bool), Tensor(np.ones(2)), 0.0), ValueError, "where"),
])
def test_bad_input_names_the_function_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()
