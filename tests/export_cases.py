"""The models the export tests carry across: one per primitive of `autograd.ops.OPS`, and the
nn layers and whole models, shared by tests/test_torch_export.py and tests/test_onnx_export.py.

Each op case is a small Module with a parameter `w` (4,) and a forward built around one op, fed
an input of shape (batch, 4) with zeros, ties and kinks in it (and a second input for the
losses' targets).
"""

import sys
from pathlib import Path

import numpy as np

import autograd
import nn
from autograd import Tensor
from autograd import ops as O

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
from custom_network import SkipNet, masked_cross_entropy  # noqa: E402

MASK = np.array([True, False, True, True])
ROWS = 5  # the traced batch; the exports then run on OTHER_ROWS to check the dynamic axis
OTHER_ROWS = 7
LABELS = np.array([3, 0, 0, 2, 1])  # one class label per row of the traced batch


class OpModel(nn.Module):
    """`fn(h, *rest)` of h = x * w: gradients reach both the input and a parameter."""

    def __init__(self, name, fn, dtype, targets=None):
        self.name, self.fn, self.targets = name, fn, targets
        w = np.array([0.5, -1.5, 2.0, 1.0], dtype)
        self.w = Tensor(w, requires_grad=True)
        self.m = Tensor(np.arange(12.0, dtype=dtype).reshape(4, 3) / 10 - 0.3, requires_grad=True)

    def forward(self, x, *rest):
        return self.fn(self, x * self.w, *rest)


def _softplus_targets(rows, rng):
    return rng.uniform(size=(rows, 4))


def _probability_targets(rows, rng):
    return rng.dirichlet(np.ones(4), size=rows)


