"""autograd/transforms.py: HIPS-autograd- and JAX-style function transforms, checked against
closed forms and float64 central differences, on arrays, numbers, Tensors and trees of them,
nested in each other and through closures."""

from collections import namedtuple

import numpy as np
import pytest

import autograd
from autograd import Tensor, no_grad
from autograd.transforms import (
    elementwise_grad,
    flatten,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    unflatten,
    value_and_grad,
    vjp,
)

RNG = np.random.default_rng(0)
X = RNG.normal(size=3)
A = RNG.normal(size=(3, 3))


def numeric_jacobian(f, x, eps=1e-6):
    """d f / d x by central differences, of shape f(x).shape + x.shape (float64)."""
    x = np.asarray(x, dtype=float)
    columns = []
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = eps
        step = step.reshape(x.shape)
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps))
    out_shape = np.shape(f(x))
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape) if columns else np.zeros(
        out_shape + x.shape)


def f(x):
    return np.sum(np.sin(x) * x ** 2)


def df(x):
    return np.cos(x) * x ** 2 + 2 * x * np.sin(x)


# ---------------------------------------------------------------- grad and value_and_grad
def test_grad_of_plain_arrays_is_a_plain_array_equal_to_the_closed_form():
    g = grad(f)(X)
    assert type(g) is np.ndarray and g.dtype == np.float64
    np.testing.assert_allclose(g, df(X), rtol=1e-14)


def test_grad_of_a_number_is_a_number_and_derivatives_nest_to_any_order():
    d3 = grad(grad(grad(np.sin)))(0.7)
    assert isinstance(d3, float)
    np.testing.assert_allclose(d3, -np.cos(0.7), rtol=1e-14)
    d4 = grad(grad(grad(grad(lambda x: x ** 5))))(1.5)
    np.testing.assert_allclose(d4, 120 * 1.5, rtol=1e-14)


def test_float32_in_float32_out_and_integers_become_float64():
    g = grad(f)(X.astype(np.float32))
    assert g.dtype == np.float32
    g = grad(lambda x: np.sum(x * x))(np.arange(3))
    assert g.dtype == np.float64
    np.testing.assert_array_equal(g, [0.0, 2.0, 4.0])


def test_grad_of_a_tensor_is_a_tensor_without_a_graph():
    t = Tensor(X)
    g = grad(f)(t)
    assert isinstance(g, Tensor) and not g.requires_grad
    np.testing.assert_allclose(g.data, df(X), rtol=1e-14)
    assert t.grad is None


