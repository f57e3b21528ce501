"""nn/layers.py: Linear, the activations, Sequential and MLP: values, gradients, errors."""

import math

import numpy as np
import pytest
from scipy.special import expit, softmax

import nn
from autograd import Tensor, gradcheck
from nn import init

RNG = np.random.default_rng(0)


def _assign(module, dotted, value):
    """Set the attribute at a dotted parameter path such as `layers.0.weight`."""
    *path, last = dotted.split(".")
    owner = module
    for part in path:
        owner = owner[int(part)] if isinstance(owner, (list, tuple)) else getattr(owner, part)
    if isinstance(owner, list):
        owner[int(last)] = value
    else:
        setattr(owner, last, value)


def check_module_gradients(module, x):
    """gradcheck a module w.r.t. its input and every parameter (float64 central differences).

    The output is projected on fixed random weights first, so that outputs whose plain sum is
    constant (softmax) still test their gradients.
    """
    named = module.named_parameters()
    originals = [p for _, p in named]
    projection = np.random.default_rng(1).normal(size=module(x).shape)

    def fn(x, *params):
        for (name, _), p in zip(named, params):
            _assign(module, name, p)
        return (module(x) * projection).sum()

    try:
        return gradcheck(fn, Tensor(x, requires_grad=True), *originals)
    finally:
        for (name, _), p in zip(named, originals):
            _assign(module, name, p)


# ---------------------------------------------------------------- Linear
def test_linear_computes_x_at_weight_plus_bias():
    layer = nn.Linear(3, 4, rng=np.random.default_rng(0))
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (4,)
    assert np.all(layer.bias.data == 0)
    layer.bias.data[:] = [1.0, 2.0, 3.0, 4.0]
    x = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data + layer.bias.data)
    x3 = RNG.normal(size=(2, 5, 3))  # leading dimensions are batch dimensions
    np.testing.assert_allclose(layer(x3).data, x3 @ layer.weight.data + layer.bias.data)
    np.testing.assert_allclose(layer(x[0]).data, x[0] @ layer.weight.data + layer.bias.data)


def test_linear_without_bias():
    layer = nn.Linear(3, 2, bias=False)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x = RNG.normal(size=(4, 3))
    np.testing.assert_allclose(layer(x).data, x @ layer.weight.data)


def test_linear_float32_end_to_end():
    layer = nn.Linear(3, 2, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    out = layer(RNG.normal(size=(4, 3)).astype(np.float32))
    out.sum().backward()
    assert out.dtype == np.float32 and layer.weight.grad.dtype == np.float32


def test_linear_rejects_a_wrong_input_width_naming_the_layer():
    message = (r"Linear\(64, 100\): expected input with 64 features \(last dim\), "
               r"got shape \(32, 10\)")
    with pytest.raises(ValueError, match=message):
        nn.Linear(64, 100)(np.zeros((32, 10)))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        nn.Linear(1, 1)(Tensor(1.0))


@pytest.mark.parametrize("kwargs, message", [
    ({"in_features": 0, "out_features": 2}, "in_features must be a positive integer, got 0"),
    ({"in_features": 2, "out_features": 1.5}, "out_features must be a positive integer, got 1.5"),
    ({"in_features": 2, "out_features": 2, "dtype": np.int64},
     r"Linear\(2, 2\): dtype must be float32 or float64, got int64"),
    ({"in_features": 2, "out_features": 2, "init": "zeros"}, "unknown init 'zeros'; valid names"),
    ({"in_features": 2, "out_features": 3, "init": lambda shape, rng: np.zeros((3, 2))},
     r"init returned shape \(3, 2\), expected \(2, 3\)"),
])
def test_linear_constructor_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.Linear(**kwargs)


@pytest.mark.parametrize("name", sorted(init.INITIALIZERS))
def test_linear_init_by_name_draws_from_the_given_rng(name):
    layer = nn.Linear(3, 4, init=name, rng=np.random.default_rng(5))
    expected = init.INITIALIZERS[name]((3, 4), np.random.default_rng(5))
    np.testing.assert_array_equal(layer.weight.data, expected)


def test_linear_accepts_a_callable_init():
    layer = nn.Linear(2, 3, init=lambda shape, rng: np.full(shape, 0.5), dtype=np.float32)
    assert layer.weight.dtype == np.float32 and np.all(layer.weight.data == 0.5)


def test_linear_gradients_wrt_input_and_parameters():
    layer = nn.Linear(3, 4)
    layer.bias.data[:] = RNG.normal(size=4)
    assert check_module_gradients(layer, RNG.normal(size=(5, 3)))
    assert check_module_gradients(layer, RNG.normal(size=(2, 2, 3)))
    assert check_module_gradients(nn.Linear(3, 2, bias=False), RNG.normal(size=(4, 3)))


# ---------------------------------------------------------------- activations
X = RNG.normal(size=(4, 5)) * 2
X_AWAY_FROM_ZERO = np.where(np.abs(X) < 0.1, 0.5, X)  # relu's kink stays out of the differences


@pytest.mark.parametrize("module, reference", [
    (nn.Sigmoid(), expit),
    (nn.Tanh(), np.tanh),
    (nn.ReLU(), lambda x: np.maximum(x, 0)),
    (nn.Identity(), lambda x: x),
    (nn.Softmax(), lambda x: softmax(x, axis=-1)),
    (nn.Softmax(axis=0), lambda x: softmax(x, axis=0)),
    (nn.LeakyReLU(), lambda x: np.where(x > 0, x, 0.01 * x)),
    (nn.LeakyReLU(0.2), lambda x: np.where(x > 0, x, 0.2 * x)),
    (nn.Softplus(), lambda x: np.logaddexp(0, x)),
    (nn.Softplus(beta=2.5), lambda x: np.logaddexp(0, 2.5 * x) / 2.5),
    (nn.GELU(), lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / np.sqrt(2)))),
    (nn.GELU(approximate="tanh"),
     lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
], ids=lambda v: repr(v) if isinstance(v, nn.Module) else "")
def test_activation_values_and_gradients(module, reference):
    np.testing.assert_allclose(module(X_AWAY_FROM_ZERO).data, reference(X_AWAY_FROM_ZERO),
                               rtol=1e-12, atol=1e-15)
    assert check_module_gradients(module, X_AWAY_FROM_ZERO)