# name -> (fn(model, h, *rest), targets maker or None, dynamic batch)
OP_CASES = {
    "add": (lambda m, h: h + 1.5, None, True),
    "subtract": (lambda m, h: 2.0 - h, None, True),
    "multiply": (lambda m, h: h * h, None, True),
    "divide": (lambda m, h: 1.0 / (h * h + 1), None, True),
    "negative": (lambda m, h: -h, None, True),
    "power": (lambda m, h: (h * h + 1) ** 1.5 + 2.0 ** h, None, True),
    "maximum": (lambda m, h: autograd.maximum(h, m.w), None, True),
    "minimum": (lambda m, h: autograd.minimum(h, 0.5), None, True),
    "where": (lambda m, h: autograd.where(MASK, h, 0.25), None, True),
    "logaddexp": (lambda m, h: autograd.logaddexp(h, m.w) + h.softplus(), None, True),
    "exp": (lambda m, h: h.exp(), None, True),
    "expm1": (lambda m, h: h.expm1(), None, True),
    "log": (lambda m, h: (h * h + 1).log(), None, True),
    "log1p": (lambda m, h: (h * h).log1p(), None, True),
    "sqrt": (lambda m, h: (h * h + 1).sqrt(), None, True),
    "abs": (lambda m, h: h.abs(), None, True),
    "sin": (lambda m, h: h.sin(), None, True),
    "cos": (lambda m, h: h.cos(), None, True),
    "tanh": (lambda m, h: h.tanh(), None, True),
    "sigmoid": (lambda m, h: h.sigmoid(), None, True),
    "relu": (lambda m, h: h.relu(), None, True),
    "leaky_relu": (lambda m, h: h.leaky_relu(0.1), None, True),
    "gelu": (lambda m, h: h.gelu(), None, True),
    "clip": (lambda m, h: h.clip(-0.5, 0.75), None, True),
    "astype": (lambda m, h: h.astype(np.float64).astype(h.dtype) * 2, None, True),
    "sum": (lambda m, h: h.sum(axis=1) + h.sum(axis=()).sum(axis=-1, keepdims=True).T.sum(),
            None, True),
    "mean": (lambda m, h: h.mean(axis=0, keepdims=True) + h.mean(), None, True),
    "max": (lambda m, h: h.max(axis=1) + h.max(), None, True),
    "min": (lambda m, h: h.min(axis=-1, keepdims=True), None, True),
    "prod": (lambda m, h: h.prod(axis=1) + h.reshape((-1, 2, 2)).prod(axis=(1, 2)), None, True),
    "norm": (lambda m, h: h.norm(axis=1), None, True),
    "logsumexp": (lambda m, h: h.logsumexp(axis=1), None, True),
    "reshape": (lambda m, h: h.reshape((-1, 2, 2)) * 3, None, True),
    "transpose": (lambda m, h: h.reshape((-1, 2, 2)).transpose((0, 2, 1)) + h.T.sum(), None,
                  True),
    "broadcast_to": (lambda m, h: np.broadcast_to(h[:, None, :], (h.shape[0], 3, 4)) * m.w,
                     None, True),
    "getitem": (lambda m, h: autograd.concatenate(
        [h[:, 1:3], h[:, ::-1], h[:, [0, 2, 2]], h[:, MASK], h[..., 1][:, None],
         h[None][0, :, 3:0:-2]], axis=1), None, True),
    "add_at": (lambda m, h: O.add_at(h, shape=(ROWS, 6), index=(slice(None), [0, 2, 2, 5])),
               None, False),
    "concatenate": (lambda m, h: autograd.concatenate([h, h * 2, m.w[None]], axis=0).sum(),
                    None, True),
    "stack": (lambda m, h: autograd.stack([h, h * 2], axis=-1), None, True),
    "matmul": (lambda m, h: h @ m.m + m.w @ m.m, None, True),
    "linear": (lambda m, h: h.linear(m.m, m.m[0]), None, True),
    "log_softmax": (lambda m, h: h.log_softmax(axis=1), None, True),
    "softmax": (lambda m, h: h.softmax(axis=0), None, True),
    "cross_entropy": (lambda m, h, t: h.cross_entropy(t) + h.cross_entropy(t, "sum")
                      + h.cross_entropy(t, "none").sum(), _probability_targets, True),
    # labels are a constant of the trace (an attribute), so the batch is fixed
    "cross_entropy_labels": (lambda m, h: autograd.cross_entropy_labels(h, LABELS)
                             + autograd.cross_entropy_labels(h * 1e3, LABELS, "sum")
                             + autograd.cross_entropy_labels(h, LABELS, "none").sum(), None,
                             False),
    "bce_with_logits": (lambda m, h, t: h.bce_with_logits(t) + h.bce_with_logits(t, "sum"),
                        _softplus_targets, True),
}


# Matrices built from h for the decompositions: A symmetric positive definite with distinct
# eigenvalues, P from the parameter alone (unbatched), B (batch, 4, 3) of full rank.
_DIAG = np.diag([1.0, 2.0, 3.0, 4.0])
_OFFSET = np.random.default_rng(7).normal(size=(4, 3))


def _spd(m, h):
    return h[:, :, None] * h[:, None, :] + _DIAG.astype(h.dtype)


def _p(m):
    return m.m @ m.m.T + _DIAG.astype(m.m.dtype)


def _tall(m, h):
    return h[:, :, None] * m.m[None] + _OFFSET.astype(h.dtype)


def _signal(h):
    return h.reshape((-1, 1, 4))


def _gradient(m, h):  # (batch, 4, 4): a stand-in for a gradient arriving at conv's output
    return h[:, None, :] * m.m[:, :1]


_CONV = {"stride": (1,), "padding": ((1, 1),), "dilation": (1,), "groups": 1}
_SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0])

