"""grad() and backward(create_graph=True): gradients returned instead of stored, and gradients
that carry a graph of their own, differentiated again to any order.

Closed forms for polynomials, exp, sin and tanh; float64 central differences for the rest.
"""

import numpy as np
import pytest

from autograd import Tensor, grad, no_grad


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


def central_differences(fn, x, eps=1e-6):
    """d fn(x) / dx of a one-element fn, in float64, with fn recorded (it calls grad inside,
    which gradcheck's no_grad() evaluation would not allow)."""
    result = np.zeros(x.shape)
    for index in np.ndindex(x.shape):
        shifted = []
        for step in (eps, -eps):
            values = x.data.copy()
            values[index] += step
            shifted.append(fn(leaf(values)).item())
        result[index] = (shifted[0] - shifted[1]) / (2 * eps)
    return result


# ---------------------------------------------------------------- grad(): what it returns
def test_one_gradient_per_input_as_a_tuple_of_tensors():
    x, w = leaf([1.0, -2.0, 0.5]), leaf([3.0, 0.25, -1.0])
    gx, gw = grad((x * w).sum() + (x ** 2).sum(), [x, w])
    assert isinstance(gx, Tensor) and isinstance(gw, Tensor)
    np.testing.assert_array_equal(gx.data, w.data + 2 * x.data)
    np.testing.assert_array_equal(gw.data, x.data)
    (alone,) = grad((x ** 3).sum(), x)  # one Tensor in, a 1-tuple out
    np.testing.assert_allclose(alone.data, 3 * x.data ** 2)


def test_inputs_may_be_a_tuple_and_may_repeat():
    x = leaf([1.0, 2.0])
    first, second = grad((x * x).sum(), (x, x))
    np.testing.assert_array_equal(first.data, [2.0, 4.0])
    np.testing.assert_array_equal(second.data, [2.0, 4.0])
    first.data[0] = 100.0  # each is a private copy
    assert second.data[0] == 2.0


def test_without_create_graph_the_gradients_are_constants():
    x = leaf([0.3, -0.7])
    (g,) = grad(x.tanh().sum(), x)
    assert not g.requires_grad and g.op is None and g.parents == ()


def test_gradients_keep_each_inputs_shape_and_dtype():
    x = leaf(np.ones((2, 1)), np.float32)
    b = leaf(np.ones(3))
    gx, gb = grad((x * b).sum(), [x, b])  # broadcast to (2, 3), promoted to float64
    assert gx.shape == (2, 1) and gx.dtype == np.float32
    assert gb.shape == (3,) and gb.dtype == np.float64
    np.testing.assert_array_equal(gx.data, [[3.0], [3.0]])
    np.testing.assert_array_equal(gb.data, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("shape", [(), (1,), (0,), (3, 0), (1, 1)])
def test_zero_dim_size_one_and_empty_inputs(shape):
    x = leaf(np.full(shape, 0.5))
    (g,) = grad((x * x).sum(), x)
    assert g.shape == shape
    np.testing.assert_array_equal(g.data, np.full(shape, 1.0))
    (h,) = grad(grad((x * x * x).sum(), x, create_graph=True)[0].sum(), x)
    np.testing.assert_allclose(h.data, np.full(shape, 3.0))  # d/dx sum(3x^2) = 6x at 0.5


# ---------------------------------------------------------------- grad_outputs and several outputs
def test_grad_outputs_weighs_a_non_scalar_output():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    v = np.array([[1.0, -1.0], [0.5, 2.0]])
    (g,) = grad(x ** 2, x, grad_outputs=v)  # the vector-Jacobian product v^T J
    np.testing.assert_array_equal(g.data, 2 * x.data * v)
    (same,) = grad(x ** 2, x, grad_outputs=Tensor(v))
    np.testing.assert_array_equal(same.data, g.data)


def test_a_non_scalar_output_needs_grad_outputs():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match=r"grad: output is not a scalar \(shape \(2,\)\)"):
        grad(x * 2, x)


