"""autograd.functional: jacobian, hessian and hvp against closed forms and float64 central
differences, with PyTorch's shapes for several inputs and outputs, and no `.grad` touched.
"""

import numpy as np
import pytest

from autograd import Tensor, engine, grad, hessian, hvp, jacobian, no_grad

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 3))
B = RNG.normal(size=3)


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def numerical_jacobian(fn, xs, i, eps=1e-6):
    """d fn(*xs) / d xs[i] by central differences: shape out.shape + xs[i].shape."""
    arrays = [np.array(x, dtype=np.float64) for x in xs]
    out_shape = np.shape(fn(*[Tensor(a) for a in arrays]).data)
    result = np.zeros(out_shape + arrays[i].shape)
    for index in np.ndindex(arrays[i].shape):
        values = []
        for step in (eps, -eps):
            shifted = [a.copy() for a in arrays]
            shifted[i][index] += step
            values.append(fn(*[Tensor(a) for a in shifted]).data)
        result[(...,) + index] = (values[0] - values[1]) / (2 * eps)
    return result


def rosenbrock(x):
    return ((1 - x[:-1]) ** 2 + (x[1:] - x[:-1] ** 2) ** 2 * 100).sum()


def rosenbrock_hessian(x):
    n = x.size
    h = np.zeros((n, n))
    for i in range(n - 1):
        h[i, i] += 2 - 400 * (x[i + 1] - x[i] ** 2) + 800 * x[i] ** 2
        h[i + 1, i + 1] += 200
        h[i, i + 1] = h[i + 1, i] = -400 * x[i]
    return h


# ---------------------------------------------------------------- jacobian
def test_jacobian_of_a_linear_map_is_its_matrix():
    x = Tensor([1.0, -2.0, 0.5])
    j = jacobian(lambda x: Tensor(A) @ x + 1, x)
    assert isinstance(j, Tensor) and j.shape == (3, 3)
    np.testing.assert_allclose(j.data, A, rtol=1e-15)


def test_jacobian_shape_is_output_shape_then_input_shape():
    x = RNG.normal(size=(2, 3))
    j = jacobian(Tensor.tanh, Tensor(x))
    assert j.shape == (2, 3, 2, 3)
    expected = np.diag((1 - np.tanh(x) ** 2).ravel()).reshape(2, 3, 2, 3)
    np.testing.assert_allclose(j.data, expected, rtol=1e-15, atol=0)


@pytest.mark.parametrize("in_shape, fn, out_shape", [
    ((), lambda x: x * Tensor([1.0, 2.0]), (2,)),          # 0-d input
    ((3,), lambda x: (x * x).sum(), ()),                   # 0-d output: the gradient
    ((1,), lambda x: x.exp(), (1,)),
    ((0,), lambda x: x * 2, (0,)),                         # empty
    ((2,), lambda x: x.sum() * Tensor(np.ones((0, 4))), (0, 4)),
])
def test_jacobian_edge_shapes(in_shape, fn, out_shape):
    x = RNG.normal(size=in_shape) + 1.5
    j = jacobian(fn, Tensor(x))
    assert j.shape == out_shape + in_shape
    np.testing.assert_allclose(j.data, numerical_jacobian(fn, [x], 0).reshape(j.shape),
                               rtol=1e-7, atol=1e-9)