def test_activations_are_finite_at_extreme_inputs():
    x = np.array([[-1000.0, 0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for module in (nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.Softmax(), nn.LeakyReLU(),
                       nn.Softplus(), nn.Softplus(beta=0.5), nn.GELU()):
            xt = Tensor(x, requires_grad=True)
            out = module(xt)
            (out * np.arange(1.0, 4.0)).sum().backward()
            assert np.isfinite(out.data).all() and np.isfinite(xt.grad).all()


def test_new_activations_keep_float32_and_print_their_arguments():
    for module in (nn.LeakyReLU(0.1), nn.Softplus(beta=2.0), nn.GELU()):
        assert module(np.ones(3, np.float32)).dtype == np.float32
    assert [repr(m) for m in (nn.LeakyReLU(0.1), nn.Softplus(2.0), nn.GELU())] == [
        "LeakyReLU(negative_slope=0.1)", "Softplus(beta=2.0)", "GELU(approximate='none')"]


@pytest.mark.parametrize("make, message", [
    (lambda: nn.LeakyReLU(float("nan")), "LeakyReLU: negative_slope must be a finite number"),
    (lambda: nn.Softplus(beta=0), "Softplus: beta must be a finite number > 0, got 0"),
    (lambda: nn.GELU(approximate="erf"), r"GELU: approximate must be 'none' \(exact\) or 'tanh'"),
])
def test_new_activations_reject_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("ours, theirs", [
    (lambda: nn.LeakyReLU(), lambda t: t.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.3), lambda t: t.nn.LeakyReLU(0.3)),
    (lambda: nn.Softplus(), lambda t: t.nn.Softplus()),
    (lambda: nn.Softplus(beta=3.0), lambda t: t.nn.Softplus(beta=3.0)),
    (lambda: nn.GELU(), lambda t: t.nn.GELU()),
    (lambda: nn.GELU(approximate="tanh"), lambda t: t.nn.GELU(approximate="tanh")),
], ids=["LeakyReLU", "LeakyReLU(0.3)", "Softplus", "Softplus(beta=3)", "GELU", "GELU(tanh)"])
def test_new_activations_match_pytorch(ours, theirs):
    torch = pytest.importorskip("torch")
    x = np.concatenate([X_AWAY_FROM_ZERO.ravel(), [-30.0, -5.0, 5.0, 30.0]])
    weights = np.random.default_rng(4).normal(size=x.shape)
    xt = Tensor(x, requires_grad=True)
    (ours()(xt) * weights).sum().backward()
    tx = torch.tensor(x, requires_grad=True)
    out = theirs(torch)(tx)
    (out * torch.tensor(weights)).sum().backward()
    np.testing.assert_allclose(ours()(x).data, out.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(xt.grad, tx.grad.numpy(), rtol=1e-10, atol=1e-15)


def test_identity_returns_its_input():
    x = Tensor([1.0, 2.0])
    assert nn.Identity()(x) is x


# ---------------------------------------------------------------- Sequential
def test_sequential_applies_modules_in_order_and_behaves_like_a_list():
    first, second = nn.Linear(3, 4), nn.Linear(4, 2)
    model = nn.Sequential(first, nn.Tanh(), second)
    x = RNG.normal(size=(5, 3))
    np.testing.assert_allclose(model(x).data, second(first(x).tanh()).data)
    assert len(model) == 3 and model[0] is first and model[-1] is second
    assert list(model) == model.layers
    head = model[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is first
    assert [n for n, _ in model.named_parameters()] == [
        "layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]


def test_sequential_gradients():
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 2), nn.Softmax())
    assert check_module_gradients(model, RNG.normal(size=(5, 3)))


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="Sequential: item 1 is a ufunc, not a Module"):
        nn.Sequential(nn.Linear(1, 1), np.tanh)


# ---------------------------------------------------------------- MLP
def test_mlp_structure_follows_sizes_and_activations():
    model = nn.MLP([4, 8, 6, 3], activation="tanh", output_activation="softmax")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "Tanh", "Linear", "Tanh", "Linear", "Softmax"]
    assert [(m.in_features, m.out_features) for m in model if isinstance(m, nn.Linear)] == [
        (4, 8), (8, 6), (6, 3)]
    assert [type(m).__name__ for m in nn.MLP([2, 3, 1])] == ["Linear", "ReLU", "Linear"]
    out = model(RNG.normal(size=(5, 4))).data
    np.testing.assert_allclose(out.sum(axis=1), 1.0)


@pytest.mark.parametrize("activation, output, inits", [
    ("relu", None, ["he_uniform", "xavier_uniform"]),
    ("tanh", "sigmoid", ["xavier_uniform", "xavier_uniform"]),
    ("sigmoid", "relu", ["xavier_uniform", "he_uniform"]),
    ("leaky_relu", "gelu", ["he_uniform", "xavier_uniform"]),
    ("softplus", "leaky_relu", ["xavier_uniform", "he_uniform"]),
])
def test_mlp_initialises_each_layer_for_the_activation_after_it(activation, output, inits):
    model = nn.MLP([3, 5, 2], activation, output, rng=np.random.default_rng(0))
    rng = np.random.default_rng(0)
    for layer, name in zip([model[0], model[2]], inits):
        np.testing.assert_array_equal(layer.weight.data,
                                      init.INITIALIZERS[name](layer.weight.shape, rng))


def test_mlp_init_override_and_reproducibility():
    nn.manual_seed(3)
    a = nn.MLP([3, 5, 2], init="he_normal")
    nn.manual_seed(3)
    b = nn.MLP([3, 5, 2], init="he_normal")
    rng = nn.manual_seed(3)
    np.testing.assert_array_equal(a[0].weight.data, init.he_normal((3, 5), rng))
    for (_, p), (_, q) in zip(a.named_parameters(), b.named_parameters()):
        np.testing.assert_array_equal(p.data, q.data)
    c = nn.MLP([3, 5, 2], init="he_normal")  # the default stream has moved on
    assert not np.array_equal(c[0].weight.data, a[0].weight.data)


@pytest.mark.parametrize("activation, layer", [
    ("leaky_relu", nn.LeakyReLU), ("gelu", nn.GELU), ("softplus", nn.Softplus)])
def test_mlp_takes_the_new_activations_by_name(activation, layer):
    model = nn.MLP([3, 4, 2], activation=activation)
    assert isinstance(model[1], layer) and len(model) == 3
    assert check_module_gradients(model, X_AWAY_FROM_ZERO[:, :3])


def test_mlp_float32():
    model = nn.MLP([3, 4, 1], dtype=np.float32)
    assert {p.dtype for p in model.parameters()} == {np.dtype(np.float32)}


def test_mlp_gradients_wrt_input_and_every_parameter():
    model = nn.MLP([3, 4, 4, 2], activation="tanh", output_activation="sigmoid")
    for layer in model:
        if isinstance(layer, nn.Linear):
            layer.bias.data[:] = RNG.normal(size=layer.bias.shape)
    assert check_module_gradients(model, RNG.normal(size=(6, 3)))


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "swish"}, "MLP: unknown activation 'swish'; valid: 'relu', 'tanh', "
                              "'sigmoid', 'leaky_relu', 'gelu', 'softplus'"),
    ({"output_activation": "linear"},
     "unknown output_activation 'linear'; valid: None, 'relu', 'tanh', 'sigmoid', "
     "'leaky_relu', 'gelu', 'softplus', 'softmax'"),
])
def test_mlp_rejects_unknown_activation_names(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nn.MLP([2, 2], **kwargs)


def test_mlp_needs_two_sizes():
    with pytest.raises(ValueError, match=r"MLP: sizes must list at least two widths"):
        nn.MLP([3])


def test_mlp_repr_shows_its_arguments():
    first_line = repr(nn.MLP([2, 4, 1], "tanh", "sigmoid")).splitlines()[0]
    assert first_line == ("MLP(sizes=[2, 4, 1], activation='tanh', "
                          "output_activation='sigmoid')  # 17 parameters")


# ---------------------------------------------------------------- Dropout
def test_dropout_zeroes_a_fraction_p_and_scales_the_rest_to_keep_the_mean():
    x = np.ones((400, 500))
    out = nn.Dropout(0.3, rng=np.random.default_rng(0))(x).data
    dropped = np.mean(out == 0)
    assert abs(dropped - 0.3) < 0.005  # binomial std ~0.001
    np.testing.assert_array_equal(np.unique(out), [0.0, 1 / 0.7])
    assert abs(out.mean() - 1.0) < 0.01


def test_dropout_gradient_is_the_mask():
    x = Tensor(RNG.normal(size=(6, 5)), requires_grad=True)
    out = nn.Dropout(0.5, rng=np.random.default_rng(1))(x)
    out.sum().backward()
    mask = out.data / x.data
    assert set(np.round(np.unique(mask), 12)) == {0.0, 2.0}
    np.testing.assert_allclose(x.grad, mask, rtol=1e-12)


def test_dropout_is_the_identity_in_eval_and_when_p_is_zero():
    layer = nn.Dropout(0.5)
    x = Tensor(np.ones((3, 4)))
    assert layer.eval()(x) is x
    assert nn.Dropout(0.0)(x) is x
    assert np.any(layer.train()(x).data == 0)


def test_dropout_with_p_one_drops_everything():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    out = nn.Dropout(1.0)(x)
    out.sum().backward()
    assert np.all(out.data == 0) and np.all(x.grad == 0)


def test_dropout_is_seeded_by_its_rng_or_manual_seed():
    x = np.ones((4, 50))
    a = nn.Dropout(0.5, rng=np.random.default_rng(7))(x).data
    b = nn.Dropout(0.5, rng=np.random.default_rng(7))(x).data
    np.testing.assert_array_equal(a, b)
    layer = nn.Dropout(0.5)  # made before the seed: the default generator is read at each call
    nn.manual_seed(3)
    first = layer(x).data
    nn.manual_seed(3)
    np.testing.assert_array_equal(layer(x).data, first)
    assert not np.array_equal(layer(x).data, first)  # a fresh mask for every call


def test_dropout_keeps_float32_and_prints_p():
    out = nn.Dropout(0.2)(np.ones((3, 3), np.float32))
    assert out.dtype == np.float32
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2)"


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5", True])
def test_dropout_rejects_non_probabilities(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\]"):
        nn.Dropout(p)


