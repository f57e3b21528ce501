"""The eager step's shortcuts give what the general paths give, to the bit.

apply's unrolled calls, lifted Python numbers kept as read-only constants, the seed of backward,
the bias VJP that sums itself, tanh's in-place VJP and the losses' ufunc reductions each save
work on every step; each is checked here against the general computation or a closed form, at
the edges (0-d, size-1 shapes, float32, -0.0, nan, watchers).
"""

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor, engine, gradcheck
from autograd.ops import concatenate
from autograd.tensor import apply


def leaf(values, dtype=np.float64):
    return Tensor(np.asarray(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------- lifted Python numbers
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_number_used_again_gives_the_same_values_in_the_tensors_dtype(dtype):
    x = leaf([1.0, -2.0, 3.0], dtype)
    first, again = x * 0.1, x * 0.1
    np.testing.assert_array_equal(first.data, again.data)
    np.testing.assert_array_equal(first.data, x.data * np.asarray(0.1, dtype))
    assert first.dtype == again.dtype == dtype
    (again * 0.1).sum().backward()
    tenth = np.asarray(0.1, dtype)
    np.testing.assert_array_equal(x.grad, np.full(3, tenth * tenth))


def test_a_kept_number_cannot_be_changed_in_place():
    x = leaf([1.0, 2.0])
    constant = (x * 3.0).parents[1]
    with pytest.raises(ValueError, match="read-only"):
        constant.data += 1
    with pytest.raises(RuntimeError, match="shared by every operation"):
        constant += 1.0  # the in-place operator on the constant Tensor itself
    np.testing.assert_array_equal((x * 3.0).data, [3.0, 6.0])


def test_nodes_without_attributes_share_one_read_only_empty_dict():
    x = leaf([1.0, -2.0])
    a, b, s = x * 2.0, x.exp(), x.sum(axis=0)
    assert a.attrs == {} and a.attrs is b.attrs and not a.attrs
    assert s.attrs == {"axis": 0, "keepdims": False} and s.attrs is not a.attrs
    for change in (lambda d: d.__setitem__("axis", 1), lambda d: d.update(axis=1),
                   lambda d: d.setdefault("axis", 1), lambda d: d.clear()):
        with pytest.raises(TypeError, match="read-only"):
            change(a.attrs)
    assert a.attrs == {} and b.attrs == {}
    c = copy.deepcopy(a)
    assert c.attrs is a.attrs and dict(c.attrs) == {}
    (c.sum() + b.sum() + s.sum()).backward()
    np.testing.assert_allclose(c.parents[0].grad, [2.0, 2.0])
    np.testing.assert_allclose(x.grad, np.exp(x.data) + 1.0)


def test_zero_and_minus_zero_stay_apart():
    x = leaf([1.0, 2.0])
    np.testing.assert_array_equal(np.signbit((x * 0.0).data), [False, False])
    np.testing.assert_array_equal(np.signbit((x * -0.0).data), [True, True])
    np.testing.assert_array_equal(np.signbit((x * 0.0).data), [False, False])


def test_nan_and_many_distinct_numbers_are_right():
    x = leaf([1.0, -1.0])
    assert np.isnan((x * float("nan")).data).all()
    for k in range(600):  # more numbers than are kept: each is still its own value
        v = k / 7 + 0.5
        np.testing.assert_array_equal((x + v).data, x.data + v)
    np.testing.assert_array_equal((x * True).data, x.data)  # True == 1: the same constant
    np.testing.assert_array_equal((x * 2**60).data, x.data * float(2**60))


def test_under_a_watcher_every_number_is_reported_and_fresh():
    class Made(engine.Watcher):
        def __init__(self):
            self.arrays = []

        def made(self, array, func, *args):
            self.arrays.append(array)

    x = leaf([1.0, 2.0])
    x * 5.0  # kept outside the watcher
    with engine.watching(Made()) as w:
        a, b = x * 5.0, x * 5.0
    assert len(w.arrays) == 2 and w.arrays[0] is not w.arrays[1]
    assert a.parents[1].data is w.arrays[0] and b.parents[1].data is w.arrays[1]
    assert all(array.flags.writeable for array in w.arrays)


# ---------------------------------------------------------------- apply and the seed
def test_apply_with_many_inputs_and_with_attributes():
    parts = [leaf(np.arange(3.0) + i) for i in range(4)]
    out = apply(concatenate, *parts, axis=0)
    np.testing.assert_array_equal(out.data, np.concatenate([p.data for p in parts]))
    (out * np.arange(12.0)).sum().backward()
    for i, p in enumerate(parts):
        np.testing.assert_array_equal(p.grad, np.arange(12.0)[3 * i:3 * i + 3])


@pytest.mark.parametrize("shape", [(), (1,), (1, 1), (1, 1, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_seed_of_a_one_element_root_is_a_writable_one_of_its_shape(shape, dtype):
    x = Tensor(np.full(shape, 2.0, dtype), requires_grad=True)
    x.backward()  # x is the root and the leaf: its .grad must be its own array
    assert x.grad.shape == shape and x.grad.dtype == dtype and x.grad.base is None
    x.grad += 1
    np.testing.assert_array_equal(x.grad, np.full(shape, 2.0, dtype))
    y = x * 3.0
    y.backward()
    np.testing.assert_array_equal(x.grad, np.full(shape, 5.0, dtype))


def test_the_attribute_shortcuts_are_still_documented_properties():
    t = Tensor(np.zeros((2, 3), np.float32))
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 3), 2, 6, np.float32)
    for name in ("shape", "ndim", "size", "dtype"):
        assert isinstance(getattr(Tensor, name), property) and getattr(Tensor, name).__doc__
    with pytest.raises(AttributeError):
        t.shape = (3, 2)


# ---------------------------------------------------------------- VJPs that skip the engine's work
def _grads(loss_of, *arrays):
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    loss_of(*tensors).backward()
    return [t.grad for t in tensors]


@settings(max_examples=40, deadline=None)
@given(batch=st.sampled_from([(), (1,), (4,), (2, 3)]), n_in=st.integers(1, 4),
       n_out=st.integers(1, 4), dtype=st.sampled_from([np.float64, np.float32]),
       seed=st.integers(0, 2**16))
def test_linear_gives_the_bits_of_matmul_plus_bias(batch, n_in, n_out, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(batch + (n_in,)).astype(dtype)
    w = rng.standard_normal((n_in, n_out)).astype(dtype)
    b = rng.standard_normal(n_out).astype(dtype)
    g = rng.standard_normal(batch + (n_out,)).astype(dtype)
    fused = _grads(lambda x, w, b: (x.linear(w, b) * g).sum(), x, w, b)
    plain = _grads(lambda x, w, b: ((x @ w + b) * g).sum(), x, w, b)
    for f, p in zip(fused, plain):
        assert f.dtype == p.dtype and f.shape == p.shape
        np.testing.assert_array_equal(f, p)


def test_a_bias_that_broadcasts_otherwise_is_summed_by_the_engine():
    rng = np.random.default_rng(1)
    x, w = rng.standard_normal((5, 3)), rng.standard_normal((3, 2))
    for b, expected in ((np.zeros((1, 2)), [[5.0, 5.0]]), (np.zeros((5, 1)), [[2.0]] * 5),
                        (np.array(0.5), 10.0)):
        db = _grads(lambda x, w, b: x.linear(w, b).sum(), x, w, b)[2]
        assert db.shape == b.shape
        np.testing.assert_array_equal(db, expected)
    assert gradcheck(lambda x, w, b: x.linear(w, b),
                     leaf(x), leaf(w), leaf(rng.standard_normal((1, 2))))


@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 4)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tanh_grad_in_place_equals_the_formula(shape, dtype):
    x = np.linspace(-3, 3, int(np.prod(shape))).reshape(shape).astype(dtype)
    g = np.linspace(0.5, 2, int(np.prod(shape))).reshape(shape).astype(dtype)
    (grad,) = _grads(lambda t: (t.tanh() * g).sum(), x)
    out = np.tanh(x)
    np.testing.assert_array_equal(grad, g * (1 - out * out))
    assert grad.dtype == dtype


def test_tanh_grad_on_tensors_is_the_same_rule():
    x = leaf([0.3, -1.2, 2.0])
    (first,) = engine.grad(x.tanh().sum(), x, create_graph=True)
    np.testing.assert_array_equal(first.data, 1 - np.tanh(x.data) ** 2)
    (second,) = engine.grad(first.sum(), x)
    t = np.tanh(x.data)
    np.testing.assert_allclose(second.data, -2 * t * (1 - t * t))


# ---------------------------------------------------------------- the fused losses
def _softmax_ce_by_hand(x, t):
    """The cross-entropy's forward with ndarray methods: what the ufunc reductions replace."""
    shifted = x - x.max(axis=-1, keepdims=True, initial=-np.inf)
    exps = np.exp(shifted)
    total = exps.sum(axis=-1, keepdims=True)
    log_probs = shifted - np.log(total)
    return -(t * log_probs).sum() / (x.size // x.shape[-1])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("rows", [1, 7])
def test_cross_entropy_gives_the_bits_of_the_plain_formula(dtype, rows):
    rng = np.random.default_rng(rows)
    x = (rng.standard_normal((rows, 5)) * 3).astype(dtype)
    t = rng.dirichlet(np.ones(5), rows).astype(dtype)
    loss = Tensor(x).cross_entropy(t)
    assert loss.data == _softmax_ce_by_hand(x, t) and loss.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_bce_with_logits_gives_the_bits_of_the_plain_formula(dtype):
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((6, 1)) * 5).astype(dtype)
    t = (rng.random((6, 1)) > 0.5).astype(dtype)
    loss = Tensor(x).bce_with_logits(t)
    assert loss.data == (np.logaddexp(0, x) - x * t).sum() / x.size and loss.dtype == dtype
    assert Tensor(x).bce_with_logits(t, reduction="sum").data == (np.logaddexp(0, x) - x * t).sum()


# ---------------------------------------------------------------- quick Tensor tests
class _TensorKind(Tensor):
    __slots__ = ()


class _PosingAsTensor:
    """Claims Tensor as its __class__ (as a mock with spec=Tensor does): isinstance says yes."""

    @property
    def __class__(self):
        return Tensor


class _ListKind(list):
    pass


@pytest.mark.parametrize("value", [
    np.ones(2), 1.0, 3, True, None, "x", [Tensor(1.0)], (Tensor(1.0),), {"a": Tensor(1.0)},
    np.float64(2.0), np.float32(2.0), Tensor(1.0), _TensorKind(np.ones(2)), _PosingAsTensor(),
    _ListKind([1]), object(), Tensor,
], ids=lambda v: type(v).__name__)
def test_is_a_tensor_answers_as_isinstance(value):
    from autograd.tensor import is_a_tensor
    assert is_a_tensor(value) is isinstance(value, Tensor)


def test_the_first_parameter_is_found_through_every_kind_of_holder():
    import collections

    import nn
    from nn.module import _first_parameter

    class Holder(nn.Module):
        def __init__(self, first):
            self.sizes, self.name, self.data = [1, 2], "h", np.ones(3)
            self.cached = Tensor(np.ones(2))  # no parameter: skipped
            self.first = first

        def forward(self, x):
            return x  # the data as __call__ converted it

    pair = collections.namedtuple("Pair", "a b")
    for dtype in (np.float32, np.float64):
        def layer(dtype=dtype):
            return nn.Linear(2, 2, dtype=dtype)
        for first in (layer(), [layer()], (layer(),), _ListKind([layer()]), {"k": layer()},
                      collections.OrderedDict(k=layer()), pair(layer(), 1),
                      _TensorKind(np.ones(2, dtype), requires_grad=True)):
            model = Holder(first)
            found = _first_parameter(model)
            assert found is model.parameters()[0] and found.dtype == dtype
            assert model(np.ones((1, 2))).dtype == dtype  # float64 data takes the model's dtype


# ---------------------------------------------------------------- the walk's unrolled inputs
def _graphs():
    """(output, its inputs, which inputs some VJP reads): one input, two and three."""
    x, v, w, b = leaf([[0.5, -1.0]]), leaf([[2.0, 3.0]]), leaf([[1.0], [2.0]]), leaf([0.25])
    yield x.sin(), [x], {0}  # sin's VJP reads x
    yield x * v, [x, v], {0, 1}  # each factor's VJP reads the other one
    yield x.linear(w, b), [x, w, b], {0, 1}  # the bias is read by no VJP


@pytest.mark.parametrize("changed", [0, 1, 2])
def test_the_walk_sees_a_change_to_any_of_one_two_or_three_inputs(changed):
    for out, inputs, read in _graphs():
        if changed >= len(inputs):
            continue
        inputs[changed].mark_modified()
        if changed in read:
            with pytest.raises(RuntimeError, match=f"input {changed} .*modified in place"):
                out.sum().backward()
        else:
            out.sum().backward()
            assert all(t.grad is not None for t in inputs)


def test_the_walk_sees_a_change_to_the_output_its_vjp_reads():
    x = leaf([0.5, -1.0])
    y = x.exp()  # exp's VJP reads its output
    y.mark_modified()
    with pytest.raises(RuntimeError, match="its output .*modified in place"):
        y.sum().backward()
