"""nn.utils, the flat-vector bridge: round trips, length errors, gradients against central
differences of the loss in theta, and scipy's L-BFGS-B reaching a closed-form optimum.
"""

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize

import nn
from autograd import Tensor
from nn.utils import (
    hessian_vector_product,
    parameters_to_vector,
    value_and_grad,
    vector_to_parameters,
)

# a classifier's loss on labels, and a regression's summed loss, for a 3-4-2 network on 5 rows
LOSSES = [(nn.CrossEntropyLoss(), np.array([0, 1, 1, 0, 1])),
          (nn.MSELoss(reduction="sum"), np.linspace(-1, 1, 10).reshape(5, 2))]


def small_mlp(seed=0):
    return nn.MLP([3, 4, 2], activation="tanh", rng=np.random.default_rng(seed))


def central_differences(f, theta, eps=1e-6):
    grad = np.zeros_like(theta)
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        grad[i] = (f(theta + step)[0] - f(theta - step)[0]) / (2 * eps)
    return grad


def test_vector_follows_named_parameters_order_as_float64():
    model = small_mlp()
    vector = parameters_to_vector(model)
    expected = np.concatenate([p.data.ravel() for _, p in model.named_parameters()])
    assert vector.dtype == np.float64 and vector.shape == (3 * 4 + 4 + 4 * 2 + 2,)
    np.testing.assert_array_equal(vector, expected)


def test_vector_is_a_copy():
    model = small_mlp()
    vector = parameters_to_vector(model)
    vector[:] = 0
    assert np.abs(parameters_to_vector(model)).sum() > 0


def test_round_trip_writes_in_place_keeping_shapes_and_dtypes():
    model = nn.MLP([3, 4, 2], activation="tanh", dtype=np.float32)
    arrays = [p.data for p in model.parameters()]
    theta = np.arange(model.num_parameters(), dtype=np.float64) / 10
    vector_to_parameters(theta, model)
    for p, array in zip(model.parameters(), arrays):
        assert p.data is array and p.dtype == np.float32  # the same arrays, overwritten
    np.testing.assert_allclose(parameters_to_vector(model), theta, rtol=1e-6)
    np.testing.assert_array_equal(model.parameters()[0].data[0], np.float32([0.0, 0.1, 0.2, 0.3]))