def test_grad_outputs_of_the_wrong_shape_names_both_shapes():
    x = leaf([1.0, 2.0])
    with pytest.raises(ValueError, match=r"grad: grad has shape \(3,\) but the output has "
                                         r"shape \(2,\)"):
        grad(x * 2, x, grad_outputs=np.ones(3))


def test_several_outputs_add_their_gradients():
    x = leaf([0.5, -1.5])
    a, b = (x ** 2).sum(), x.exp()
    gb = np.array([2.0, 3.0])
    (g,) = grad([a, b], x, grad_outputs=[None, gb])
    np.testing.assert_allclose(g.data, 2 * x.data + gb * np.exp(x.data), rtol=1e-15)
    (both,) = grad([a, (x * 3).sum()], [x])
    np.testing.assert_allclose(both.data, 2 * x.data + 3)


def test_the_count_of_grad_outputs_must_match_the_outputs():
    x = leaf([1.0])
    with pytest.raises(ValueError, match="grad: 2 outputs but 1 grad_outputs"):
        grad([x * 2, x * 3], x, grad_outputs=[np.ones(1)])


def test_an_output_without_a_graph_is_refused():
    x = leaf([1.0])
    with no_grad():
        y = x * 2
    with pytest.raises(RuntimeError, match="grad: this tensor does not require grad"):
        grad(y, x)


# ---------------------------------------------------------------- allow_unused, intermediates
def test_an_unused_input_raises_naming_it_unless_allowed():
    x, unused = leaf([1.0, 2.0]), leaf(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(2, 3\)\) was not used"):
        grad((x * x).sum(), [x, unused])
    gx, gu = grad((x * x).sum(), [x, unused], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])
    assert gu is None


def test_an_input_without_requires_grad_counts_as_unused():
    x, c = leaf([1.0]), Tensor([2.0])
    with pytest.raises(RuntimeError, match="input 1"):
        grad((x * c).sum(), [x, c])
    assert grad((x * c).sum(), [x, c], allow_unused=True)[1] is None


def test_an_intermediate_can_be_an_input():
    x = leaf([0.5, 2.0])
    h = x * 3  # an intermediate
    loss = (h ** 2).sum() + (x * 4).sum()
    gh, gx = grad(loss, [h, x])
    np.testing.assert_allclose(gh.data, 2 * h.data)  # d loss / d h, h held fixed elsewhere
    np.testing.assert_allclose(gx.data, 18 * x.data + 4)  # the total derivative in x
    (only_h,) = grad(loss, h)
    np.testing.assert_allclose(only_h.data, gh.data)


def test_an_intermediate_input_gives_the_total_gradient_of_every_use():
    x = leaf([1.5])
    h = x.exp()
    (g,) = grad(h * h + h.sin(), h)
    np.testing.assert_allclose(g.data, 2 * h.data + np.cos(h.data))


# ---------------------------------------------------------------- .grad stays untouched
def test_grad_leaves_every_grad_alone():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    earlier = np.array([10.0, 20.0])
    x.grad = earlier
    h = (x * w).retain_grad()
    y = (h.tanh() * w).sum()
    grad(y, [x, w])
    grad(y, [x], create_graph=True)
    assert x.grad is earlier and np.array_equal(earlier, [10.0, 20.0])
    assert w.grad is None and h.grad is None


def test_backward_afterwards_still_gives_the_usual_gradients():
    x = leaf([0.2, -0.4])
    y = (x.sin() * x).sum()
    (g,) = grad(y, x)
    y.backward()
    np.testing.assert_array_equal(x.grad, g.data)


# ---------------------------------------------------------------- create_graph: any order
def test_nth_derivatives_of_exp_2x_to_the_sixth_order():
    x = leaf([-1.0, 0.0, 0.7])
    y = (x * 2).exp()
    for order in range(1, 7):
        (y,) = grad(y.sum(), x, create_graph=True)
        np.testing.assert_allclose(y.data, 2.0 ** order * np.exp(2 * x.data), rtol=1e-14)
        assert y.requires_grad  # still differentiable