OP_CASES.update({
    "gelu_tanh": (lambda m, h: h.gelu("tanh"), None, True),
    "erf": (lambda m, h: O.erf(h), None, True),
    "erfc": (lambda m, h: O.erfc(h), None, True),
    "clip_tensors": (lambda m, h: O.clip_tensors(h, m.w * 0.5 - 0.25, m.w[::-1] + 0.5), None,
                     True),  # (column 2: lo > hi, so hi wins)
    "tan": (lambda m, h: O.tan(h * 0.3), None, True),
    "sinh": (lambda m, h: O.sinh(h), None, True),
    "cosh": (lambda m, h: O.cosh(h), None, True),
    "arcsin": (lambda m, h: O.arcsin(h.tanh() * 0.9), None, True),
    "arccos": (lambda m, h: O.arccos(h.tanh() * 0.9), None, True),
    "arctan": (lambda m, h: O.arctan(h), None, True),
    "arcsinh": (lambda m, h: O.arcsinh(h), None, True),
    "arccosh": (lambda m, h: O.arccosh(h * h + 1.5), None, True),
    "arctanh": (lambda m, h: O.arctanh(h.tanh() * 0.9), None, True),
    "arctan2": (lambda m, h: O.arctan2(h, m.w) + O.arctan2(m.w, h), None, True),
    "hypot": (lambda m, h: O.hypot(h, m.w), None, True),
    "sinc": (lambda m, h: O.sinc(h), None, True),
    "log2": (lambda m, h: O.log2(h * h + 1), None, True),
    "log10": (lambda m, h: O.log10(h * h + 1), None, True),
    "exp2": (lambda m, h: O.exp2(h), None, True),
    "logaddexp2": (lambda m, h: O.logaddexp2(h, m.w), None, True),
    "cbrt": (lambda m, h: O.cbrt(h - 0.1), None, True),
    "fmax": (lambda m, h: O.fmax(h, m.w) + O.fmax(h, _SPECIALS[[0, 3, 0, 3]].astype(h.dtype)),
             None, True),
    "fmin": (lambda m, h: O.fmin(h, m.w) + O.fmin(h, _SPECIALS[[0, 3, 0, 3]].astype(h.dtype)),
             None, True),
    "remainder": (lambda m, h: O.remainder(h, m.w) + O.remainder(h, 0.75), None, True),
    "nan_to_num": (lambda m, h: O.nan_to_num(h + _SPECIALS.astype(h.dtype), nan=0.5, posinf=3.0)
                   + O.nan_to_num(h + _SPECIALS.astype(h.dtype)) * 1e-300, None, True),
    "cumsum": (lambda m, h: O.cumsum(h, axis=1) + O.cumsum(h, axis=0) * 0.5, None, True),
    "cumprod": (lambda m, h: O.cumprod(h, axis=1) + O.cumprod(h * 0.5, axis=-2), None, True),
    "copy": (lambda m, h: O.copy(h) * 2.0, None, True),
    "setitem": (lambda m, h: O.setitem(h, m.w[:2] * 3.0, index=(slice(None), slice(1, 3))),
                None, True),
    "einsum": (lambda m, h: O.einsum(h, m.m, subscripts="bi,ij->bj"), None, True),
    "einsum_unary": (lambda m, h: O.einsum_unary(h.reshape((-1, 2, 2)), subscripts="bii->b"),
                     None, True),
    "solve": (lambda m, h: O.solve(_spd(m, h), h[..., None])[..., 0] + O.solve(_p(m), m.w),
              None, True),
    "solve_triangular": (lambda m, h: O.solve_triangular(_spd(m, h), h[..., None], lower=True)
                         [..., 0] + O.solve_triangular(_p(m), m.w, lower=False), None, True),
    "inv": (lambda m, h: O.inv(_spd(m, h)), None, True),
    "slogdet": (lambda m, h: O.slogdet(_spd(m, h)), None, True),
    "cholesky": (lambda m, h: O.cholesky(_spd(m, h)), None, True),
    # Each eigenvector and singular vector is unique up to its sign, which is the LAPACK
    # library's choice (numpy's and torch's differ): the cases read the packed results squared.
    "eigh": (lambda m, h: O.eigh(_spd(m, h)) ** 2, None, True),
    "svd": (lambda m, h: O.svd(_tall(m, h)) ** 2, None, True),
    "qr": (lambda m, h: O.qr(_tall(m, h)), None, True),
    "pinv": (lambda m, h: O.pinv(_tall(m, h)), None, True),
    "conv": (lambda m, h: O.conv(_signal(h), m.m.reshape((4, 1, 3)), stride=(2,),
                                 padding=((2, 0),), dilation=(1,), groups=1).sum(axis=-1)
             + O.conv(h.reshape((-1, 1, 2, 2)), m.m.reshape((3, 1, 2, 2)), stride=(1, 1),
                      padding=((1, 1), (0, 1)), dilation=(1, 1), groups=1)
             .sum(axis=(1, 2, 3))[:, None], None, True),
    "conv_transpose": (lambda m, h: O.conv_transpose(_gradient(m, h), m.m.reshape((4, 1, 3)),
                                                     shape=(ROWS, 1, 4), **_CONV), None, False),
    "conv_weight": (lambda m, h: O.conv_weight(_signal(h), _gradient(m, h), shape=(4, 1, 3),
                                               **_CONV), None, True),
    "max_pool": (lambda m, h: O.max_pool(_signal(h), kernel=(2,), stride=(1,),
                                         padding=((1, 1),), dilation=(1,))
                 + O.max_pool(_signal(h), kernel=(3,), stride=(2,), padding=((1, 1),),
                              dilation=(1,)).sum(axis=-1, keepdims=True), None, True),
})