def test_a_list_of_tensors_works_like_a_module():
    a, b = Tensor(np.ones((2, 2)), requires_grad=True), Tensor([5.0], requires_grad=True)
    vector_to_parameters([1, 2, 3, 4, 5], [a, b])
    np.testing.assert_array_equal(a.data, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(parameters_to_vector([a, b]), [1, 2, 3, 4, 5])


def test_shared_parameter_is_one_slice_of_the_vector():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert parameters_to_vector(model).size == 6


@pytest.mark.parametrize("size", [25, 27, 0])
def test_wrong_length_names_expected_and_got_sizes(size):
    model = small_mlp()  # 3*4 + 4 + 4*2 + 2 = 26 parameters
    with pytest.raises(ValueError, match=rf"expected a 1-D vector of 26 values.*shape \({size},\)"):
        vector_to_parameters(np.zeros(size), model)


def test_two_dimensional_vector_is_refused_even_with_the_right_count():
    with pytest.raises(ValueError, match=r"vector_to_parameters: .*got shape \(2, 13\)"):
        vector_to_parameters(np.zeros((2, 13)), small_mlp())


@pytest.mark.parametrize("loss_fn, target", LOSSES)
def test_gradient_vector_matches_central_differences_in_theta(loss_fn, target):
    model = small_mlp(seed=1)
    X = np.random.default_rng(2).standard_normal((5, 3))
    f = value_and_grad(model, loss_fn, X, target)
    theta = parameters_to_vector(model)
    loss, grad = f(theta)
    assert isinstance(loss, float) and grad.dtype == np.float64 and grad.shape == theta.shape
    np.testing.assert_allclose(grad, central_differences(f, theta), rtol=1e-6, atol=1e-8)


def test_repeated_calls_do_not_accumulate_gradients():
    model = small_mlp()
    X = np.random.default_rng(0).standard_normal((4, 3))
    f = value_and_grad(model, nn.CrossEntropyLoss(), X, np.array([0, 1, 0, 1]))
    theta = parameters_to_vector(model)
    first_loss, first = f(theta)
    f(theta + 0.3)
    again_loss, again = f(theta)
    assert again_loss == first_loss
    np.testing.assert_array_equal(again, first)


def test_parameter_outside_the_graph_gets_a_zero_gradient():
    model = nn.Sequential(nn.Linear(2, 1), nn.Tanh())
    model.unused = Tensor(np.ones(3), requires_grad=True)
    f = value_and_grad(model, nn.MSELoss(), np.ones((2, 2)), np.zeros((2, 1)))
    _, grad = f(parameters_to_vector(model))
    assert grad.shape == (6,)
    np.testing.assert_array_equal(grad[3:], 0)
    assert np.abs(grad[:3]).sum() > 0


def test_lbfgsb_reaches_the_least_squares_solution():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ np.array([[1.5], [-2.0], [0.5]]) + 0.7 + 0.1 * rng.standard_normal((50, 1))
    nn.manual_seed(0)  # unseeded, about 1 start in 200 ended in L-BFGS-B's line-search failure
    model = nn.Linear(3, 1)
    res = minimize(value_and_grad(model, nn.MSELoss(), X, y), parameters_to_vector(model),
                   jac=True, method="L-BFGS-B", options=dict(gtol=1e-10, ftol=1e-14))
    assert res.success, res.message
    coef, *_ = np.linalg.lstsq(np.hstack([X, np.ones((50, 1))]), y, rcond=None)
    np.testing.assert_allclose(res.x, coef.ravel(), atol=1e-6)  # weight (3, 1), then bias
    vector_to_parameters(res.x, model)
    np.testing.assert_allclose(model(X).data, np.hstack([X, np.ones((50, 1))]) @ coef, atol=1e-5)


def test_backward_after_vector_to_parameters_raises():
    model = small_mlp()
    loss = model(np.ones((2, 3))).sum()
    vector_to_parameters(parameters_to_vector(model) + 1.0, model)
    with pytest.raises(RuntimeError, match=r"modified in place"):
        loss.backward()

# ---------------------------------------------------------------- hessian_vector_product (issue 11)


@pytest.mark.parametrize("loss_fn, target", LOSSES)
def test_hessian_vector_product_matches_central_differences_of_the_gradient(loss_fn, target):
    model = small_mlp(seed=3)
    X = np.random.default_rng(4).standard_normal((5, 3))
    f, hessp = value_and_grad(model, loss_fn, X, target), hessian_vector_product(model, loss_fn,
                                                                                 X, target)
    theta, eps = parameters_to_vector(model), 1e-6
    for p in np.random.default_rng(5).standard_normal((3, theta.size)):
        product = hessp(theta, p)
        assert product.dtype == np.float64 and product.shape == theta.shape
        numeric = (f(theta + eps * p)[1] - f(theta - eps * p)[1]) / (2 * eps)
        np.testing.assert_allclose(product, numeric, rtol=1e-6, atol=1e-8)


def test_hessian_vector_product_is_symmetric_and_leaves_grad_alone():
    model = small_mlp(seed=4)
    X = np.random.default_rng(6).standard_normal((4, 3))
    hessp = hessian_vector_product(model, nn.CrossEntropyLoss(), X, np.array([0, 1, 0, 1]))
    theta = parameters_to_vector(model)
    p, q = np.random.default_rng(7).standard_normal((2, theta.size))
    assert q @ hessp(theta, p) == pytest.approx(p @ hessp(theta, q), rel=1e-12)
    assert all(param.grad is None for param in model.parameters())


def test_least_squares_hessian_is_twice_the_gram_matrix_over_n():
    rng = np.random.default_rng(8)
    X = rng.standard_normal((20, 3))
    model = nn.Linear(3, 1)
    hessp = hessian_vector_product(model, nn.MSELoss(), X, rng.standard_normal((20, 1)))
    theta = rng.standard_normal(4)  # weight (3, 1), then bias
    H = np.stack([hessp(theta, e) for e in np.eye(4)], axis=1)
    A = np.hstack([X, np.ones((20, 1))])
    np.testing.assert_allclose(H, 2 * A.T @ A / 20, rtol=1e-13)


@pytest.mark.parametrize("method", ["Newton-CG", "trust-ncg"])
def test_newton_methods_solve_badly_scaled_least_squares_in_fewer_steps_than_bfgs(method):
    # Features on scales 1, 30 and 0.03: Newton's step does not care, BFGS must learn the scales.
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3)) * [1.0, 30.0, 0.03]
    y = X @ np.array([[1.5], [-0.2], [20.0]]) + 0.7 + 0.1 * rng.standard_normal((50, 1))
    coef, *_ = np.linalg.lstsq(np.hstack([X, np.ones((50, 1))]), y, rcond=None)
    runs = {}
    for name in ("BFGS", method):
        model, loss = nn.Linear(3, 1, rng=np.random.default_rng(1)), nn.MSELoss()  # one start
        hessp = {} if name == "BFGS" else {"hessp": hessian_vector_product(model, loss, X, y)}
        runs[name] = minimize(value_and_grad(model, loss, X, y), parameters_to_vector(model),
                              jac=True, method=name, **hessp)
        np.testing.assert_allclose(runs[name].x, coef.ravel(), atol=1e-6)
    assert runs[method].nhev > 0
    assert runs[method].nit < runs["BFGS"].nit