def test_grad_of_a_tensor_that_requires_grad_stays_differentiable():
    # as torch.func.grad under ordinary autograd: d/dx sum(grad f) = sum(f'')
    t = Tensor(X, requires_grad=True)
    grad(f)(t).sum().backward()
    np.testing.assert_allclose(t.grad, hessian(f)(X).sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("argnum, expected", [
    (0, lambda x, y: np.cos(x * y) * y), (1, lambda x, y: np.cos(x * y) * x),
    (-1, lambda x, y: np.cos(x * y) * x),
])
def test_argnum_picks_the_argument(argnum, expected):
    y = RNG.normal(size=3)
    g = grad(lambda a, b: np.sum(np.sin(a * b)), argnum)(X, y)
    np.testing.assert_allclose(g, expected(X, y), rtol=1e-14)


def test_a_tuple_argnum_gives_a_tuple_of_gradients_and_kwargs_pass_through():
    gx, gy = grad(lambda a, b, scale=1.0: scale * np.sum(a * b), (0, 1))(X, 2.0, scale=3.0)
    np.testing.assert_allclose(gx, np.full(3, 6.0))
    np.testing.assert_allclose(gy, 3 * X.sum(), rtol=1e-14)


def test_value_and_grad_evaluates_once_and_returns_plain_values():
    calls = []

    def counted(x):
        calls.append(1)
        return f(x)

    value, g = value_and_grad(counted)(X)
    assert len(calls) == 1
    assert isinstance(value, float) and value == f(X)
    np.testing.assert_allclose(g, df(X), rtol=1e-14)


def test_value_and_grad_drives_scipy_lbfgs_to_the_rosenbrock_minimum():
    optimize = pytest.importorskip("scipy.optimize")

    def rosenbrock(p):
        return np.sum(100 * (p[1:] - p[:-1] ** 2) ** 2 + (1 - p[:-1]) ** 2)

    result = optimize.minimize(value_and_grad(rosenbrock), np.full(4, -1.0), jac=True,
                               method="L-BFGS-B")
    np.testing.assert_allclose(result.x, np.ones(4), atol=1e-4)


def test_a_function_that_ignores_its_argument_has_zero_gradient():
    g = grad(lambda x: 3.0)(X)
    np.testing.assert_array_equal(g, np.zeros(3))
    value, g = value_and_grad(lambda x, y: np.sum(y * y))(X, X)
    np.testing.assert_array_equal(g, np.zeros(3))


@pytest.mark.parametrize("shape", [(), (0,), (1,), (1, 1), (2, 0, 3)])
def test_edge_shapes(shape):
    x = np.full(shape, 0.5)
    g = grad(lambda a: np.sum(a * a))(x)
    assert np.shape(g) == shape
    np.testing.assert_allclose(g, 2 * x)
    assert jacobian(np.sin)(x).shape == shape + shape


def test_grad_works_inside_no_grad():
    with no_grad():
        np.testing.assert_allclose(grad(f)(X), df(X), rtol=1e-14)
        np.testing.assert_allclose(hessian(f)(X), hessian(f)(X), rtol=0)


def test_grad_refuses_an_output_with_more_than_one_element():
    with pytest.raises(TypeError, match=r"grad: the function must return one number .* shape "
                                        r"\(3,\); elementwise_grad or jacobian"):
        grad(np.sin)(X)


def test_a_bad_argnum_and_an_unknown_argument_type_say_so():
    with pytest.raises(IndexError, match="grad: argnum 2 but the function was called with 2"):
        grad(lambda a, b: np.sum(a), 2)(X, X)
    with pytest.raises(TypeError, match=r"grad: argument 0: set is not an array"):
        grad(lambda s: 0.0)({1.0})


# ---------------------------------------------------------------- trees
Params = namedtuple("Params", "w b")


def loss(params, x):
    w, b = params["layer"]
    return np.sum(np.tanh(x @ w + b) ** 2) + params["scale"] * np.sum(w * w)


def test_gradients_of_trees_have_the_trees_structure_and_match_central_differences():
    x = RNG.normal(size=(4, 3))
    params = {"layer": [RNG.normal(size=(3, 2)), RNG.normal(size=2)], "scale": 0.3}
    g = grad(loss)(params, x)
    assert set(g) == {"layer", "scale"} and isinstance(g["layer"], list)
    vector, rebuild = flatten(params)
    numeric = numeric_jacobian(lambda v: loss(rebuild(v), x), vector)
    np.testing.assert_allclose(flatten(g)[0], numeric, rtol=1e-6, atol=1e-8)
    assert isinstance(g["scale"], float)


def test_namedtuples_and_tuples_keep_their_types():
    p = Params(w=X, b=(1.0, np.ones(2)))
    g = grad(lambda q: np.sum(q.w ** 2) + q.b[0] * np.sum(q.b[1]))(p)
    assert isinstance(g, Params) and isinstance(g.b, tuple)
    np.testing.assert_allclose(g.w, 2 * X)
    np.testing.assert_allclose(g.b[1], [1.0, 1.0])
    assert g.b[0] == 2.0


def test_flatten_and_unflatten_round_trip_with_shapes_and_dtypes():
    tree = {"a": np.arange(6.0).reshape(2, 3), "b": [np.float32(2.5), (np.ones(1),)], "c": 4}
    vector, rebuild = flatten(tree)
    assert vector.shape == (9,) and vector.dtype == np.float64
    back = rebuild(vector)
    assert back["a"].shape == (2, 3) and back["b"][0].dtype == np.float32
    np.testing.assert_array_equal(unflatten(vector, tree)["a"], tree["a"])
    np.testing.assert_array_equal(flatten(back)[0], vector)
    with pytest.raises(ValueError, match=r"unflatten: needs a 1-D vector of 9 elements, got "
                                         r"shape \(8,\)"):
        rebuild(vector[:-1])


def test_grad_through_unflatten_of_a_vector():
    x = RNG.normal(size=(4, 3))
    params = {"layer": [RNG.normal(size=(3, 2)), RNG.normal(size=2)], "scale": 0.3}
    vector, rebuild = flatten(params)
    g = grad(lambda v: loss(rebuild(v), x))(vector)
    np.testing.assert_allclose(g, flatten(grad(loss)(params, x))[0], rtol=1e-13)
    assert flatten({"t": Tensor(X, requires_grad=True)})[0].requires_grad


# ---------------------------------------------------------------- elementwise_grad, jacobian
def test_elementwise_grad_is_the_derivative_of_each_output():
    np.testing.assert_allclose(elementwise_grad(np.tanh)(X), 1 - np.tanh(X) ** 2, rtol=1e-14)
    x = np.linspace(-2, 2, 7).reshape(7, 1)
    np.testing.assert_allclose(elementwise_grad(lambda t: t ** 3)(x), 3 * x ** 2, rtol=1e-14)


def test_jacobian_matches_central_differences_with_its_shape():
    x = RNG.normal(size=(2, 3))
    fn = lambda t: np.tanh(t @ A) * np.sum(t)  # noqa: E731
    j = jacobian(fn)(x)
    assert j.shape == (2, 3, 2, 3)
    np.testing.assert_allclose(j, numeric_jacobian(fn, x), rtol=1e-6, atol=1e-8)


def test_jacobian_of_a_tree_argument_and_a_tuple_argnum():
    j = jacobian(lambda p: p["w"] * p["s"])({"w": X, "s": 2.0})
    np.testing.assert_allclose(j["w"], 2 * np.eye(3))
    np.testing.assert_allclose(j["s"], X)
    jx, jy = jacobian(lambda a, b: a * b, (0, 1))(X, X + 1)
    np.testing.assert_allclose(jx, np.diag(X + 1))
    np.testing.assert_allclose(jy, np.diag(X))


def test_jacobian_refuses_a_tuple_output():
    with pytest.raises(TypeError, match="jacobian: the function must return one array"):
        jacobian(lambda x: (x, x))(X)


# ---------------------------------------------------------------- second order
def test_hessian_of_a_quadratic_form_and_of_a_matrix_argument():
    np.testing.assert_allclose(hessian(lambda x: x @ A @ x)(X), A + A.T, rtol=1e-14)
    m = RNG.normal(size=(2, 2))
    h = hessian(lambda t: np.sum(np.exp(t)))(m)
    assert h.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(h.reshape(4, 4), np.diag(np.exp(m).ravel()), rtol=1e-14)


def test_hessian_matches_central_differences_of_the_gradient():
    fn = lambda x: np.sum(np.log1p(np.exp(A @ x)) * x)  # noqa: E731
    np.testing.assert_allclose(hessian(fn)(X), numeric_jacobian(grad(fn), X), rtol=1e-6,
                               atol=1e-8)


def test_hvp_is_the_hessian_times_v():
    v = RNG.normal(size=3)
    np.testing.assert_allclose(hvp(f)(X, v), hessian(f)(X) @ v, rtol=1e-13)
    p = {"a": X, "b": 0.5}
    hv = hvp(lambda q: np.sum(q["a"] ** 3) * q["b"])(p, {"a": v, "b": 1.0})
    np.testing.assert_allclose(hv["a"], 6 * X * v * 0.5 + 3 * X ** 2, rtol=1e-13)
    np.testing.assert_allclose(hv["b"], np.sum(3 * X ** 2 * v), rtol=1e-13)


def test_nesting_through_a_closure_keeps_the_inner_gradient_differentiable():
    # d/dy sum_i d/dx_i sum sin(x y) = cos(x y) - x y sin(x y)
    y0 = RNG.normal(size=3)
    g = grad(lambda y: np.sum(grad(lambda x: np.sum(np.sin(x * y)))(X)))(y0)
    np.testing.assert_allclose(g, np.cos(X * y0) - X * y0 * np.sin(X * y0), rtol=1e-14)
    # and the inner result, once the outer transform is done, is plain again
    assert type(grad(lambda x: np.sum(np.sin(x * y0)))(X)) is np.ndarray


# ---------------------------------------------------------------- vjp and jvp
def test_vjp_returns_the_value_and_a_reusable_vjp_function():
    out, vjp_fn = vjp(lambda a, b: np.sin(A @ a) * b, X, 2.0)
    np.testing.assert_allclose(out, np.sin(A @ X) * 2.0, rtol=1e-15)
    for v in (np.ones(3), RNG.normal(size=3)):
        ga, gb = vjp_fn(v)
        np.testing.assert_allclose(ga, (v * np.cos(A @ X) * 2.0) @ A, rtol=1e-13)
        np.testing.assert_allclose(gb, v @ np.sin(A @ X), rtol=1e-13)
    with pytest.raises(ValueError, match=r"vjp_fn: the cotangent must be shaped like fun's "
                                         r"result: .* \[\(3,\)\], .* \[\(2,\)\]"):
        vjp_fn(np.ones(2))


def test_vjp_of_a_tree_output():
    out, vjp_fn = vjp(lambda x: {"s": np.sin(x), "t": (x * x,)}, X)
    (g,) = vjp_fn({"s": np.ones(3), "t": (np.full(3, 2.0),)})
    np.testing.assert_allclose(g, np.cos(X) + 4 * X, rtol=1e-14)


def test_jvp_is_the_jacobian_times_the_tangent_exactly():
    fn = lambda a, b: np.tanh(A @ a) * b  # noqa: E731
    t = RNG.normal(size=3)
    out, tangent = jvp(fn, (X, 1.5), (t, 0.25))
    np.testing.assert_allclose(out, fn(X, 1.5))
    expected = jacobian(fn)(X, 1.5) @ t + jacobian(fn, 1)(X, 1.5) * 0.25
    np.testing.assert_allclose(tangent, expected, rtol=1e-13)


def test_jvp_of_grad_is_forward_over_reverse_hvp():
    v = RNG.normal(size=3)
    _, hv = jvp(grad(f), (X,), (v,))
    np.testing.assert_allclose(hv, hessian(f)(X) @ v, rtol=1e-13)


def test_jvp_of_a_tree_output_and_a_constant_output():
    out, tangent = jvp(lambda x: {"a": x * 2, "b": 1.0}, (X,), (np.ones(3),))
    np.testing.assert_allclose(tangent["a"], np.full(3, 2.0))
    assert tangent["b"] == 0.0
    with pytest.raises(ValueError, match="jvp: the tangents must be shaped like the primals"):
        jvp(np.sin, (X,), (np.ones(2),))


def test_top_level_names_do_not_replace_pytorchs_grad():
    assert autograd.value_and_grad is value_and_grad and autograd.jvp is jvp
    assert autograd.vjp is vjp and autograd.elementwise_grad is elementwise_grad
    x = Tensor(X, requires_grad=True)
    (g,) = autograd.grad((x * x).sum(), [x])  # PyTorch's meaning, unchanged
    np.testing.assert_allclose(g.data, 2 * X)
    assert autograd.hessian is not hessian  # PyTorch-style functional.hessian stays


def test_tangents_cotangents_and_v_pair_with_dict_keys_not_their_order():
    p = {"a": X, "b": 2.0}
    fn = lambda q: q["a"] * q["b"]  # noqa: E731
    _, t1 = jvp(fn, (p,), ({"a": np.ones(3), "b": 0.5},))
    _, t2 = jvp(fn, (p,), ({"b": 0.5, "a": np.ones(3)},))  # the same tangent, keys reordered
    np.testing.assert_array_equal(t1, t2)
    np.testing.assert_allclose(t1, 2.0 + 0.5 * X)
    out, vjp_fn = vjp(lambda q: {"s": q * 2, "t": q * 3}, X)
    np.testing.assert_array_equal(vjp_fn({"t": np.ones(3), "s": np.zeros(3)})[0], np.full(3, 3.0))
    hv = hvp(lambda q: q["a"] @ q["a"] * q["b"])(p, {"b": 0.0, "a": np.ones(3)})
    np.testing.assert_allclose(hv["a"], np.full(3, 4.0))


@pytest.mark.parametrize("call, message", [
    (lambda: jvp(np.sin, (X,), ([1.0, 2.0, 3.0],)), "jvp: the tangents: list where the "
                                                      "structure has an array"),
    (lambda: jvp(lambda q: q["a"], ({"a": X},), ({"b": X},)),
     r"needs a dict with the keys \['a'\]"),
    (lambda: vjp(lambda q: (q, q), X)[1]((np.ones(3),)),
     r"needs a tuple of 2 items, got tuple of 1"),
])
def test_a_tangent_or_cotangent_of_another_structure_is_refused(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_a_zero_d_value_or_tangent_is_a_numpy_scalar_as_numpys_reductions_give():
    value, tangent = jvp(lambda x: np.sum(x * x), (X,), (np.ones(3),))
    assert type(value) is np.float64 and type(tangent) is np.float64
    np.testing.assert_allclose(tangent, 2 * X.sum(), rtol=1e-15)
    assert type(vjp(lambda x: np.sum(x * x), X)[0]) is np.float64


# ---------------------------------------------------------------- compile= (issue 22)
def bits(tree):
    if isinstance(tree, (tuple, list)):
        return [type(tree).__name__] + [bits(t) for t in tree]
    if isinstance(tree, dict):
        return {k: bits(v) for k, v in tree.items()}
    data = tree.data if isinstance(tree, Tensor) else np.asarray(tree)
    return type(tree).__name__, data.shape, data.dtype.str, data.tobytes()


def test_compile_is_off_by_default_and_says_so():
    f = value_and_grad(lambda x: (x**2).sum())
    f(X)
    assert not f.compiled and f.eager_reason == "compile=False"
    assert grad(lambda x: (x**2).sum()).eager_reason == "compile=False"


def test_compiled_value_and_grad_of_a_namedtuple_has_the_eager_bits():
    Pair = namedtuple("Pair", "w b")

    def loss(p, x):
        return np.sum(np.tanh(x @ p.w + p.b) ** 2)
    eager, fast = value_and_grad(loss), value_and_grad(loss, compile=True)
    rng = np.random.default_rng(1)
    for _ in range(6):
        p = Pair(rng.normal(size=(3, 2)), rng.normal(size=2))
        assert bits(fast(p, A)) == bits(eager(p, A))
    assert fast.compiled


def test_compiled_grad_under_no_grad_and_inside_other_transforms_stays_right():
    def f(x):
        return np.sum(np.sin(x) * x)
    g = grad(f, compile=True)
    with no_grad():
        for k in range(4):
            assert bits(g(X + k)) == bits(grad(f)(X + k))
    assert g.compiled
    # Inside jacobian, the argument is a Tensor that requires grad: that call runs eagerly.
    with pytest.warns(autograd.compile.CompileWarning, match="a transform inside another"):
        h = jacobian(g)(X)
    np.testing.assert_allclose(h, jacobian(grad(f))(X), rtol=0, atol=0)