def op_inputs(name, dtype, rows, seed=0):
    """The example inputs of op case `name`: x (rows, 4) with kinks and ties, and targets."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 4))
    x[0] = [0.0, 0.0, 1.0, -1.0]  # zeros, ties and the kink of relu/abs
    x[1, :2] = 2.0 / 3  # h = x * w ties with w on maximum's second column... and a plain tie
    targets = OP_CASES[name][1]
    inputs = (x.astype(dtype),)
    if targets is not None:
        inputs += (targets(rows, rng).astype(dtype),)
    return inputs


def op_model(name, dtype):
    fn, targets, dynamic = OP_CASES[name]
    return OpModel(name, fn, dtype, targets), dynamic


class Masked(nn.Module):
    """SkipNet and its masked loss as one module: the custom-network example end to end.

    The labels arrive as data; the mask and one-hot rows are computed from them outside Tensor
    operations, so they are constants of a trace (exported for one batch size only).
    """

    def __init__(self, net, labels):
        self.net, self.labels = net, labels

    def forward(self, x):
        return masked_cross_entropy(self.net(x), self.labels)


class First(nn.Module):
    """A recurrent layer's output sequence alone (it returns (output, state))."""

    def __init__(self, layer):
        self.layer = layer

    def forward(self, x):
        return self.layer(x)[0]


class Branches(nn.Module):
    """A ModuleList and a ModuleDict of layers, and a plain nn.Parameter."""

    def __init__(self, dtype, rng):
        self.blocks = nn.ModuleList([nn.Linear(4, 4, rng=rng, dtype=dtype) for _ in range(2)])
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 3, rng=rng, dtype=dtype),
                                    "b": nn.LayerNorm(4, dtype=dtype)})
        self.scale = nn.Parameter(np.array([0.5, 2.0, -1.0], dtype))

    def forward(self, x):
        for block in self.blocks:
            x = nn.functional.gelu(block(x), approximate="tanh") + x
        return self.heads["a"](self.heads["b"](x)) * self.scale


def _batch_norm(cls, n, dtype, rng, train):
    """A batch norm with running statistics and affine parameters away from their defaults; in
    training mode without running statistics (batch statistics only: a tracked one in training
    mode updates its buffers, which an export refuses)."""
    layer = cls(n, dtype=dtype, track_running_stats=not train)
    for t, values in ((layer.running_mean, rng.normal(size=n)),
                      (layer.running_var, rng.uniform(0.5, 2.0, size=n)),
                      (layer.weight, rng.normal(size=n)), (layer.bias, rng.normal(size=n))):
        if t is not None:
            t.data[...] = values
    return layer.train(train)


