"""The convolution family (autograd/ops/conv.py) against loop-by-loop references and central
differences: conv, its two partial derivatives conv_transpose and conv_weight, and max_pool.

References walk every output position and kernel cell in Python, the definition written out.
CONV_ROWS joins test_ops.py's op table (every op has a case there); the rest covers odd shapes
(stride > kernel, padding over half the kernel, 1x1 kernels, batch 1, dilation, groups), ties,
-inf and NaN windows, errors, empty batches and what the graph keeps.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autograd import Tensor, gradcheck, gradgradcheck, ops
from autograd.convolution import conv, max_pool


# ---------------------------------------------------------------- references, one loop per cell
def _pad(x, padding, value=0.0):
    return np.pad(x, ((0, 0), (0, 0)) + tuple(padding), constant_values=value)


def _out(spatial, kernel, stride, padding, dilation):
    return tuple((n + lo + hi - d * (k - 1) - 1) // s + 1
                 for n, k, s, (lo, hi), d in zip(spatial, kernel, stride, padding, dilation))


def _cells(pos, kernel, stride, dilation):
    """(kernel offset, padded input index) of every cell of the window at output `pos`."""
    for k in np.ndindex(*kernel):
        yield k, tuple(p * s + i * d for p, s, i, d in zip(pos, stride, k, dilation))


def ref_conv(x, w, stride, padding, dilation, groups):
    xp = _pad(x, padding)
    out = _out(x.shape[2:], w.shape[2:], stride, padding, dilation)
    o, cg = w.shape[0], w.shape[1]
    og = o // groups
    y = np.zeros((x.shape[0], o) + out)
    for pos in np.ndindex(*out):
        for k, cell in _cells(pos, w.shape[2:], stride, dilation):
            for gi in range(groups):
                outs, ins = slice(gi * og, (gi + 1) * og), slice(gi * cg, (gi + 1) * cg)
                weights = w[(outs, slice(None), *k)]  # (out, in) of this group and cell
                y[(slice(None), outs, *pos)] += xp[(slice(None), ins, *cell)] @ weights.T
    return y


def ref_conv_transpose(g, w, shape, stride, padding, dilation, groups):
    """The adjoint of ref_conv in x: every product x * w sends g back to its x cell."""
    dxp = np.zeros(shape[:2] + tuple(n + lo + hi for n, (lo, hi) in zip(shape[2:], padding)))
    o, cg = w.shape[0], w.shape[1]
    og = o // groups
    for pos in np.ndindex(*g.shape[2:]):
        for k, cell in _cells(pos, w.shape[2:], stride, dilation):
            for gi in range(groups):
                outs, ins = slice(gi * og, (gi + 1) * og), slice(gi * cg, (gi + 1) * cg)
                weights = w[(outs, slice(None), *k)]
                dxp[(slice(None), ins, *cell)] += g[(slice(None), outs, *pos)] @ weights
    return dxp[(..., *(slice(lo, lo + n) for n, (lo, _) in zip(shape[2:], padding)))]


def ref_conv_weight(x, g, shape, stride, padding, dilation, groups):
    """The adjoint of ref_conv in w."""
    xp = _pad(x, padding)
    dw = np.zeros(shape)
    og, cg = shape[0] // groups, shape[1]
    for pos in np.ndindex(*g.shape[2:]):
        for k, cell in _cells(pos, shape[2:], stride, dilation):
            for gi in range(groups):
                outs, ins = slice(gi * og, (gi + 1) * og), slice(gi * cg, (gi + 1) * cg)
                cells = xp[(slice(None), ins, *cell)]
                dw[(outs, slice(None), *k)] += g[(slice(None), outs, *pos)].T @ cells
    return dw


def ref_max_pool(x, kernel, stride, padding, dilation):
    xp = _pad(x, padding, -np.inf)
    out = _out(x.shape[2:], kernel, stride, padding, dilation)
    y = np.empty(x.shape[:2] + out)
    for pos in np.ndindex(*out):
        window = _cells(pos, kernel, stride, dilation)
        cells = [xp[(slice(None), slice(None), *cell)] for _, cell in window]
        y[(slice(None), slice(None), *pos)] = np.max(cells, axis=0)
    return y


# ---------------------------------------------------------------- the op table's rows
def normal(*shape):
    return lambda rng: rng.normal(size=shape)


def distinct(*shape):
    n = int(np.prod(shape))
    return lambda rng: (rng.permutation(n) - n / 2).reshape(shape) * 0.25


# Odd on purpose: stride 2 with a kernel of 2, padding 2 (the whole kernel), dilation 2, groups.
X_SHAPE, W_SHAPE, G_SHAPE = (2, 4, 5, 6), (6, 2, 2, 3), (2, 6, 4, 4)
ATTRS = dict(stride=(2, 1), padding=((2, 2), (1, 1)), dilation=(1, 2), groups=2)
PUBLIC = dict(stride=(2, 1), padding=(2, 1), dilation=(1, 2), groups=2)
POOL = dict(kernel=(3, 2), stride=(2, 1), padding=((1, 1), (1, 1)), dilation=(1, 1))

# (op, Tensors -> Tensor through the public API, reference on arrays, input samplers)
CONV_ROWS = [
    (ops.conv, lambda x, w: conv(x, w, **PUBLIC), lambda x, w: ref_conv(x, w, **ATTRS),
     (normal(*X_SHAPE), normal(*W_SHAPE))),
    # the two partial derivatives, reached by the public API inside backward(create_graph=True)
    (ops.conv_transpose, lambda g, w: ops.conv_transpose(g, w, shape=X_SHAPE, **ATTRS),
     lambda g, w: ref_conv_transpose(g, w, X_SHAPE, **ATTRS), (normal(*G_SHAPE), normal(*W_SHAPE))),
    (ops.conv_weight, lambda x, g: ops.conv_weight(x, g, shape=W_SHAPE, **ATTRS),
     lambda x, g: ref_conv_weight(x, g, W_SHAPE, **ATTRS), (normal(*X_SHAPE), normal(*G_SHAPE))),
    (ops.max_pool, lambda x: max_pool(x, (3, 2), (2, 1), 1),
     lambda x: ref_max_pool(x, POOL["kernel"], POOL["stride"], POOL["padding"], (1, 1)),
     (distinct(2, 3, 5, 4),)),
]


def test_the_rows_cover_the_family():
    assert {row[0].name for row in CONV_ROWS} == {"conv", "conv_transpose", "conv_weight",
                                                  "max_pool"}


# ---------------------------------------------------------------- odd shapes, every order
# (x shape, w shape, stride, padding as given, the padding pairs it means, dilation, groups)
CONVS = {
    "1d-1x1-stride3-batch1": ((1, 3, 7), (2, 3, 1), 3, 0, ((0, 0),), 1, 1),
    "1d-pad3-dilation2-groups2": ((2, 2, 5), (4, 1, 3), 1, 3, ((3, 3),), 2, 2),
    "1d-same-even-kernel": ((2, 2, 6), (3, 2, 4), 1, "same", ((1, 2),), 1, 1),
    "2d-stride3-over-kernel2": ((1, 1, 5, 5), (2, 1, 2, 2), 3, 0, ((0, 0), (0, 0)), 1, 1),
    "2d-depthwise-same": ((2, 4, 4, 3), (4, 1, 3, 3), 1, "same", ((1, 1), (1, 1)), 1, 4),
    "2d-same-dilated-even": ((1, 2, 6, 5), (3, 2, 2, 2), 1, "same", ((1, 1), (1, 1)), 2, 1),
    "2d-valid-to-1x1": ((2, 3, 3, 3), (2, 3, 3, 3), 1, "valid", ((0, 0), (0, 0)), 1, 1),
    "2d-1x1-stride2-pad1": ((1, 2, 4, 4), (2, 2, 1, 1), 2, 1, ((1, 1), (1, 1)), 1, 1),
    "2d-tuples": ((2, 2, 5, 7), (4, 1, 2, 3), (1, 2), (2, 0), ((2, 2), (0, 0)), (2, 1), 2),
}


def _conv_inputs(x_shape, w_shape, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return (Tensor(rng.normal(size=x_shape).astype(dtype), requires_grad=True),
            Tensor(rng.normal(size=w_shape).astype(dtype), requires_grad=True))


def _weighted(fn, x, w, seed=1):
    weights = np.random.default_rng(seed).normal(size=fn(x, w).shape)
    return lambda x, w: fn(x, w) * weights


@pytest.mark.parametrize("case", CONVS.values(), ids=CONVS.keys())
def test_conv_forward_first_and_second_derivatives(case):
    x_shape, w_shape, stride, padding, pairs, dilation, groups = case
    x, w = _conv_inputs(x_shape, w_shape)
    nd = len(x_shape) - 2
    stride_t = stride if isinstance(stride, tuple) else (stride,) * nd
    dilation_t = dilation if isinstance(dilation, tuple) else (dilation,) * nd
    fn = lambda x, w: conv(x, w, stride=stride, padding=padding, dilation=dilation,
                           groups=groups)
    y = fn(x, w)
    assert y.attrs["padding"] == pairs
    np.testing.assert_allclose(y.data, ref_conv(x.data, w.data, stride_t, pairs, dilation_t,
                                                groups), rtol=1e-12, atol=1e-12)
    assert gradcheck(_weighted(fn, x, w), x, w)
    assert gradgradcheck(_weighted(fn, x, w), x, w)


@pytest.mark.parametrize("case", CONVS.values(), ids=CONVS.keys())
def test_conv_gradients_are_the_adjoint_references(case):
    x_shape, w_shape, stride, padding, pairs, dilation, groups = case
    x, w = _conv_inputs(x_shape, w_shape)
    y = conv(x, w, stride=stride, padding=padding, dilation=dilation, groups=groups)
    g = np.random.default_rng(2).normal(size=y.shape)
    y.backward(g)
    attrs = {k: y.attrs[k] for k in ("stride", "padding", "dilation", "groups")}
    np.testing.assert_allclose(x.grad, ref_conv_transpose(g, w.data, x.shape, **attrs),
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(w.grad, ref_conv_weight(x.data, g, w.shape, **attrs),
                               rtol=1e-12, atol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_conv_matches_the_reference_for_drawn_settings(data):
    nd = data.draw(st.sampled_from([1, 2]))
    groups = data.draw(st.sampled_from([1, 2]))
    kernel = data.draw(st.tuples(*[st.integers(1, 3)] * nd))
    stride = data.draw(st.tuples(*[st.integers(1, 3)] * nd))
    dilation = data.draw(st.tuples(*[st.integers(1, 2)] * nd))
    pads = data.draw(st.tuples(*[st.integers(0, 3)] * nd))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    spatial = tuple(data.draw(st.integers(max(1, s - 2 * p), 6)) for s, p in zip(spans, pads))
    n = data.draw(st.integers(1, 2))
    x, w = _conv_inputs((n, 2 * groups) + spatial, (groups * data.draw(st.integers(1, 2)), 2)
                        + kernel, seed=data.draw(st.integers(0, 99)))
    y = conv(x, w, stride=stride, padding=pads, dilation=dilation, groups=groups)
    attrs = {k: y.attrs[k] for k in ("stride", "padding", "dilation", "groups")}
    np.testing.assert_allclose(y.data, ref_conv(x.data, w.data, **attrs), atol=1e-12)
    g = np.random.default_rng(3).normal(size=y.shape)
    y.backward(g)
    np.testing.assert_allclose(x.grad, ref_conv_transpose(g, w.data, x.shape, **attrs),
                               atol=1e-12)
    np.testing.assert_allclose(w.grad, ref_conv_weight(x.data, g, w.shape, **attrs), atol=1e-12)


# (x shape, kernel, stride, padding, dilation)
POOLS = {
    "1d-overlapping": ((2, 3, 7), 3, 1, 1, 1),
    "1d-stride3-over-kernel2": ((1, 2, 8), 2, 3, 0, 1),
    "1d-dilation2": ((1, 2, 9), 3, 2, 1, 2),
    "2d-default-stride": ((2, 3, 6, 4), 2, None, 0, 1),
    "2d-1x1": ((1, 2, 3, 3), 1, 2, 0, 1),
    "2d-pad-half-kernel": ((1, 1, 5, 5), (3, 2), (2, 1), (1, 1), 1),
}


@pytest.mark.parametrize("case", POOLS.values(), ids=POOLS.keys())
def test_max_pool_forward_first_and_second_derivatives(case):
    shape, kernel, stride, padding, dilation = case
    n = int(np.prod(shape))
    x = Tensor((np.random.default_rng(0).permutation(n) - n / 2).reshape(shape) * 0.25,
               requires_grad=True)  # no ties: a finite difference cannot flip a winner
    fn = lambda x: max_pool(x, kernel, stride, padding, dilation)
    y = fn(x)
    np.testing.assert_array_equal(y.data, ref_max_pool(x.data, y.attrs["kernel"],
                                                       y.attrs["stride"], y.attrs["padding"],
                                                       y.attrs["dilation"]))
    weights = np.random.default_rng(1).normal(size=y.shape)
    assert gradcheck(lambda x: fn(x) * weights, x)
    assert gradgradcheck(lambda x: fn(x) * weights, x)


def ref_max_pool_grad(x, g, kernel, stride, padding, dilation):
    """Each window's g to the first real cell holding its maximum, in row-major window order
    (PyTorch's search: padding cells are never visited)."""
    dx = np.zeros_like(x)
    for n, c in np.ndindex(*x.shape[:2]):
        for pos in np.ndindex(*g.shape[2:]):
            cells = [tuple(i - lo for i, (lo, _) in zip(cell, padding))
                     for _, cell in _cells(pos, kernel, stride, dilation)]
            real = [cell for cell in cells
                    if all(0 <= i < m for i, m in zip(cell, x.shape[2:]))]
            assume(real)  # dilation can skip every real cell: PyTorch reads out of bounds there
            values = [x[(n, c, *cell)] for cell in real]
            top = max(values, key=lambda v: (np.isnan(v), v))
            first = next(cell for cell, v in zip(real, values)
                         if v == top or (np.isnan(v) and np.isnan(top)))
            dx[(n, c, *first)] += g[(n, c, *pos)]
    return dx


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_max_pool_matches_the_reference_with_ties_and_infinities(data):
    nd = data.draw(st.sampled_from([1, 2]))
    kernel = data.draw(st.tuples(*[st.integers(1, 3)] * nd))
    stride = data.draw(st.tuples(*[st.integers(1, 3)] * nd))
    dilation = data.draw(st.tuples(*[st.integers(1, 2)] * nd))
    pads = tuple(data.draw(st.integers(0, k // 2)) for k in kernel)
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    spatial = tuple(data.draw(st.integers(max(1, s - 2 * p), 6)) for s, p in zip(spans, pads))
    shape = (data.draw(st.integers(1, 2)), 2) + spatial
    values = st.sampled_from([0.0, 1.0, -1.0, 2.0, -np.inf])  # ties everywhere, -inf windows
    x = np.array(data.draw(st.lists(values, min_size=int(np.prod(shape)),
                                    max_size=int(np.prod(shape))))).reshape(shape)
    t = Tensor(x, requires_grad=True)
    y = max_pool(t, kernel, stride, pads, dilation)
    pairs = y.attrs["padding"]
    np.testing.assert_array_equal(y.data, ref_max_pool(x, kernel, stride, pairs, dilation))
    g = np.random.default_rng(0).normal(size=y.shape)
    y.backward(g)
    np.testing.assert_allclose(t.grad, ref_max_pool_grad(x, g, kernel, stride, pairs, dilation),
                               atol=1e-12)


def test_max_pool_gives_a_tie_to_the_first_cell_of_the_window():
    x = Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    max_pool(x, 2).sum().backward()
    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1  # the top-left cell of each 2x2 window, row by row
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_overlapping_windows_add_their_gradients_in_the_shared_winner():
    x = np.zeros((1, 1, 5))
    x[0, 0, 2] = 1.0  # the winner of all three windows that contain it
    x = Tensor(x, requires_grad=True)
    y = max_pool(x, 3, 1, 1)
    g = np.array([[[1.0, 2.0, 3.0, 4.0, 5.0]]])
    y.backward(g)
    # cell 2 wins windows 1, 2 and 3; windows 0 and 4 hold only zeros (and padding, -inf), so
    # their first zero wins: cells 0 and 3
    np.testing.assert_array_equal(x.grad[0, 0], [1.0, 0.0, 2 + 3 + 4, 5.0, 0.0])


def test_a_window_of_minus_infinity_sends_its_gradient_to_its_first_real_cell():
    x = Tensor(np.full((1, 1, 3, 3), -np.inf), requires_grad=True)
    y = max_pool(x, 2, 2, 1)  # the top-left window holds one real cell and three of padding
    assert np.all(y.data == -np.inf)
    y.backward(np.arange(1.0, 5.0).reshape(1, 1, 2, 2))
    expected = np.zeros((3, 3))
    expected[0, 0], expected[0, 1], expected[1, 0], expected[1, 1] = 1, 2, 3, 4
    np.testing.assert_array_equal(x.grad[0, 0], expected)


def test_nan_wins_its_window():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    y = max_pool(Tensor(x), 2)
    assert np.isnan(y.data[0, 0, 0, 0]) and not np.isnan(y.data[0, 0, 1:]).any()


# ---------------------------------------------------------------- dtypes, empty batches, memory
def test_float32_stays_float32_through_every_derivative():
    x, w = _conv_inputs((2, 2, 5, 5), (3, 2, 3, 3), dtype=np.float32)
    y = max_pool(conv(x, w, padding=1), 2)
    assert y.dtype == np.float32
    (y * y).sum().backward(create_graph=True)
    assert x.grad.dtype == w.grad.dtype == np.float32
    x.grad.sum().backward()
    assert w.grad.dtype == np.float32


def test_an_empty_batch_gives_empty_outputs_and_gradients():
    x, w = _conv_inputs((0, 2, 5, 5), (3, 2, 3, 3))
    y = max_pool(conv(x, w), 2)
    assert y.shape == (0, 3, 1, 1)
    y.sum().backward()
    assert x.grad.shape == x.shape and np.all(w.grad == 0)


def test_the_graph_keeps_no_column_matrix():
    # The im2col copy is (kernel cells x) the input's size: it must not outlive the call.
    x, w = _conv_inputs((4, 3, 8, 8), (5, 3, 3, 3))
    y = conv(x, w, padding=1)
    arrays = [v for v in y.attrs.values() if isinstance(v, np.ndarray)]
    held = y.data if y.data.base is None else y.data.base  # a view keeps its base alive
    assert arrays == [] and y.data.flags.c_contiguous and held.nbytes == y.data.nbytes
    z = max_pool(y, 2)
    assert list(z.attrs) == ["kernel", "stride", "padding", "dilation", "index"]
    assert z.attrs["index"].size == z.size  # one winner per output, nothing more


# ---------------------------------------------------------------- errors name the shapes
@pytest.mark.parametrize("call, message", [
    (lambda x, w: conv(x, w[:, :, :1, :1], padding=-1), "padding must be an int >= 0"),
    (lambda x, w: conv(x, Tensor(np.ones((2, 3, 7, 7)))),
     r"kernel \(7, 7\).*larger than the padded input \(5, 5\).*\(1, 3, 5, 5\)"),
    (lambda x, w: conv(x, Tensor(np.ones((2, 1, 3, 3))), groups=2),
     r"in channels 3 and out channels 2 must both divide into groups=2"),
    (lambda x, w: conv(x, Tensor(np.ones((2, 2, 3, 3)))),
     r"input shape \(1, 3, 5, 5\) has 3 channels, but weight shape \(2, 2, 3, 3\) expects 2"),
    (lambda x, w: conv(x[0], w), r"expected input of shape \(batch, channels, 2 spatial axes\)"),
    (lambda x, w: conv(x, w, stride=2, padding="same"), "padding='same' needs stride 1"),
    (lambda x, w: conv(x, w, padding="full"), "padding must be 'valid', 'same'"),
    (lambda x, w: max_pool(x, 2, padding=2), r"padding \(2, 2\) must be at most half"),
    (lambda x, w: max_pool(x, 6), r"kernel \(6, 6\).*larger than the padded input"),
])
def test_bad_arguments_raise_errors_that_name_the_problem(call, message):
    x, w = _conv_inputs((1, 3, 5, 5), (2, 3, 3, 3))
    with pytest.raises(ValueError, match=message):
        call(x, w)
