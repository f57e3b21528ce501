"""autograd/tensor_methods.py: the shape methods and the PyTorch-named Tensor methods, against
numpy, closed forms and float64 central differences (no torch needed)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Tensor, gradcheck, no_grad

DATA = np.arange(24.0).reshape(2, 3, 4) - 7.5


@pytest.fixture
def x():
    return Tensor(DATA.copy(), requires_grad=True)


# ---------------------------------------------------------------- shapes
@pytest.mark.parametrize("call, want", [
    (lambda t: t.view(6, 4), DATA.reshape(6, 4)),
    (lambda t: t.view((4, -1)), DATA.reshape(4, 6)),
    (lambda t: t.view_as(Tensor(np.zeros((3, 8)))), DATA.reshape(3, 8)),
    (lambda t: t.permute(2, 0, 1), DATA.transpose(2, 0, 1)),
    (lambda t: t.permute((1, -1, 0)), DATA.transpose(1, 2, 0)),
    (lambda t: t.unsqueeze(-1), DATA[..., None]),
    (lambda t: t.unsqueeze(1).squeeze(1), DATA),
    (lambda t: t.flatten(), DATA.ravel()),
    (lambda t: t.flatten(1), DATA.reshape(2, 12)),
    (lambda t: t.flatten(0, 1), DATA.reshape(6, 4)),
    (lambda t: t.flatten(-2, -1), DATA.reshape(2, 12)),
    (lambda t: t.flatten(1, 1), DATA),
])
def test_shape_methods_give_numpys_values_and_pass_the_gradient_back(x, call, want):
    out = call(x)
    np.testing.assert_array_equal(out.data, want)
    weights = np.random.default_rng(0).normal(size=want.shape)
    (out * weights).sum().backward()
    # every element moved somewhere: the gradient is the weights, moved back
    assert sorted(x.grad.ravel()) == sorted(weights.ravel())
    assert gradcheck(call, Tensor(DATA, requires_grad=True))


def test_flatten_edges():
    np.testing.assert_array_equal(Tensor(3.0).flatten().data, [3.0])  # 0-d: one element
    assert Tensor(np.zeros((2, 0, 3))).flatten(1).shape == (2, 0)
    with pytest.raises(ValueError, match=r"flatten: start_axis 2 comes after end_axis 1"):
        Tensor(DATA).flatten(2, 1)
    with pytest.raises(IndexError, match=r"flatten: end_axis 3 is out of range for a tensor "
                                         r"of shape \(2, 3, 4\) \(from -3 to 2\)"):
        Tensor(DATA).flatten(0, 3)


@pytest.mark.parametrize("axes", [(0, 1), (0, 0, 1), (0, 1, 3)])
def test_permute_needs_every_axis_once(axes):
    with pytest.raises(ValueError, match=r"permute.*give each of the 3 axes of shape \(2, 3, 4\)"):
        Tensor(DATA).permute(*axes)


def test_size_numel_dim_tolist_cpu(x):
    assert x.size() == (2, 3, 4) and x.size(0) == 2 and x.size(-1) == 4 and x.size == 24
    assert x.numel() == 24 and x.dim() == 3 and Tensor(1.0).dim() == 0
    assert x.tolist() == DATA.tolist() and isinstance(x.tolist()[0][0][0], float)
    assert x.cpu() is x
    array = x.detach().cpu().numpy()
    assert np.shares_memory(array, x.data)  # as in PyTorch: the same memory, no copy


# ---------------------------------------------------------------- dtypes
@pytest.mark.parametrize("convert, dtype", [
    (lambda t: t.float(), np.float32), (lambda t: t.double(), np.float64),
    (lambda t: t.to(np.float32), np.float32), (lambda t: t.to("float32"), np.float32),
    (lambda t: t.to(dtype=np.float32), np.float32), (lambda t: t.to("cpu", np.float32),
                                                     np.float32),
    (lambda t: t.type_as(Tensor(np.zeros(1, np.float32))), np.float32),
    (lambda t: t.to(Tensor(np.zeros(1, np.float32))), np.float32),
])
def test_dtype_conversions_are_differentiable_and_give_the_gradient_in_the_own_dtype(convert,
                                                                                    dtype):
    t = Tensor(DATA, requires_grad=True)
    out = convert(t)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out.data, DATA.astype(dtype))
    (out * 2).sum().backward()
    assert t.grad.dtype == np.float64
    np.testing.assert_array_equal(t.grad, np.full(DATA.shape, 2.0))


def test_to_a_device():
    t = Tensor(DATA)
    assert t.to("cpu") is t and t.to(device="cpu") is t
    with pytest.raises(ValueError, match=r"to\('cuda:0'\): npgrad runs on numpy, on the CPU"):
        t.to("cuda:0")
    with pytest.raises(TypeError, match="astype: Tensors hold floats"):
        t.to(np.int64)
    with pytest.raises(TypeError, match=r"to\('wibble'\): not a dtype npgrad knows"):
        t.to("wibble")


def test_clone_is_a_copy_in_the_graph(x):
    copy = x.clone()
    assert copy.data is not x.data and not np.shares_memory(copy.data, x.data)
    copy.data[0, 0, 0] = 100.0
    assert x.data[0, 0, 0] == DATA[0, 0, 0]
    (copy * 3).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(DATA.shape, 3.0))


# ---------------------------------------------------------------- clamp
@pytest.mark.parametrize("call, want", [
    (lambda t: t.clamp(-1.0, 2.0), np.clip(DATA, -1.0, 2.0)),
    (lambda t: t.clamp(min=0.5), np.maximum(DATA, 0.5)),
    (lambda t: t.clamp(max=0.5), np.minimum(DATA, 0.5)),
    (lambda t: t.clamp_min(-0.5), np.maximum(DATA, -0.5)),
    (lambda t: t.clamp_max(-0.5), np.minimum(DATA, -0.5)),
])
def test_clamp_is_clip_with_the_gradient_inside_the_bounds(x, call, want):
    out = call(x)
    np.testing.assert_array_equal(out.data, want)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, (out.data == DATA).astype(float))


def test_clamp_with_tensor_bounds_differentiates_the_bounds():
    lo = Tensor(np.full((3, 4), -1.25), requires_grad=True)
    hi = Tensor(np.linspace(0.25, 2.25, 4), requires_grad=True)
    assert gradcheck(lambda t, a, b: t.clamp(a, b), Tensor(DATA / 4, requires_grad=True), lo, hi)
    with pytest.raises(ValueError, match="clamp: give min, max or both"):
        Tensor(DATA).clamp()


# ---------------------------------------------------------------- split and chunk
@pytest.mark.parametrize("length, size, want", [
    (7, 3, [3, 3, 1]), (6, 3, [3, 3]), (2, 5, [2]), (0, 2, [0]), (4, [1, 0, 3], [1, 0, 3]),
])
def test_split_takes_pieces_of_a_size_as_pytorch(length, size, want):
    t = Tensor(np.arange(float(length * 2)).reshape(2, length), requires_grad=True)
    pieces = t.split(size, axis=1)
    assert isinstance(pieces, tuple) and [p.shape[1] for p in pieces] == want
    if pieces:
        np.testing.assert_array_equal(np.concatenate([p.data for p in pieces], axis=1), t.data)
        sum(p.sum() * (i + 1) for i, p in enumerate(pieces)).backward()
        np.testing.assert_array_equal(t.grad[0], np.repeat(np.arange(1, len(want) + 1), want))


@pytest.mark.parametrize("length, chunks, want", [
    (7, 3, [3, 3, 1]), (6, 4, [2, 2, 2]), (5, 5, [1] * 5), (2, 5, [1, 1]), (6, 1, [6]),
    (0, 3, [0, 0, 0]),
])
def test_chunk_gives_at_most_n_pieces_of_ceil_length_over_n(length, chunks, want):
    pieces = Tensor(np.arange(float(length))).chunk(chunks)
    assert [p.shape[0] for p in pieces] == want


@settings(max_examples=60, deadline=None)
@given(length=st.integers(0, 12), size=st.integers(1, 13), chunks=st.integers(1, 13))
def test_split_and_chunk_cover_the_axis_in_order(length, size, chunks):
    t = Tensor(np.arange(float(length)))
    for pieces, most in ((t.split(size), size), (t.chunk(chunks), -(-length // chunks))):
        lengths = [len(p) for p in pieces]
        np.testing.assert_array_equal(np.concatenate([p.data for p in pieces] or [np.zeros(0)]),
                                      t.data)
        assert all(n == most for n in lengths[:-1]) and 0 < lengths[-1] <= most or length == 0
    assert len(t.split(size)) == max(math.ceil(length / size), 1)  # an empty axis: one piece
    assert len(t.chunk(chunks)) <= chunks


def test_split_and_chunk_errors():
    t = Tensor(np.zeros(5))
    with pytest.raises(ValueError, match=r"split: sizes \[2, 2\] do not add up to the length 5"):
        t.split([2, 2])
    with pytest.raises(ValueError, match="split: split_size must be at least 1, got 0"):
        t.split(0)
    with pytest.raises(ValueError, match="chunk: chunks must be at least 1, got 0"):
        t.chunk(0)
    # autograd.split keeps numpy's meaning: 5 sections of a length-5 axis
    assert [p.shape for p in autograd.split(t, 5)] == [(1,)] * 5


# ---------------------------------------------------------------- masked_fill, new_*, zero_
def test_masked_fill_puts_the_value_where_the_mask_holds_with_no_gradient_there(x):
    out = x.masked_fill(x > 0, -1.0)
    np.testing.assert_array_equal(out.data, np.where(DATA > 0, -1.0, DATA))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, (DATA <= 0).astype(float))


def test_masked_fill_broadcasts_the_mask_and_differentiates_a_tensor_value():
    t = Tensor(DATA, requires_grad=True)
    value = Tensor(np.array(5.0), requires_grad=True)
    row_mask = np.array([True, False, False, True])
    assert gradcheck(lambda a, v: a.masked_fill(row_mask, v), t, value)
    out = t.masked_fill(row_mask, value)
    out.sum().backward()
    assert value.grad == 2 * 3 * 2  # its gradient sums over every filled position
    with pytest.raises(TypeError, match="masked_fill: the mask must be a bool array"):
        t.masked_fill(np.ones(4), 0.0)
    with pytest.raises(ValueError, match="broadcast"):
        t.masked_fill(np.ones(3, bool), 0.0)
    # broadcasts together, but to a larger shape than the tensor's: refused, as in PyTorch
    with pytest.raises(ValueError, match=r"masked_fill: a mask of shape \(3, 1\) does not "
                                         r"broadcast to the tensor's shape \(1, 4\)"):
        Tensor(np.zeros((1, 4))).masked_fill(np.ones((3, 1), bool), 0.0)
    with pytest.raises(ValueError, match=r"mask of shape \(2, 2, 3, 4\)"):
        t.masked_fill(np.ones((2, 2, 3, 4), bool), 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_zeros_and_new_ones_take_the_dtype(dtype):
    t = Tensor(np.zeros(2, dtype))
    for made, fill in ((t.new_zeros(2, 3), 0.0), (t.new_ones((3,)), 1.0)):
        assert made.dtype == dtype and not made.requires_grad and np.all(made.data == fill)
    assert t.new_zeros(2, requires_grad=True).requires_grad


def test_zero_in_place_under_no_grad_and_the_graph_it_invalidates():
    w = Tensor(DATA.copy(), requires_grad=True)
    loss = (w * w).sum()
    with no_grad():
        assert w.zero_() is w
    assert not w.data.any() and w.requires_grad
    with pytest.raises(RuntimeError, match="modified in place"):
        loss.backward()  # recorded before the change: refused, not differentiated at zeros
    plain = Tensor(DATA.copy())
    assert not plain.zero_().data.any()  # needs no gradient: allowed anywhere


# ---------------------------------------------------------------- backward's PyTorch keywords
def test_backward_gradient_retain_graph_and_inputs():
    a = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([3.0, -1.0]), requires_grad=True)
    out = a * b
    out.backward(gradient=np.array([1.0, 10.0]), retain_graph=True)
    np.testing.assert_array_equal(a.grad, [3.0, -10.0])
    out.backward(np.array([1.0, 1.0]), inputs=[b])  # only b accumulates
    np.testing.assert_array_equal(a.grad, [3.0, -10.0])
    np.testing.assert_array_equal(b.grad, [1.0 + 1.0, 20.0 + 2.0])
    (a * a).sum().backward(inputs=a)
    np.testing.assert_array_equal(a.grad, [3.0 + 2.0, -10.0 + 4.0])
    with pytest.raises(TypeError, match="backward: got both gradient= and grad="):
        out.backward(np.ones(2), grad=np.ones(2))
    with pytest.raises(ValueError, match="inputs= is empty"):
        out.backward(np.ones(2), inputs=[])


def test_backward_inputs_with_create_graph_keeps_a_differentiable_gradient():
    a = Tensor(np.array([0.5, 2.0]), requires_grad=True)
    (a ** 3).sum().backward(inputs=[a], create_graph=True)
    first = a.grad
    assert isinstance(first, Tensor)
    a.grad = None
    first.sum().backward()
    np.testing.assert_allclose(a.grad, 6 * a.data)


# ---------------------------------------------------------------- keywords and functions
def test_dim_and_keepdim_everywhere_they_mean_axis_and_keepdims(x):
    np.testing.assert_array_equal(x.sum(dim=(0, 2), keepdim=True).data,
                                  DATA.sum(axis=(0, 2), keepdims=True))
    np.testing.assert_array_equal(autograd.cat([x, x], dim=2).data,
                                  np.concatenate([DATA, DATA], axis=2))
    np.testing.assert_array_equal(autograd.concat([x, x], 1).data,
                                  np.concatenate([DATA, DATA], axis=1))
    values, indices = x.max(dim=-1)
    np.testing.assert_array_equal(indices, DATA.argmax(-1))
    values, indices = x.min(dim=0, keepdim=True)
    np.testing.assert_array_equal(values.data, DATA.min(0, keepdims=True))


def test_autograd_tensor_copies_the_data():
    data = np.array([1.0, 2.0])
    t = autograd.tensor(data, requires_grad=True)
    data[0] = 5.0
    assert t.data[0] == 1.0 and t.requires_grad and t.is_leaf
    assert autograd.tensor([1, 2]).dtype == np.float64
    assert autograd.tensor(3.0, dtype=np.float32).dtype == np.float32
    graph = t * 2
    copy = autograd.tensor(graph)
    assert copy.is_leaf and not copy.requires_grad and not np.shares_memory(copy.data, graph.data)
    with pytest.raises(TypeError, match="tensor: dtype must be np.float32 or np.float64"):
        autograd.tensor([1], dtype=np.int64)


def test_inference_mode_records_nothing_as_context_and_decorator():
    w = Tensor(np.ones(2), requires_grad=True)
    with autograd.inference_mode():
        assert not (w * 2).requires_grad
    with autograd.inference_mode(False):
        assert (w * 2).requires_grad

    @autograd.inference_mode()
    def predict(v):
        return v * 3

    assert not predict(w).requires_grad and autograd.is_grad_enabled()


# ---------------------------------------------------------------- nn layers' PyTorch keywords
def test_softmax_logsoftmax_and_flatten_layers_take_dim():
    t = Tensor(DATA)
    np.testing.assert_array_equal(nn.Softmax(dim=1)(t).data, t.softmax(axis=1).data)
    np.testing.assert_array_equal(nn.Softmax(1)(t).data, t.softmax(axis=1).data)
    np.testing.assert_array_equal(nn.Softmax()(t).data, t.softmax(axis=-1).data)
    np.testing.assert_array_equal(nn.LogSoftmax(dim=0)(t).data, t.log_softmax(axis=0).data)
    assert nn.Flatten(start_dim=0, end_dim=1)(t).shape == (6, 4)
    assert nn.Flatten()(t).shape == (2, 12) and nn.Flatten(0)(t).shape == (24,)
    with pytest.raises(TypeError, match=r"Softmax: got both axis=1 and dim=1; pass one"):
        nn.Softmax(1, dim=1)
    with pytest.raises(TypeError, match=r"Flatten: got both start_axis=0 and start_dim=0"):
        nn.Flatten(0, start_dim=0)


def test_max_with_dim_sends_the_gradient_to_the_index_it_returns_and_axis_shares_it():
    ties = np.array([[3.0, 3.0, 1.0], [0.0, 0.0, 0.0]])
    t = Tensor(ties, requires_grad=True)
    values, indices = t.max(dim=1)
    np.testing.assert_array_equal(indices, [0, 0])  # the first of the tied elements
    values.sum().backward()
    np.testing.assert_array_equal(t.grad, [[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    t.grad = None
    t.max(axis=1).sum().backward()  # numpy's meaning: tied maxima share it
    np.testing.assert_array_equal(t.grad, [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]])
    assert gradcheck(lambda a: a.min(dim=0, keepdim=True).values, Tensor(DATA,
                                                                          requires_grad=True))
    with pytest.raises(TypeError, match=r"max\(dim=\(0, 1\)\): dim must be one int"):
        t.max(dim=(0, 1))
