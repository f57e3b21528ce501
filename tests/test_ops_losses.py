"""cross_entropy_labels (autograd/ops/losses.py): the gather at class labels against the
one-hot cross-entropy it replaces, float64 central differences, and its edges."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nn
from autograd import Tensor, cross_entropy_labels, gradcheck, gradgradcheck, hessian


def one_hot(labels, k, dtype):
    return (np.asarray(labels)[..., None] == np.arange(k)).astype(dtype)


def both(x, labels, reduction, dtype=np.float64):
    """(loss, gradient) of the gather and of cross_entropy against one-hot rows."""
    results = []
    for fn in (lambda t: cross_entropy_labels(t, labels, reduction),
               lambda t: t.cross_entropy(one_hot(labels, x.shape[-1], dtype), reduction)):
        t = Tensor(np.asarray(x, dtype), requires_grad=True)
        loss = fn(t)
        loss.sum().backward()
        results.append((loss.data, t.grad))
    return results


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4), (4,), (1, 1)])
def test_per_row_losses_and_gradients_are_those_of_one_hot_rows(shape, dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape) * 3
    labels = rng.integers(0, shape[-1], shape[:-1])
    (loss, grad), (loss1, grad1) = both(x, labels, "none", dtype)
    assert loss.dtype == dtype and grad.dtype == dtype and loss.shape == shape[:-1]
    # (the same numbers; a loss of zero is +0 here, where -(1 * 0) gave -0)
    np.testing.assert_array_equal(loss, loss1, strict=True)
    assert grad.tobytes() == grad1.tobytes()
    for reduction in ("mean", "sum"):  # one sum over n numbers instead of n * k: rounding only
        (loss, grad), (loss1, grad1) = both(x, labels, reduction, dtype)
        np.testing.assert_allclose(loss, loss1, rtol=4 * np.finfo(dtype).eps)
        assert grad.tobytes() == grad1.tobytes()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_gradients_match_central_differences_to_second_order(reduction):
    x = np.random.default_rng(1).normal(size=(4, 3))
    labels = np.array([2, 2, 0, 1])
    fn = lambda t: cross_entropy_labels(t, labels, reduction)  # noqa: E731
    assert gradcheck(fn, Tensor(x, requires_grad=True))
    assert gradgradcheck(fn, Tensor(x, requires_grad=True))


def test_hessian_is_that_of_one_hot_rows():
    x = np.random.default_rng(2).normal(size=(3, 4))
    labels = np.array([3, 0, 3])
    ours = hessian(lambda t: cross_entropy_labels(t, labels), x)
    theirs = hessian(lambda t: t.cross_entropy(one_hot(labels, 4, np.float64)), x)
    np.testing.assert_allclose(ours.data, theirs.data, rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_extreme_logits_stay_finite_and_exact(dtype):
    big = 1e38 if dtype == np.float32 else 1e300  # twice that still fits the dtype
    x = np.array([[big, -big, 0.0], [1e4, -1e4, 0.0], [0.0, 0.0, 0.0]], dtype)
    labels = np.array([1, 0, 2])  # the smallest logit, the largest, a tie
    t = Tensor(x, requires_grad=True)
    loss = cross_entropy_labels(t, labels, "none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [2 * big, 0.0, np.log(3)], rtol=1e-6)
    assert np.isfinite(t.grad).all()
    np.testing.assert_array_equal(t.grad[:2], [[1, -1, 0], [0, 0, 0]])


def test_an_empty_batch_gives_nan_mean_zero_sum_and_zero_gradients():
    for reduction, expected in (("mean", np.nan), ("sum", 0.0)):
        t = Tensor(np.zeros((0, 3)), requires_grad=True)
        loss = cross_entropy_labels(t, np.zeros(0, int), reduction)
        np.testing.assert_array_equal(loss.data, expected)
        loss.backward()
        assert t.grad.shape == (0, 3)
    none = cross_entropy_labels(np.zeros((0, 3)), np.zeros(0, np.uint8), "none")
    assert none.shape == (0,)


def test_the_labels_are_copied_so_a_later_change_leaves_the_graph_alone():
    x = np.random.default_rng(3).normal(size=(3, 4))
    labels = np.array([1, 2, 3])
    expected = both(x, labels.copy(), "mean")[0][1]
    for create_graph in (False, True):
        t = Tensor(x, requires_grad=True)
        given_labels = labels.copy()
        loss = cross_entropy_labels(t, given_labels)
        given_labels[:] = 0
        loss.backward(create_graph=create_graph)
        np.testing.assert_allclose(getattr(t.grad, "data", t.grad), expected, rtol=1e-15)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "uint64", "int64"])
def test_every_integer_dtype_of_labels_gives_the_same_result(dtype):
    x = np.random.default_rng(4).normal(size=(4, 3))
    base = cross_entropy_labels(x, np.array([0, 2, 1, 2])).item()
    assert cross_entropy_labels(x, np.array([0, 2, 1, 2], dtype)).item() == base


@pytest.mark.parametrize("labels,message", [
    ([0, 3], r"cross_entropy_labels: class labels must lie in \[0, 3\), got values in \[0, 3\]"),
    ([-1, 0], r"class labels must lie in \[0, 3\), got values in \[-1, 0\]"),
    ([0.0, 1.0], r"cross_entropy_labels: class labels must be integers, got dtype float64"),
    ([0, 1, 2], r"logits of shape \(2, 3\) need labels of shape \(2,\), got shape \(3,\)"),
])
def test_bad_labels_are_refused_with_their_values(labels, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy_labels(np.zeros((2, 3)), np.array(labels))


def test_a_scalar_and_a_bad_reduction_are_refused():
    with pytest.raises(ValueError, match=r"must have a class axis, got shape \(\)"):
        cross_entropy_labels(Tensor(1.0), np.array(0))
    with pytest.raises(ValueError, match=r"reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        cross_entropy_labels(np.zeros((2, 3)), np.array([0, 1]), "avg")


def test_nn_cross_entropy_runs_it_for_plain_labels_only():
    x = Tensor(np.random.default_rng(5).normal(size=(4, 3)), requires_grad=True)
    labels = np.array([0, 2, 1, 0])
    assert nn.functional.cross_entropy(x, labels).op.name == "cross_entropy_labels"
    assert nn.CrossEntropyLoss(reduction="sum")(x, labels).op.name == "cross_entropy_labels"
    assert nn.functional.cross_entropy(x, labels, label_smoothing=0.1).op.name != (
        "cross_entropy_labels")
    ignored = nn.functional.cross_entropy(x, np.array([0, -100, 1, 0]))
    assert ignored.op.name != "cross_entropy_labels"
    np.testing.assert_allclose(ignored.item(), cross_entropy_labels(
        x.data[[0, 2, 3]], np.array([0, 1, 0])).item(), rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=4),
                    elements=st.floats(-1e6, 1e6) | st.sampled_from([0.0, -0.0, 1e-300])),
       data=st.data())
def test_property_rows_match_one_hot_and_gradients_sum_to_zero(x, data):
    k = x.shape[-1]
    labels = data.draw(hnp.arrays(np.int64, x.shape[:-1], elements=st.integers(0, k - 1)))
    (loss, grad), (loss1, grad1) = both(x, labels, "none")
    assert np.isfinite(loss).all()
    np.testing.assert_array_equal(loss, loss1, strict=True)
    assert grad.tobytes() == grad1.tobytes()
    np.testing.assert_allclose(grad.sum(axis=-1), 0, atol=1e-12)  # softmax minus one, per row


def test_labels_given_to_the_probability_method_point_to_the_labels_function():
    with pytest.raises(ValueError, match=r"cross_entropy: logits shape \(3, 4\) and target shape "
                       r"\(3,\) differ; for class labels use autograd.cross_entropy_labels"):
        Tensor(np.zeros((3, 4))).cross_entropy(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"target shape \(3, 1\) differ$"):
        Tensor(np.zeros((3, 4))).cross_entropy(np.zeros((3, 1)))
