"""nn/data.py: batches keep every sample once, in order or shuffled reproducibly."""

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn.data import batches

X = np.arange(20.0).reshape(10, 2)
Y = np.arange(10)


def test_batches_in_order_keep_the_last_partial_batch():
    got = list(batches(X, Y, 4, shuffle=False))
    assert [len(xb) for xb, _ in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in got]), X)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in got]), Y)
    assert all(isinstance(xb, np.ndarray) and isinstance(yb, np.ndarray) for xb, yb in got)


def test_shuffled_batches_are_a_permutation_with_rows_kept_paired():
    got = list(batches(X, Y, 3, rng=np.random.default_rng(0)))
    xs = np.concatenate([xb for xb, _ in got])
    ys = np.concatenate([yb for _, yb in got])
    assert sorted(ys) == list(Y) and not np.array_equal(ys, Y)
    np.testing.assert_array_equal(xs, X[ys])  # each x row still sits beside its y


def test_shuffle_is_reproducible_with_rng_or_manual_seed():
    def order(**kwargs):
        return np.concatenate([yb for _, yb in batches(X, Y, 3, **kwargs)])

    np.testing.assert_array_equal(order(rng=np.random.default_rng(5)),
                                  order(rng=np.random.default_rng(5)))
    nn.manual_seed(1)
    first = order()
    nn.manual_seed(1)
    np.testing.assert_array_equal(order(), first)


def test_batch_larger_than_the_data_gives_one_batch():
    (xb, yb), = batches(X, Y, 100, shuffle=False)
    np.testing.assert_array_equal(xb, X)


def test_accepts_lists_and_tensors():
    (xb, yb), = batches(Tensor(X), Y.tolist(), 10, shuffle=False)
    np.testing.assert_array_equal(xb, X)
    np.testing.assert_array_equal(yb, Y)


@pytest.mark.parametrize("x, y, size, message", [
    (X, Y[:9], 2, r"X and y hold different numbers of samples: X has shape \(10, 2\), y has "
                  r"shape \(9,\)"),
    (X, Y, 0, "batch_size must be a positive integer, got 0"),
    (X, Y, 2.5, "batch_size must be a positive integer, got 2.5"),
    (np.float64(1.0), Y, 2, r"need a first \(sample\) axis"),
])
def test_bad_arguments_raise_at_the_call(x, y, size, message):
    with pytest.raises(ValueError, match=message):
        batches(x, y, size)  # no next(): checked eagerly