def test_hessian_vector_product_of_a_loss_linear_in_the_parameters_is_zero():
    model = nn.Linear(2, 3)
    model.unused = Tensor(np.ones(2), requires_grad=True)  # and one the loss never sees
    hessp = hessian_vector_product(model, lambda out, y: out.sum(), np.ones((4, 2)), None)
    product = hessp(parameters_to_vector(model), np.ones(11))
    np.testing.assert_array_equal(product, np.zeros(11))


def test_hessian_vector_product_of_a_float32_model_is_float64_and_ignores_unused():
    model = nn.Sequential(nn.Linear(2, 2, dtype=np.float32), nn.Tanh())
    model.unused = Tensor(np.ones(3, np.float32), requires_grad=True)
    X = np.random.default_rng(9).standard_normal((3, 2))
    hessp = hessian_vector_product(model, nn.MSELoss(), X, np.zeros((3, 2)))
    theta = parameters_to_vector(model)
    product = hessp(theta, np.ones(theta.size))
    assert product.dtype == np.float64 and product.shape == (9,)
    np.testing.assert_array_equal(product[6:], 0)
    assert np.abs(product[:6]).sum() > 0


def test_hessian_vector_product_names_a_vector_of_the_wrong_length():
    model = small_mlp()  # 26 parameters
    hessp = hessian_vector_product(model, nn.CrossEntropyLoss(), np.ones((2, 3)), [0, 1])
    with pytest.raises(ValueError, match=r"hessian_vector_product: p must be a 1-D vector of 26 "
                                         r"values .*got shape \(25,\)"):
        hessp(parameters_to_vector(model), np.ones(25))


# ---------------------------------------------------------------- compiled (issue 22)
def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def scipy_example_net(bias, dtype=np.float64):
    """examples/scipy_minimize.py's network: sigmoid hidden layer of 2, linear output."""
    return nn.MLP([2, 2, 1], activation="sigmoid", bias=bias, rng=np.random.default_rng(0),
                  dtype=dtype)


COMPILED_CASES = [  # (model maker, loss, X, y)
    (lambda: scipy_example_net(False), nn.MSELoss(reduction="sum"),
     np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]), np.array([[1.0], [0], [0], [1]])),
    (lambda: scipy_example_net(True, np.float32), nn.MSELoss(reduction="sum"),
     np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]), np.array([[1.0], [1], [0], [0]])),
    (lambda: small_mlp(seed=2), LOSSES[0][0], np.random.default_rng(3).standard_normal((5, 3)),
     LOSSES[0][1]),
    (lambda: small_mlp(seed=2), LOSSES[1][0], np.random.default_rng(3).standard_normal((5, 3)),
     LOSSES[1][1]),
    (lambda: nn.Sequential(nn.Linear(3, 1)), nn.MSELoss(), np.ones((0, 3)), np.ones((0, 1))),
]