def test_jacobian_of_a_composite_matches_central_differences():
    x, w = RNG.normal(size=(2, 3)), RNG.normal(size=(3, 4))
    fn = lambda x, w: (x @ w).softmax(axis=-1).log1p() * x.sum()  # noqa: E731
    jx, jw = jacobian(fn, Tensor(x), Tensor(w))
    assert jx.shape == (2, 4, 2, 3) and jw.shape == (2, 4, 3, 4)
    np.testing.assert_allclose(jx.data, numerical_jacobian(fn, [x, w], 0), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(jw.data, numerical_jacobian(fn, [x, w], 1), rtol=1e-6, atol=1e-9)


def test_several_inputs_give_one_jacobian_each_in_a_tuple():
    x, y = Tensor([1.0, 2.0]), Tensor([3.0, -1.0])
    jx, jy = jacobian(lambda x, y: x * y, x, y)
    np.testing.assert_array_equal(jx.data, np.diag(y.data))
    np.testing.assert_array_equal(jy.data, np.diag(x.data))
    # PyTorch's spelling, the inputs as one tuple, gives the same; a 1-tuple gives a 1-tuple
    same = jacobian(lambda x, y: x * y, (x, y))
    assert [t.data.tolist() for t in same] == [jx.data.tolist(), jy.data.tolist()]
    (only,) = jacobian(Tensor.exp, (x,))
    np.testing.assert_allclose(only.data, np.diag(np.exp(x.data)))


def test_several_outputs_give_a_tuple_and_with_several_inputs_a_tuple_of_tuples():
    x, y = Tensor([0.5, 1.0, 2.0]), Tensor(3.0)
    per_output = jacobian(lambda x: (x.sum(), x ** 2), x)
    assert isinstance(per_output, tuple) and len(per_output) == 2
    np.testing.assert_array_equal(per_output[0].data, np.ones(3))
    np.testing.assert_array_equal(per_output[1].data, np.diag(2 * x.data))
    nested = jacobian(lambda x, y: (x * y, (x * y).sum() * y), x, y)
    assert [[t.shape for t in row] for row in nested] == [[(3, 3), (3,)], [(3,), ()]]
    np.testing.assert_array_equal(nested[0][0].data, 3 * np.eye(3))
    np.testing.assert_array_equal(nested[0][1].data, x.data)
    np.testing.assert_array_equal(nested[1][0].data, np.full(3, 9.0))
    assert nested[1][1].item() == 2 * 3.0 * x.data.sum()


def test_an_output_independent_of_an_input_gives_zeros():
    x, unused = Tensor([1.0, 2.0]), Tensor(np.ones((2, 2)))
    jx, ju = jacobian(lambda x, u: x * 2, x, unused)
    np.testing.assert_array_equal(jx.data, 2 * np.eye(2))
    assert ju.shape == (2, 2, 2) and not ju.data.any()
    constant = jacobian(lambda x: Tensor([5.0, 6.0, 7.0]), x)
    assert constant.shape == (3, 2) and not constant.data.any()


def test_jacobian_of_the_identity_is_the_identity():
    j = jacobian(lambda x: x, Tensor(np.zeros((2, 2))))
    np.testing.assert_array_equal(j.data, np.eye(4).reshape(2, 2, 2, 2))


def test_inputs_may_be_arrays_lists_or_numbers():
    j = jacobian(lambda x: x ** 3, [1.0, 2.0])
    np.testing.assert_array_equal(j.data, np.diag([3.0, 12.0]))
    assert jacobian(lambda x: x.sin(), 0.0).item() == 1.0


def test_jacobian_keeps_the_input_dtype():
    x = Tensor(np.array([0.5, -0.5], np.float32))
    j = jacobian(Tensor.sigmoid, x)
    assert j.dtype == np.float32
    s = 1 / (1 + np.exp(-x.data.astype(np.float64)))
    np.testing.assert_allclose(j.data, np.diag(s * (1 - s)), rtol=1e-6)


def test_fn_must_return_tensors():
    with pytest.raises(TypeError, match="jacobian: fn must return a Tensor or a tuple of "
                                        "Tensors, got float"):
        jacobian(lambda x: 1.0, Tensor([1.0]))
    with pytest.raises(ValueError, match="jacobian: needs at least one input"):
        jacobian(lambda: Tensor(1.0))


# ---------------------------------------------------------------- hessian
def test_hessian_of_a_quadratic_form_is_the_symmetrised_matrix():
    x = Tensor(RNG.normal(size=3))
    h = hessian(lambda x: (x * (Tensor(A) @ x)).sum() * 0.5 + (x * B).sum(), x)
    assert h.shape == (3, 3)
    np.testing.assert_allclose(h.data, (A + A.T) / 2, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("point", [[1.0, 1.0, 1.0, 1.0], [-1.2, 1.0, 0.3, -0.5]])
def test_hessian_of_rosenbrock_matches_its_closed_form(point):
    h = hessian(rosenbrock, Tensor(point))
    np.testing.assert_allclose(h.data, rosenbrock_hessian(np.array(point)), rtol=1e-13)


def test_hessian_blocks_of_several_inputs_have_pytorchs_shapes():
    x, y = RNG.normal(size=(2, 2)), RNG.normal(size=3)
    # f = sum(x^2) * sum(y^3): the blocks in closed form
    h = hessian(lambda x, y: (x ** 2).sum() * (y ** 3).sum(), Tensor(x), Tensor(y))
    assert [[b.shape for b in row] for row in h] == [[(2, 2, 2, 2), (2, 2, 3)],
                                                     [(3, 2, 2), (3, 3)]]
    sx, sy = (x ** 2).sum(), (y ** 3).sum()
    np.testing.assert_allclose(h[0][0].data, 2 * sy * np.eye(4).reshape(2, 2, 2, 2), rtol=1e-13)
    np.testing.assert_allclose(h[0][1].data, np.multiply.outer(2 * x, 3 * y ** 2), rtol=1e-13)
    np.testing.assert_allclose(h[1][0].data, np.multiply.outer(3 * y ** 2, 2 * x), rtol=1e-13)
    np.testing.assert_allclose(h[1][1].data, sx * np.diag(6 * y), rtol=1e-13)


def test_hessian_matches_central_differences_of_the_gradient():
    x = RNG.normal(size=(2, 3))
    fn = lambda x: x.logsumexp(axis=1).sum() + (x.softmax(axis=0) * x).sum()  # noqa: E731

    def gradient(x):
        x = Tensor(x.data, requires_grad=True)
        return grad(fn(x), x)[0]

    h = hessian(fn, Tensor(x))
    assert h.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(h.data, numerical_jacobian(gradient, [x], 0), rtol=1e-6,
                               atol=1e-9)
    flat = h.data.reshape(6, 6)
    np.testing.assert_allclose(flat, flat.T, atol=1e-15)


def test_hessian_of_linear_and_constant_functions_is_zero():
    x = Tensor([1.0, 2.0])
    assert not hessian(lambda x: (x * 3).sum(), x).data.any()
    assert not hessian(lambda x: Tensor(4.0), x).data.any()
    hx, hu = hessian(lambda x, u: (x ** 2).sum(), x, Tensor(1.0))[0]
    np.testing.assert_array_equal(hx.data, 2 * np.eye(2))
    assert hu.shape == (2,) and not hu.data.any()


def test_hessian_needs_one_element():
    with pytest.raises(ValueError, match=r"hessian: fn must return a Tensor with one element, "
                                         r"got shape \(2,\)"):
        hessian(lambda x: x * x, Tensor([1.0, 2.0]))
    assert hessian(lambda x: (x ** 3).reshape(1, 1), Tensor([2.0])).data.tolist() == [[12.0]]


def test_hessian_with_create_graph_gives_third_derivatives():
    x = leaf([0.3, -0.8])
    h = hessian(lambda x: (x.tanh()).sum(), x, create_graph=True)  # diag(-2 t (1 - t^2))
    assert h.requires_grad
    (third,) = grad(h.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(third.data, (6 * t * t - 2) * (1 - t * t), rtol=1e-14)
    assert x.grad is None


# ---------------------------------------------------------------- hvp
def test_hvp_is_the_hessian_times_v_and_returns_the_value_too():
    x = Tensor([-1.2, 1.0, 0.3, -0.5])
    v = RNG.normal(size=4)
    value, hv = hvp(rosenbrock, x, v)
    assert value.item() == pytest.approx(rosenbrock(x).item(), rel=1e-15)
    assert not value.requires_grad and not hv.requires_grad
    np.testing.assert_allclose(hv.data, rosenbrock_hessian(x.data) @ v, rtol=1e-13)


def test_hvp_of_several_inputs_is_the_block_hessian_times_v():
    x, y = Tensor(RNG.normal(size=(2, 2))), Tensor(RNG.normal(size=3))
    vx, vy = RNG.normal(size=(2, 2)), RNG.normal(size=3)
    fn = lambda x, y: (x.tanh() ** 2).sum() * (y.exp()).sum()  # noqa: E731
    h = hessian(fn, x, y)
    _, (hx, hy) = hvp(fn, (x, y), (vx, Tensor(vy)))
    flat = np.block([[h[0][0].data.reshape(4, 4), h[0][1].data.reshape(4, 3)],
                     [h[1][0].data.reshape(3, 4), h[1][1].data]])
    expected = flat @ np.concatenate([vx.ravel(), vy])
    np.testing.assert_allclose(hx.data.ravel(), expected[:4], rtol=1e-12)
    np.testing.assert_allclose(hy.data, expected[4:], rtol=1e-12)


def test_hvp_matches_central_differences_of_the_gradient_along_v():
    x, v, eps = RNG.normal(size=(3, 2)), RNG.normal(size=(3, 2)), 1e-6
    fn = lambda x: ((Tensor(A) @ x).sigmoid() * x).sum()  # noqa: E731

    def gradient(values):
        t = Tensor(values, requires_grad=True)
        return grad(fn(t), t)[0].data

    _, hv = hvp(fn, Tensor(x), v)
    numeric = (gradient(x + eps * v) - gradient(x - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hv.data, numeric, rtol=1e-6, atol=1e-9)


def test_hvp_never_forms_the_hessian():
    # The work of H v, counted in VJP calls, is the same for 3 and 3,000 inputs: two passes.
    class Count(engine.Watcher):
        calls = 0

        def backward(self, node, index, parent, grad):
            Count.calls += 1

    counts = []
    for n in (3, 3000):
        Count.calls = 0
        with engine.watching(Count()):
            _, hv = hvp(lambda x: (x ** 4).sum(), Tensor(np.linspace(-1, 1, n)), np.ones(n))
        counts.append(Count.calls)
        np.testing.assert_allclose(hv.data, 12 * np.linspace(-1, 1, n) ** 2, rtol=1e-14)
    assert counts[0] == counts[1] > 0


def test_hvp_of_a_linear_function_is_zero_and_v_may_be_left_out_for_one_element():
    _, hv = hvp(lambda x: (x * 5).sum(), Tensor([1.0, 2.0]), [1.0, 1.0])
    np.testing.assert_array_equal(hv.data, [0.0, 0.0])
    _, hv = hvp(lambda x: (x ** 3).sum(), Tensor([2.0]))  # v = 1
    assert hv.data.tolist() == [12.0]


def test_hvp_checks_v_against_the_inputs():
    x = Tensor([1.0, 2.0, 3.0])
    square = lambda x: (x * x).sum()  # noqa: E731
    with pytest.raises(ValueError, match=r"hvp: v has shape \(2,\) but input 0 has shape "
                                         r"\(3,\)"):
        hvp(square, x, np.ones(2))
    with pytest.raises(ValueError, match="hvp: v is required unless the input is one Tensor "
                                         "with one element"):
        hvp(square, x)
    with pytest.raises(ValueError, match="hvp: 2 inputs but 1 vectors in v"):
        hvp(lambda x, y: (x * y).sum(), (x, x), (np.ones(3),))
    with pytest.raises(TypeError, match="hvp: v must have the structure of inputs"):
        hvp(lambda x, y: (x * y).sum(), (x, x), np.ones(3))
    with pytest.raises(ValueError, match=r"hvp: fn must return a Tensor with one element, got "
                                         r"shape \(3,\)"):
        hvp(lambda x: x * x, x, np.ones(3))


def test_hvp_with_create_graph_is_differentiable():
    x = leaf([0.5, -1.0])
    v = np.array([1.0, 2.0])
    value, hv = hvp(lambda x: (x ** 4).sum(), x, v, create_graph=True)  # hv = 12 x^2 v
    assert value.requires_grad and hv.requires_grad
    (g,) = grad(hv.sum(), x)
    np.testing.assert_allclose(g.data, 24 * x.data * v, rtol=1e-15)


# ---------------------------------------------------------------- no .grad, any grad mode
@pytest.mark.parametrize("call", [
    lambda f, x: jacobian(f, x),
    lambda f, x: hessian(f, x),
    lambda f, x: hvp(f, x, np.ones(x.shape)),
    lambda f, x: jacobian(f, x, create_graph=True),
    lambda f, x: hessian(f, x, create_graph=True),
])
def test_no_grad_is_touched(call):
    x, w = leaf([0.5, 1.5]), leaf([2.0, -1.0])
    earlier = np.array([7.0, 8.0])
    x.grad = earlier
    call(lambda x: (x * w).tanh().sum(), x)
    assert x.grad is earlier and earlier.tolist() == [7.0, 8.0]
    assert w.grad is None


def test_results_have_no_graph_unless_create_graph():
    x = leaf([0.5, 1.5])
    assert not jacobian(Tensor.exp, x).requires_grad
    assert not hessian(lambda x: x.exp().sum(), x).requires_grad
    j = jacobian(Tensor.exp, x, create_graph=True)
    (g,) = grad(j.sum(), x)  # the graph reaches the caller's x
    np.testing.assert_allclose(g.data, np.exp(x.data), rtol=1e-15)


def test_they_work_inside_no_grad():
    x = Tensor([0.5, 2.0])
    with no_grad():
        h = hessian(lambda x: (x ** 3).sum(), x)
        j = jacobian(lambda x: x ** 2, x)
        _, hv = hvp(lambda x: (x ** 3).sum(), x, [1.0, 1.0])
        assert not engine.is_grad_enabled()  # still off after each of them
    np.testing.assert_array_equal(h.data, np.diag(6 * x.data))
    np.testing.assert_array_equal(j.data, np.diag(2 * x.data))
    np.testing.assert_array_equal(hv.data, 6 * x.data)
