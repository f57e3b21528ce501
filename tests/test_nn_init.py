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
