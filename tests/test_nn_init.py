"""nn/init.py: initialiser distributions, selection by name, and reproducible random numbers."""

import numpy as np
import pytest

import nn
from nn import init

SHAPE = (400, 600)


@pytest.mark.parametrize("name, std", [
    ("xavier_uniform", np.sqrt(2 / (400 + 600))),
    ("xavier_normal", np.sqrt(2 / (400 + 600))),
    ("he_uniform", np.sqrt(2 / 400)),
    ("he_normal", np.sqrt(2 / 400)),
])
def test_initialisers_have_the_published_standard_deviation(name, std):
    w = init.get_initializer(name)(SHAPE, np.random.default_rng(0))
    assert w.shape == SHAPE and w.dtype == np.float64
    assert abs(w.mean()) < 0.01 * std
    assert w.std() == pytest.approx(std, rel=0.01)


@pytest.mark.parametrize("fn, limit", [
    (init.xavier_uniform, np.sqrt(6 / (400 + 600))),
    (init.he_uniform, np.sqrt(6 / 400)),
])
def test_uniform_initialisers_fill_their_interval(fn, limit):
    w = fn(SHAPE, np.random.default_rng(0))
    assert -limit <= w.min() < -0.99 * limit and 0.99 * limit < w.max() <= limit


def test_unknown_init_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown init 'glorot'; valid names: 'xavier_uniform', "
                                         "'xavier_normal', 'he_uniform', 'he_normal'"):
        init.get_initializer("glorot")


def test_callable_init_is_returned_unchanged():
    def ones(shape, rng):
        return np.ones(shape)

    assert init.get_initializer(ones) is ones


def test_manual_seed_makes_later_draws_repeat():
    nn.manual_seed(123)
    first = init.he_normal((3, 4))
    nn.manual_seed(123)
    np.testing.assert_array_equal(init.he_normal((3, 4)), first)
    assert not np.array_equal(init.he_normal((3, 4)), first)  # the stream moves on


def test_explicit_rng_wins_over_the_default():
    nn.manual_seed(0)
    a = init.xavier_uniform((3, 4), np.random.default_rng(7))
    b = init.xavier_uniform((3, 4), np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(init.get_rng(None).uniform(size=2),
                                  np.random.default_rng(0).uniform(size=2))


def test_get_rng_rejects_other_types():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator or None, got int"):
        init.get_rng(3)


def test_numpy_global_seed_does_not_seed_nn_and_the_docs_say_so():
    np.random.seed(0)
    first = nn.Linear(3, 4).weight.data
    np.random.seed(0)
    assert not np.array_equal(nn.Linear(3, 4).weight.data, first)
    nn.manual_seed(0)
    first = nn.Linear(3, 4).weight.data
    nn.manual_seed(0)
    np.testing.assert_array_equal(nn.Linear(3, 4).weight.data, first)
    for doc in (nn.manual_seed.__doc__, init.__doc__):
        assert "np.random.seed" in doc and "does not" in doc
    with pytest.raises(ValueError, match="the seed must be a non-negative integer"):
        nn.manual_seed(-1)


# ---------------------------------------------------------------- PyTorch's in-place names
import math  # noqa: E402

from autograd import Tensor  # noqa: E402


@pytest.mark.parametrize("name, param, gain", [
    ("linear", None, 1.0), ("sigmoid", None, 1.0), ("conv2d", None, 1.0),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))), ("leaky_relu", 0, math.sqrt(2)),
    ("leaky_relu", 0.5, math.sqrt(2 / 1.25)),
])
def test_calculate_gain(name, param, gain):
    assert nn.init.calculate_gain(name, param) == gain


def test_calculate_gain_rejects_unknown_names():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        nn.init.calculate_gain("swish")


def _weight(shape=(400, 300)):
    return Tensor(np.zeros(shape), requires_grad=True)


@pytest.mark.parametrize("fill, expected", [
    (lambda t: nn.init.zeros_(t), 0.0), (lambda t: nn.init.ones_(t), 1.0),
    (lambda t: nn.init.constant_(t, 0.3), 0.3),
])
def test_constant_fills_in_place(fill, expected):
    t = _weight((3, 2))
    assert fill(t) is t
    np.testing.assert_array_equal(t.data, np.full((3, 2), expected))


@pytest.mark.parametrize("init, bound_or_std, kind", [
    (lambda t: nn.init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(6 / 700), "bound"),
    (lambda t: nn.init.xavier_normal_(t), math.sqrt(2 / 700), "std"),
    (lambda t: nn.init.kaiming_uniform_(t, nonlinearity="relu"), math.sqrt(6 / 400), "bound"),
    (lambda t: nn.init.kaiming_normal_(t, mode="fan_out"), math.sqrt(2 / 300), "std"),
    (lambda t: nn.init.kaiming_uniform_(t, a=math.sqrt(5)), math.sqrt(6 / 6 / 400), "bound"),
    (lambda t: nn.init.uniform_(t, -0.5, 0.5), 0.5, "bound"),
    (lambda t: nn.init.normal_(t, 0.0, 0.1), 0.1, "std"),
])
def test_random_fills_have_their_scale_with_fans_in_npgrads_layout(init, bound_or_std, kind):
    t = _weight()  # a Linear(400, 300) weight: fan_in 400, fan_out 300
    assert init(t) is t
    if kind == "bound":
        assert np.abs(t.data).max() <= bound_or_std
        assert np.abs(t.data).max() > 0.99 * bound_or_std
    else:
        assert t.data.std() == pytest.approx(bound_or_std, rel=0.02)


def test_fans_of_a_conv_weight_are_pytorchs():
    t = _weight((64, 32, 3, 3))  # (out, in, kh, kw): fan_in 32 * 9
    nn.init.kaiming_uniform_(t, nonlinearity="relu")
    assert np.abs(t.data).max() <= math.sqrt(6 / (32 * 9))
    assert np.abs(t.data).max() > 0.99 * math.sqrt(6 / (32 * 9))


def test_in_place_fills_draw_from_npgrads_generator_or_the_one_given():
    nn.manual_seed(4)
    first = nn.init.normal_(_weight((3, 3))).data.copy()
    nn.manual_seed(4)
    np.testing.assert_array_equal(nn.init.normal_(_weight((3, 3))).data, first)
    a = nn.init.uniform_(_weight((2, 2)), generator=np.random.default_rng(1)).data
    b = nn.init.uniform_(_weight((2, 2)), generator=np.random.default_rng(1)).data
    np.testing.assert_array_equal(a, b)


def test_a_fill_after_a_forward_makes_backward_refuse_the_stale_graph():
    layer = nn.Linear(2, 2)
    out = layer(Tensor(np.ones((1, 2)), requires_grad=True)).sum()  # x's gradient reads weight
    nn.init.zeros_(layer.weight)
    with pytest.raises(RuntimeError, match="modified"):
        out.backward()


def test_fill_errors():
    with pytest.raises(ValueError, match=r"xavier_uniform_: fan in and fan out need a tensor of "
                                         r"2 or more dimensions, got shape \(3,\)"):
        nn.init.xavier_uniform_(_weight((3,)))
    with pytest.raises(ValueError, match="mode must be 'fan_in' or 'fan_out'"):
        nn.init.kaiming_normal_(_weight((3, 3)), mode="fan")
    with pytest.raises(TypeError, match="nn.init: expected a Tensor, got list"):
        nn.init.zeros_([1.0, 2.0])
    f32 = Tensor(np.zeros((3, 3), np.float32), requires_grad=True)
    assert nn.init.xavier_normal_(f32).dtype == np.float32
