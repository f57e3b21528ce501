"""Constructors (zeros, ones, full, zeros_like, ones_like, arange, eye, rand, randn) and the
default generator behind rand and randn (autograd.random: manual_seed, get_rng)."""

import numpy as np
import pytest

import autograd
from autograd import Tensor, arange, eye, full, ones, ones_like, rand, randn, zeros, zeros_like
from autograd.random import get_rng, manual_seed

SHAPED = {  # constructor -> the numpy array it must equal, for shape (2, 3)
    "zeros": (zeros, np.zeros((2, 3))),
    "ones": (ones, np.ones((2, 3))),
    "rand": (rand, None),
    "randn": (randn, None),
}


@pytest.mark.parametrize("name", list(SHAPED))
@pytest.mark.parametrize("shape_args", [(2, 3), ((2, 3),), ([2, 3],), (np.int64(2), 3)])
def test_a_shape_is_given_as_pytorch_or_as_numpy_does(name, shape_args):
    make, expected = SHAPED[name]
    t = make(*shape_args)
    assert isinstance(t, Tensor) and t.shape == (2, 3) and t.dtype == np.float64
    assert t.is_leaf and not t.requires_grad
    if expected is not None:
        np.testing.assert_array_equal(t.data, expected)


@pytest.mark.parametrize("make", [zeros, ones, rand, randn])
def test_zero_d_and_empty_shapes(make):
    assert make(()).shape == ()
    assert make(0, 3).shape == (0, 3)
    assert make(1).shape == (1,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, "float32", np.dtype("float64")])
@pytest.mark.parametrize("make", [
    lambda **kw: zeros(2, **kw), lambda **kw: ones(2, **kw), lambda **kw: full(2, 0.5, **kw),
    lambda **kw: zeros_like(np.ones(2), **kw), lambda **kw: ones_like(Tensor([1.0, 2.0]), **kw),
    lambda **kw: arange(2, **kw), lambda **kw: eye(2, **kw), lambda **kw: rand(2, **kw),
    lambda **kw: randn(2, **kw),
])
def test_dtype_and_requires_grad(make, dtype):
    t = make(dtype=dtype)
    assert t.dtype == np.dtype(dtype) and not t.requires_grad
    p = make(dtype=dtype, requires_grad=True)
    assert p.requires_grad and p.is_leaf
    (p * p).sum().backward()  # a leaf like any other: its gradient arrives in its dtype
    np.testing.assert_allclose(p.grad, 2 * p.data)
    assert p.grad.dtype == np.dtype(dtype)


def test_values():
    np.testing.assert_array_equal(full((2, 2), 7.5).data, np.full((2, 2), 7.5))
    np.testing.assert_array_equal(full(3, -1.0).data, [-1.0, -1.0, -1.0])
    np.testing.assert_array_equal(arange(4).data, [0.0, 1.0, 2.0, 3.0])
    np.testing.assert_array_equal(arange(1, 2, 0.25).data, [1.0, 1.25, 1.5, 1.75])
    np.testing.assert_array_equal(arange(3, 0, -1).data, [3.0, 2.0, 1.0])
    assert arange(4).dtype == np.float64  # floats, unlike PyTorch's integer arange(4)
    np.testing.assert_array_equal(eye(3).data, np.eye(3))
    np.testing.assert_array_equal(eye(2, 3).data, np.eye(2, 3))


def test_like_constructors_copy_shape_and_float_dtype_but_not_the_graph():
    x = Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    for make, value in ((zeros_like, 0.0), (ones_like, 1.0)):
        t = make(x * 2)
        assert t.shape == (2, 3) and t.dtype == np.float32
        assert not t.requires_grad and t.op is None  # requires_grad is not inherited (PyTorch)
        np.testing.assert_array_equal(t.data, value)
        assert make(np.arange(3)).dtype == np.float64  # integer data: a float64 tensor
        assert make(x, dtype=np.float64).dtype == np.float64


def test_rand_is_uniform_in_0_1_and_randn_standard_normal():
    u, n = rand(20000, rng=np.random.default_rng(0)), randn(20000, rng=np.random.default_rng(1))
    assert 0.0 <= u.data.min() and u.data.max() < 1.0
    assert abs(u.data.mean() - 0.5) < 0.01 and abs(u.data.var() - 1 / 12) < 0.005
    assert abs(n.data.mean()) < 0.03 and abs(n.data.std() - 1.0) < 0.03


def test_rng_gives_reproducible_draws_and_float32_is_the_float64_draw_rounded():
    a = randn(3, 2, rng=np.random.default_rng(5))
    b = randn(3, 2, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(a.data, b.data)
    c = randn(3, 2, rng=np.random.default_rng(5), dtype=np.float32)
    np.testing.assert_array_equal(c.data, a.data.astype(np.float32))
    assert not np.array_equal(randn(3, 2, rng=np.random.default_rng(6)).data, a.data)


def test_manual_seed_makes_the_default_generator_reproducible():
    assert autograd.manual_seed is manual_seed
    generator = manual_seed(3)
    assert get_rng() is generator and get_rng(None) is generator
    first = (rand(4).data, randn(2, 2).data)
    manual_seed(3)
    second = (rand(4).data, randn(2, 2).data)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)
    manual_seed(4)
    assert not np.array_equal(rand(4).data, first[0])


def test_get_rng_passes_a_generator_through_and_refuses_anything_else():
    rng = np.random.default_rng(0)
    assert get_rng(rng) is rng
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or None, got int"):
        rand(2, rng=0)
    with pytest.raises(TypeError, match="got RandomState"):
        get_rng(np.random.RandomState(0))


@pytest.mark.parametrize("seed", [-1, 1.5, "0", True])
def test_manual_seed_refuses_what_is_not_a_seed(seed):
    with pytest.raises(ValueError, match="manual_seed: the seed must be a non-negative integer"):
        manual_seed(seed)


@pytest.mark.parametrize("call, error, message", [
    (lambda: zeros(), TypeError, r"zeros: give a shape, zeros\(2, 3\) or zeros\(\(2, 3\)\)"),
    (lambda: ones(2, -1), ValueError, r"ones: sizes must be non-negative integers, got shape "
                                      r"\(2, -1\)"),
    (lambda: rand(2.5), ValueError, "rand: sizes must be non-negative integers"),
    (lambda: randn((2, None)), ValueError, "randn: sizes must be non-negative integers"),
    (lambda: eye(-1), ValueError, "eye: sizes must be non-negative integers"),
    (lambda: zeros(2, dtype=np.int64), TypeError,
     "zeros: dtype must be np.float32 or np.float64 .*int64"),
    (lambda: full(2, 1.0, dtype=bool), TypeError, "full: dtype must be np.float32 or np.float64"),
    (lambda: ones_like(np.ones(2), dtype="float16"), TypeError, "ones_like: dtype must be"),
    (lambda: arange(0, 1, 0), ValueError, "arange: step must not be 0"),
    (lambda: zeros(2, device="cpu"), TypeError, "zeros.*device=.*CPU only"),
    (lambda: randn(2, generator=np.random.default_rng()), TypeError, "randn.*write rng="),
    (lambda: full(size=(2,), fill_value=1.0), TypeError, "full.*size=.*the shape"),
])
def test_bad_arguments_name_the_constructor(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_torch_dtype_is_named_in_the_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match="dtype must be np.float32 or np.float64.*torch.float32"):
        zeros(2, dtype=torch.float32)