def layer_models(dtype):
    """Each nn layer on main (and models of them), named, with the width of its input."""
    rng = np.random.default_rng(3)
    return {
        "Linear": (nn.Linear(4, 3, rng=rng, dtype=dtype), 4),
        "Linear-no-bias": (nn.Linear(4, 4, bias=False, rng=rng, dtype=dtype), 4),
        "Sigmoid": (nn.Sigmoid(), 4),
        "ReLU": (nn.ReLU(), 4),
        "Tanh": (nn.Tanh(), 4),
        "LeakyReLU": (nn.LeakyReLU(0.2), 4),
        "Softplus": (nn.Softplus(beta=2.0), 4),
        "GELU": (nn.GELU(), 4),
        "Identity": (nn.Identity(), 4),
        "Softmax": (nn.Softmax(), 4),
        "Dropout-eval": (nn.Sequential(nn.Linear(4, 4, rng=rng, dtype=dtype),
                                       nn.Dropout(0.5)).eval(), 4),
        "Flatten": (nn.Sequential(nn.Flatten(), nn.Linear(4, 2, rng=rng, dtype=dtype)), (2, 2)),
        "Sequential": (nn.Sequential(nn.Linear(4, 5, rng=rng, dtype=dtype), nn.Tanh(),
                                     nn.Sequential(nn.Linear(5, 5, rng=rng, dtype=dtype),
                                                   nn.ReLU())), 4),
        "MLP": (nn.MLP([4, 16, 16, 3], activation="tanh", rng=rng, dtype=dtype), 4),
        "MLP-softmax": (nn.MLP([4, 8, 3], activation="leaky_relu", output_activation="softmax",
                               rng=rng, dtype=dtype), 4),
        "SkipNet": (SkipNet(4, 6, 3).astype(dtype), 4),
        "BatchNorm1d-eval": (_batch_norm(nn.BatchNorm1d, 4, dtype, rng, False), 4),
        "BatchNorm1d-train": (_batch_norm(nn.BatchNorm1d, 4, dtype, rng, True), 4),
        "BatchNorm1d-3d-eval": (_batch_norm(nn.BatchNorm1d, 2, dtype, rng, False), (2, 3)),
        "BatchNorm2d-eval": (_batch_norm(nn.BatchNorm2d, 2, dtype, rng, False), (2, 3, 3)),
        "BatchNorm2d-train": (_batch_norm(nn.BatchNorm2d, 2, dtype, rng, True), (2, 3, 3)),
        "LayerNorm": (nn.LayerNorm((2, 3), dtype=dtype), (2, 3)),
        "RNN": (First(nn.RNN(4, 3, batch_first=True, dtype=dtype)), (3, 4)),
        "GRU-2-layers": (First(nn.GRU(4, 3, num_layers=2, batch_first=True, dtype=dtype)),
                         (3, 4)),
        "LSTM": (First(nn.LSTM(4, 3, batch_first=True, dtype=dtype)), (3, 4)),
        "RNNCell": (nn.RNNCell(4, 3, dtype=dtype), 4),
        "GRUCell": (nn.GRUCell(4, 3, dtype=dtype), 4),
        "LSTMCell": (First(nn.LSTMCell(4, 3, dtype=dtype)), 4),
        "Conv1d": (nn.Conv1d(2, 3, 3, stride=2, padding=1, dtype=dtype), (2, 7)),
        "Conv2d": (nn.Conv2d(2, 4, 3, padding=1, groups=2, dtype=dtype), (2, 5, 5)),
        "MaxPool1d": (nn.MaxPool1d(3, stride=2, padding=1), (2, 7)),
        "MaxPool2d": (nn.MaxPool2d(2), (2, 4, 5)),
        "AvgPool2d": (nn.AvgPool2d(2, padding=1), (2, 4, 5)),
        "AdaptiveAvgPool2d": (nn.AdaptiveAvgPool2d((2, 3)), (2, 5, 7)),
        "CNN": (nn.Sequential(nn.Conv2d(1, 2, 3, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(8, 3, rng=rng, dtype=dtype)), (1, 6, 6)),
        "Branches": (Branches(dtype, rng), 4),
    }


def layer_input(width, dtype, rows, seed=1):
    shape = (rows, *width) if isinstance(width, tuple) else (rows, width)
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)