def test_dropout_in_an_mlp_switches_with_train_and_eval():
    model = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.5), nn.Linear(8, 1))
    x = RNG.normal(size=(5, 3))
    model.eval()
    np.testing.assert_array_equal(model(x).data, model(x).data)
    model.train()
    assert not np.array_equal(model(x).data, model(x).data)


# ---------------------------------------------------------------- Flatten
@pytest.mark.parametrize("shape, kwargs, expected", [
    ((2, 3, 4), {}, (2, 12)),
    ((2, 3, 4, 5), {"start_axis": 1, "end_axis": 2}, (2, 12, 5)),
    ((2, 3, 4), {"start_axis": 0}, (24,)),
    ((0, 3, 4), {}, (0, 12)),
    ((5, 1), {}, (5, 1)),
    ((5,), {"start_axis": 0}, (5,)),
])
def test_flatten_shapes(shape, kwargs, expected):
    x = np.arange(math.prod(shape), dtype=float).reshape(shape)
    out = nn.Flatten(**kwargs)(x)
    assert out.shape == expected
    np.testing.assert_array_equal(out.data.ravel(), x.ravel())


def test_flatten_gradient_and_errors():
    assert check_module_gradients(nn.Flatten(), RNG.normal(size=(2, 3, 2)))
    with pytest.raises(ValueError, match=r"Flatten\(start_axis=1, end_axis=-1\): axes out of "
                                         r"range for an input of shape \(4,\)"):
        nn.Flatten()(np.ones(4))
    with pytest.raises(ValueError, match="start_axis comes after end_axis"):
        nn.Flatten(2, 1)(np.ones((2, 3, 4)))


# ---------------------------------------------------------------- Sequential.append
def test_sequential_append_returns_self_and_adds_parameters():
    model = nn.Sequential(nn.Linear(2, 3))
    assert model.append(nn.Tanh()).append(nn.Linear(3, 1)) is model
    assert len(model) == 3 and model(np.ones((4, 2))).shape == (4, 1)
    assert [n for n, _ in model.named_parameters()][-1] == "layers.2.bias"
    with pytest.raises(TypeError, match="Sequential.append: got a function, not a Module"):
        model.append(lambda x: x)