def test_sin_comes_back_after_four_derivatives():
    x = leaf(np.linspace(-3, 3, 7))
    y = x.sin()
    expected = [np.cos, lambda a: -np.sin(a), lambda a: -np.cos(a), np.sin, np.cos]
    for closed_form in expected:
        (y,) = grad(y.sum(), x, create_graph=True)
        np.testing.assert_allclose(y.data, closed_form(x.data), atol=1e-15)


def test_a_polynomial_runs_out_of_derivatives():
    x = leaf([2.0])
    y = x ** 3
    values = []
    for _ in range(3):
        (y,) = grad(y.sum(), x, create_graph=True)
        values.append(y.item())
    assert values == [12.0, 12.0, 6.0]  # 3x^2, 6x, 6 at x = 2
    (fourth,) = grad(y.sum(), x)  # 6 = 6 x^0 still has a graph, with a zero gradient
    assert fourth.item() == 0.0


def test_mixed_partial_derivatives_are_symmetric():
    x, y = leaf(1.5), leaf(-0.5)
    f = x ** 2 * y ** 3  # d2f/dxdy = 6 x y^2
    fx, fy = grad(f, [x, y], create_graph=True)
    (fxy,) = grad(fx, y)
    (fyx,) = grad(fy, x)
    assert fxy.item() == pytest.approx(6 * 1.5 * 0.25, rel=1e-15)
    assert fyx.item() == pytest.approx(fxy.item(), rel=1e-15)


def test_third_order_of_a_network_matches_central_differences_of_the_second():
    rng = np.random.default_rng(0)
    w = leaf(rng.normal(size=(3, 2)))
    data = rng.normal(size=(4, 3))
    v = rng.normal(size=(3, 2))

    def second(w):
        # <v, H(w) v> through two nested grads of a tanh layer's log-sum-exp loss
        loss = (Tensor(data) @ w).tanh().logsumexp(axis=1).sum()
        (g,) = grad(loss, w, create_graph=True)
        (hv,) = grad((g * v).sum(), w, create_graph=True)
        return (hv * v).sum()

    (third,) = grad(second(w), w)  # a third derivative, contracted with v twice
    np.testing.assert_allclose(third.data, central_differences(second, w), rtol=1e-6, atol=1e-8)


def test_a_gradient_penalty_matches_central_differences():
    # ||d out / d x||^2 as a loss in w (WGAN-GP's penalty): needs create_graph
    rng = np.random.default_rng(1)
    w = leaf(rng.normal(size=(3, 4)))
    x_values = rng.normal(size=(5, 3))

    def penalty(w):
        x = Tensor(x_values, requires_grad=True)
        (gx,) = grad((x @ w).sigmoid().sum(), x, create_graph=True)
        return (((gx * gx).sum(axis=1).sqrt() - 1) ** 2).sum()

    (g,) = grad(penalty(w), w)
    np.testing.assert_allclose(g.data, central_differences(penalty, w), rtol=1e-6, atol=1e-9)


def test_a_gradient_weight_can_be_differentiated_for_a_jacobian_vector_product():
    # The double-backward trick: u -> J^T u is linear in u, so its VJP with v is J v.
    x = leaf([0.3, -1.2, 2.0])
    a = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])
    y = Tensor(a) @ x.tanh()  # J = a * (1 - tanh(x)^2) by column
    u = Tensor(np.zeros(2), requires_grad=True)
    (vjp,) = grad(y, x, grad_outputs=u, create_graph=True)
    v = np.array([1.0, 2.0, -1.0])
    (jvp,) = grad(vjp, u, grad_outputs=v)
    np.testing.assert_allclose(jvp.data, (a * (1 - np.tanh(x.data) ** 2)) @ v, rtol=1e-14)