@pytest.mark.parametrize("case", range(len(COMPILED_CASES)))
def test_compiled_value_and_grad_and_hessp_have_the_eager_bits_at_many_thetas(case):
    make, loss_fn, X, y = COMPILED_CASES[case]
    eager_model, fast_model = make(), make()
    f_eager, f_fast = (value_and_grad(m, loss_fn, X, y, compile=c)
                       for m, c in ((eager_model, False), (fast_model, None)))
    h_eager, h_fast = (hessian_vector_product(m, loss_fn, X, y, compile=c)
                       for m, c in ((eager_model, False), (fast_model, None)))
    rng = np.random.default_rng(case)
    theta = parameters_to_vector(fast_model)
    for k in range(10):
        theta = theta + 0.1 * rng.standard_normal(theta.size) * (k % 3 != 2)  # some repeat
        p = rng.standard_normal(theta.size)
        (a, g), (b, h) = f_eager(theta), f_fast(theta)
        assert isinstance(b, float) and same_bits(a, b) and same_bits(g, h)
        assert same_bits(h_eager(theta, p), h_fast(theta, p))
    # (cross-entropy's second-order VJP subtracts in place: the plan follows the moved node)
    assert f_fast.compiled and f_fast.eager_reason is None
    assert h_fast.compiled and h_fast.eager_reason is None
    assert f_eager.eager_reason == "compile=False" and not f_eager.compiled


def test_compiled_hessp_leaves_grad_as_it_was():
    model = small_mlp(seed=4)
    X = np.random.default_rng(6).standard_normal((4, 3))
    theta = parameters_to_vector(model)
    f = value_and_grad(model, nn.MSELoss(), X, np.ones((4, 2)))
    hessp = hessian_vector_product(model, nn.MSELoss(), X, np.ones((4, 2)))
    f(theta)
    grads = [p.grad.copy() for p in model.parameters()]
    for k in range(5):
        hessp(theta, np.full(theta.size, float(k)))
    assert hessp.compiled
    assert all(same_bits(p.grad, g) for p, g in zip(model.parameters(), grads))


def test_labels_changed_in_place_are_read_again():
    model, X = small_mlp(seed=5), np.random.default_rng(7).standard_normal((5, 3))
    y = np.array([0, 1, 1, 0, 1])
    f = value_and_grad(model, nn.CrossEntropyLoss(), X, y)
    theta = parameters_to_vector(model)
    for k in range(4):
        f(theta + k)
    y[:] = [1, 1, 0, 0, 0]
    eager = value_and_grad(small_mlp(seed=5), nn.CrossEntropyLoss(), X, y, compile=False)
    (a, g), (b, h) = eager(theta), f(theta)
    assert a == b and same_bits(g, h)


def test_dropout_at_the_same_parameters_draws_a_new_mask_each_call():
    # The default (compiled) function returned the first call's loss at every later call.
    def losses(compile):
        nn.manual_seed(3)
        model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 1))
        X = np.random.default_rng(0).standard_normal((20, 3))
        f = value_and_grad(model, nn.MSELoss(), X, X[:, :1], compile=compile)
        theta = parameters_to_vector(model)
        return [f(theta) for _ in range(5)], f
    (eager, _), (default, f) = losses(False), losses(None)
    for (a, g), (b, h) in zip(eager, default):
        assert a == b and same_bits(g, h)
    assert len({a for a, _ in default}) == 5 and not f.compiled


def test_dropout_in_training_runs_eagerly_with_its_reason_and_a_warning_when_asked():
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1))
    X, y = np.random.default_rng(8).standard_normal((6, 3)), np.zeros((6, 1))
    f = value_and_grad(model, nn.MSELoss(), X, y, compile=True)
    theta = parameters_to_vector(model)
    with pytest.warns(Warning, match="compiled function: .*(random|differs from eager)"):
        for k in range(4):
            f(theta + k)
    assert not f.compiled and f.eager_reason
    default = value_and_grad(model, nn.MSELoss(), X, y)  # compiled when it can, quietly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for k in range(4):
            default(theta + k)
    assert not default.compiled and default.eager_reason == f.eager_reason
    model.eval()  # a new signature: no random draws in evaluation mode
    quiet = value_and_grad(model, nn.MSELoss(), X, y)
    for k in range(4):
        quiet(theta + k)
    assert quiet.compiled