def test_create_graph_under_no_grad_still_records_the_backward_pass():
    x = leaf([0.5])
    y = (x ** 4).sum()
    with no_grad():
        (g,) = grad(y, x, create_graph=True)
        assert g.requires_grad
        (h,) = grad(g, x)  # g has one element: no sum (which no_grad would not record)
    assert h.item() == pytest.approx(12 * 0.25)


def test_float32_stays_float32_to_the_third_order():
    x = leaf([0.25, -0.5], np.float32)
    y = x.tanh()
    for _ in range(3):
        (y,) = grad(y.sum(), x, create_graph=True)
        assert y.dtype == np.float32
    t = np.tanh(np.float64(x.data))
    np.testing.assert_allclose(y.data, (6 * t * t - 2) * (1 - t * t), rtol=1e-5)


# ---------------------------------------------------------------- backward(create_graph=True)
def test_backward_with_create_graph_stores_a_tensor_with_a_graph_in_grad():
    x = leaf([1.0, -2.0])
    (x ** 3).sum().backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Tensor) and first.requires_grad and first.op is not None
    np.testing.assert_array_equal(first.data, 3 * x.data ** 2)
    x.grad = None
    first.sum().backward()
    np.testing.assert_array_equal(x.grad, 6 * x.data)  # an ndarray again: no create_graph
    assert type(x.grad) is np.ndarray


def test_backward_with_create_graph_accumulates_as_tensors():
    x = leaf([0.5])
    (x ** 2).sum().backward(create_graph=True)
    (x.sin()).sum().backward(create_graph=True)
    assert isinstance(x.grad, Tensor)
    np.testing.assert_allclose(x.grad.data, 2 * 0.5 + np.cos(0.5))
    (second,) = grad(x.grad.sum(), x)
    np.testing.assert_allclose(second.data, 2 - np.sin(0.5))


def test_backward_with_create_graph_gives_each_leaf_its_own_grad():
    a, b = leaf([1.0, 2.0]), leaf([1.0, 2.0])
    (a + b).sum().backward(create_graph=True)  # add's VJP hands the same g to both
    assert a.grad is not b.grad
    a.grad.data[0] = 50.0
    assert b.grad.data[0] == 1.0


def test_tensor_backward_docstring_says_what_grad_holds_with_create_graph():
    doc = Tensor.backward.__doc__
    assert "create_graph=True" in doc and "`.grad`" in doc and "Tensor with its own graph" in doc


# ---------------------------------------------------------------- edges found while testing
@pytest.mark.parametrize("fn", [lambda x: x.relu(), lambda x: x.clip(-1.0, 1.0),
                                lambda x: x.max(), lambda x: x.min()],
                         ids=["relu", "clip", "max", "min"])
def test_second_derivatives_at_a_0d_input(fn):
    # Their VJPs multiply g by a comparison of x; on a 0-d Tensor that is a numpy bool scalar,
    # which must combine with a Tensor as the bool array of a larger x does.
    x = leaf(0.5)
    (g,) = grad(fn(x) ** 2, x, create_graph=True)
    (h,) = grad(g, x)
    assert (g.item(), h.item()) == (1.0, 2.0)  # 2 f f' and 2 f'^2 + 2 f f'', f = x here


@pytest.mark.parametrize("exponent, derivatives", [
    (0, [0.0, 0.0, 0.0]),   # x**0 = 1: every derivative is 0, also at x = 0 (PyTorch: 0)
    (1, [1.0, 0.0, 0.0]),
    (2, [0.0, 2.0, 0.0]),
])
def test_powers_have_finite_higher_derivatives_at_zero(exponent, derivatives):
    # x ** y's VJP is where(y == 0, 0, g * y * x ** (y - 1)): differentiating it again must not
    # send 0 * inf = nan through the branch that where() discards.
    x = leaf(0.0)
    y, found = x ** exponent, []
    for _ in derivatives:
        (y,) = grad(y, x, create_graph=True)
        found.append(y.item())
    assert found == derivatives
