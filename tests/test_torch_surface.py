"""The whole Tensor surface against PyTorch: values and gradients of every op, in float64.

Each row computes one op in npgrad and in PyTorch from the same arrays, which include the edges
where conventions could differ (zeros, ties, the kinks of relu, abs, clip and leaky_relu, zeros
in prod, the zero vector's norm, +-1000 in softplus), then compares the value and the gradient
of a fixed random weighting of the output. Needs the `torch` extra; skipped without it.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

import autograd
from autograd import Tensor
from autograd.convolution import conv, max_pool

torch = pytest.importorskip("torch")
F = torch.nn.functional

EDGES = np.array([[0.0, 1.0, -1.0, 0.5], [0.0, 0.0, 2.0, -0.5], [1.0, 1.0, -2.0, 0.25]])
TIES = np.array([[3.0, 3.0, -1.0, 0.0], [0.0, 0.0, 0.0, 0.0], [-2.0, 5.0, 5.0, 5.0]])
WITH_ZEROS = np.array([[0.0, 2.0, 3.0, -1.0], [0.0, 0.0, 1.5, 2.0], [1.0, -2.0, 0.5, 3.0]])
ZERO_ROW = np.array([[0.0, 0.0, 0.0, 0.0], [3.0, -4.0, 0.0, 12.0], [1.0, 1.0, 1.0, 1.0]])
NORMAL = np.random.default_rng(0).normal(size=(3, 4))
POSITIVE = np.abs(NORMAL) + 0.5
HUGE = np.array([-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0])
PROBS = np.random.default_rng(1).dirichlet(np.ones(4), size=3)
UNIT = np.random.default_rng(2).uniform(size=(3, 4))
MASK = EDGES > 0
SQUARE = NORMAL[:, :3] + 3 * np.eye(3)
SPD = NORMAL[:, :3] @ NORMAL[:, :3].T + np.eye(3)


def _put(x, y):
    """Item assignment into an intermediate, the same code for both libraries."""
    h = x * 1.0
    h[:, 1:3] = y[0, :2] * 2.0
    return h


@dataclass(frozen=True)
class Row:
    name: str
    ours: Callable  # Tensors -> Tensor
    theirs: Callable  # torch tensors -> torch tensor
    inputs: tuple  # arrays; the first `grads` of them get gradients compared
    grads: int | None = None  # None: every input


ROWS = [
    # arithmetic
    Row("add", lambda x, y: x + y, lambda x, y: x + y, (NORMAL, NORMAL[0])),
    Row("subtract", lambda x, y: x - y, lambda x, y: x - y, (NORMAL, EDGES)),
    Row("multiply", lambda x, y: x * y, lambda x, y: x * y, (NORMAL, EDGES)),
    Row("divide", lambda x, y: x / y, lambda x, y: x / y, (NORMAL, POSITIVE)),
    Row("negative", lambda x: -x, lambda x: -x, (NORMAL,)),
    Row("power", lambda x, y: x ** y, lambda x, y: x ** y, (POSITIVE, NORMAL)),
    Row("matmul", lambda x, y: x @ y, lambda x, y: x @ y, (NORMAL, NORMAL.T)),
    Row("linear", lambda x, w, b: x.linear(w, b), lambda x, w, b: x @ w + b,
        (NORMAL, NORMAL.T, NORMAL[:, 0])),
    # elementwise
    Row("exp", Tensor.exp, torch.exp, (NORMAL,)),
    Row("expm1", Tensor.expm1, torch.expm1, (EDGES,)),
    Row("log", Tensor.log, torch.log, (POSITIVE,)),
    Row("log1p", Tensor.log1p, torch.log1p, (POSITIVE - 0.9,)),
    Row("sqrt", Tensor.sqrt, torch.sqrt, (POSITIVE,)),
    Row("square", Tensor.square, torch.square, (EDGES,)),
    Row("abs", Tensor.abs, torch.abs, (EDGES,)),
    Row("sin", Tensor.sin, torch.sin, (NORMAL,)),
    Row("cos", Tensor.cos, torch.cos, (NORMAL,)),
    Row("tanh", Tensor.tanh, torch.tanh, (NORMAL,)),
    Row("sigmoid", Tensor.sigmoid, torch.sigmoid, (HUGE,)),
    Row("relu", Tensor.relu, torch.relu, (EDGES,)),
    Row("leaky_relu", lambda x: x.leaky_relu(0.2), lambda x: F.leaky_relu(x, 0.2), (EDGES,)),
    Row("leaky_relu default", Tensor.leaky_relu, F.leaky_relu, (EDGES,)),
    Row("gelu", Tensor.gelu, F.gelu, (NORMAL * 2,)),
    Row("gelu tanh", lambda x: x.gelu(approximate="tanh"),
        lambda x: F.gelu(x, approximate="tanh"), (NORMAL * 2,)),
    Row("erf", Tensor.erf, torch.erf, (NORMAL * 2,)),
    Row("erfc", Tensor.erfc, torch.erfc, (NORMAL * 2,)),
    Row("softplus", Tensor.softplus, F.softplus, (HUGE,)),
    Row("sign", Tensor.sign, torch.sign, (EDGES,), grads=0),
    Row("clip", lambda x: x.clip(-0.5, 1.0), lambda x: x.clamp(-0.5, 1.0), (EDGES,)),
    Row("clip lo", lambda x: x.clip(0.0), lambda x: x.clamp(min=0.0), (EDGES,)),
    # Tensor bounds, tied with x, equal (lo = hi = 1) and crossed (lo = 1 > hi = 0)
    Row("clip tensors", lambda x, lo, hi: x.clip(lo, hi), torch.clamp,
        (EDGES, np.array([0.0, 1.0, -1.0, 1.0]), np.array([[1.0], [0.0], [1.0]]))),
    Row("astype", lambda x: x.astype(np.float32).astype(np.float64),
        lambda x: x.float().double(), (NORMAL,)),
    # reductions
    Row("sum", lambda x: x.sum(axis=1), lambda x: x.sum(dim=1), (NORMAL,)),
    Row("sum keepdims", lambda x: x.sum(axis=(0, 1), keepdims=True),
        lambda x: x.sum(dim=(0, 1), keepdim=True), (NORMAL,)),
    Row("mean", lambda x: x.mean(axis=0), lambda x: x.mean(dim=0), (NORMAL,)),
    Row("max ties", lambda x: x.max(axis=1), lambda x: x.amax(dim=1), (TIES,)),
    Row("max all", lambda x: x.max(), lambda x: x.amax(), (TIES,)),
    Row("min ties", lambda x: x.min(axis=1, keepdims=True),
        lambda x: x.amin(dim=1, keepdim=True), (TIES,)),
    Row("min all", lambda x: x.min(), lambda x: x.amin(), (-TIES,)),
    Row("prod zeros", lambda x: x.prod(axis=1), lambda x: x.prod(dim=1), (WITH_ZEROS,)),
    Row("prod all", lambda x: x.prod(), lambda x: x.prod(), (WITH_ZEROS[2:],)),
    Row("var", lambda x: x.var(axis=1), lambda x: x.var(dim=1, correction=0), (NORMAL,)),
    Row("var ddof", lambda x: x.var(ddof=1), lambda x: x.var(), (NORMAL,)),
    Row("std", lambda x: x.std(axis=0, ddof=1, keepdims=True),
        lambda x: x.std(dim=0, keepdim=True), (NORMAL,)),
    Row("norm zero row", lambda x: x.norm(axis=1),
        lambda x: torch.linalg.vector_norm(x, dim=1), (ZERO_ROW,)),
    Row("norm all", lambda x: x.norm(), lambda x: torch.linalg.vector_norm(x), (NORMAL,)),
    Row("logsumexp", lambda x: x.logsumexp(axis=1), lambda x: x.logsumexp(dim=1), (NORMAL,)),
    Row("softmax", lambda x: x.softmax(axis=0), lambda x: x.softmax(dim=0), (NORMAL,)),
    Row("log_softmax", Tensor.log_softmax, lambda x: x.log_softmax(dim=-1), (NORMAL * 10,)),
    # losses
    Row("cross_entropy", lambda x, t: x.cross_entropy(t), F.cross_entropy, (NORMAL, PROBS)),
    Row("cross_entropy none", lambda x, t: x.cross_entropy(t, reduction="none"),
        lambda x, t: F.cross_entropy(x, t, reduction="none"), (NORMAL, PROBS)),
    Row("cross_entropy labels", lambda x: autograd.cross_entropy_labels(x * 1e3, [3, 0, 3]),
        lambda x: F.cross_entropy(x * 1e3, torch.tensor([3, 0, 3])), (NORMAL,)),
    Row("cross_entropy labels sum", lambda x: autograd.cross_entropy_labels(x, [1, 2, 0], "sum"),
        lambda x: F.cross_entropy(x, torch.tensor([1, 2, 0]), reduction="sum"), (NORMAL,)),
    Row("bce_with_logits", lambda x, t: x.bce_with_logits(t),
        F.binary_cross_entropy_with_logits, (NORMAL * 3, UNIT)),
    Row("bce_with_logits sum", lambda x, t: x.bce_with_logits(t, reduction="sum"),
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="sum"),
        (NORMAL * 3, UNIT)),
    # shapes and indexing
    Row("reshape", lambda x: x.reshape(2, -1), lambda x: x.reshape(2, -1), (NORMAL,)),
    Row("transpose", lambda x: x.reshape(2, 3, 2).transpose(2, 0, 1),
        lambda x: x.reshape(2, 3, 2).permute(2, 0, 1), (NORMAL,)),
    Row("T", lambda x: x.T, lambda x: x.T, (NORMAL,)),
    Row("mT", lambda x: x.reshape(2, 3, 2).mT, lambda x: x.reshape(2, 3, 2).mT, (NORMAL,)),
    Row("swapaxes", lambda x: x.reshape(2, 3, 2).swapaxes(0, 2),
        lambda x: x.reshape(2, 3, 2).swapaxes(0, 2), (NORMAL,)),
    Row("squeeze", lambda x: x.reshape(1, 3, 1, 4).squeeze(),
        lambda x: x.reshape(1, 3, 1, 4).squeeze(), (NORMAL,)),
    Row("squeeze axis", lambda x: x.reshape(1, 3, 1, 4).squeeze(2),
        lambda x: x.reshape(1, 3, 1, 4).squeeze(2), (NORMAL,)),
    Row("expand_dims", lambda x: x.expand_dims(1), lambda x: x.unsqueeze(1), (NORMAL,)),
    Row("unsqueeze", lambda x: x.unsqueeze(-1), lambda x: x.unsqueeze(-1), (NORMAL,)),
    Row("flatten", lambda x: x.reshape(2, 3, 2).flatten(1),
        lambda x: x.reshape(2, 3, 2).flatten(1), (NORMAL,)),
    Row("broadcast_to", lambda x: x.broadcast_to((2, 3, 4)),
        lambda x: x.broadcast_to((2, 3, 4)), (NORMAL[:, :1],)),
    Row("getitem slice", lambda x: x[1:, ::2], lambda x: x[1:, ::2], (NORMAL,)),
    Row("getitem repeats", lambda x: x[[0, 2, 0]], lambda x: x[[0, 2, 0]], (NORMAL,)),
    Row("getitem mask", lambda x: x[MASK], lambda x: x[torch.from_numpy(MASK)], (NORMAL,)),
    # functions of several tensors
    Row("maximum ties", autograd.maximum, torch.maximum, (EDGES, TIES * 0)),
    Row("minimum ties", autograd.minimum, torch.minimum, (EDGES, TIES * 0)),
    Row("where", lambda x, y: autograd.where(MASK, x, y),
        lambda x, y: torch.where(torch.from_numpy(MASK), x, y), (NORMAL, NORMAL[0])),
    Row("logaddexp", autograd.logaddexp, torch.logaddexp, (HUGE, HUGE[::-1])),
    Row("concatenate", lambda x, y: autograd.concatenate([x, y, np.ones((3, 1))], axis=1),
        lambda x, y: torch.cat([x, y, torch.ones(3, 1, dtype=torch.float64)], dim=1),
        (NORMAL, EDGES)),
    Row("stack", lambda x, y: autograd.stack([x, y], axis=-1),
        lambda x, y: torch.stack([x, y], dim=-1), (NORMAL, EDGES)),
    Row("split", lambda x: autograd.split(x, [1, -1], axis=1)[1] * 2,
        lambda x: torch.tensor_split(x, [1, -1], dim=1)[1] * 2, (NORMAL,)),
    # numpy's other elementwise functions (their edges: tests/test_torch_elementwise.py)
    Row("tan", Tensor.tan, torch.tan, (NORMAL,)),
    Row("sinh", Tensor.sinh, torch.sinh, (EDGES,)),
    Row("cosh", Tensor.cosh, torch.cosh, (EDGES,)),
    Row("asin", Tensor.asin, torch.asin, (UNIT - 0.5,)),
    Row("acos", Tensor.acos, torch.acos, (UNIT - 0.5,)),
    Row("atan", Tensor.atan, torch.atan, (HUGE,)),
    Row("asinh", Tensor.asinh, torch.asinh, (HUGE,)),
    Row("acosh", Tensor.acosh, torch.acosh, (POSITIVE + 1,)),
    Row("atanh", Tensor.atanh, torch.atanh, (UNIT - 0.5,)),
    Row("atan2", Tensor.atan2, torch.atan2, (EDGES, POSITIVE)),
    Row("hypot", Tensor.hypot, torch.hypot, (EDGES, NORMAL)),
    Row("sinc", Tensor.sinc, torch.sinc, (NORMAL,)),
    Row("log2", Tensor.log2, torch.log2, (POSITIVE,)),
    Row("log10", Tensor.log10, torch.log10, (POSITIVE,)),
    Row("exp2", Tensor.exp2, torch.exp2, (NORMAL,)),
    Row("logaddexp2", Tensor.logaddexp2, torch.logaddexp2, (HUGE, HUGE[::-1])),
    Row("cbrt", np.cbrt, lambda x: x ** (1 / 3), (POSITIVE,)),
    Row("fmax ties", Tensor.fmax, torch.fmax, (EDGES, TIES * 0)),
    Row("fmin ties", Tensor.fmin, torch.fmin, (EDGES, TIES * 0)),
    Row("remainder", lambda x, y: x % y, torch.remainder, (NORMAL * 3, EDGES + 2.5)),
    Row("nan_to_num", Tensor.nan_to_num, torch.nan_to_num, (NORMAL,)),
    # linear algebra (symmetric inputs where numpy reads one triangle; sign-free factors)
    Row("solve", np.linalg.solve, torch.linalg.solve, (SQUARE, EDGES)),
    Row("solve_triangular", lambda a, b: autograd.linalg.solve_triangular(a, b, lower=True),
        lambda a, b: torch.linalg.solve_triangular(a, b, upper=False), (SQUARE, EDGES)),
    Row("inv", np.linalg.inv, torch.linalg.inv, (SQUARE,)),
    Row("det", np.linalg.det, torch.linalg.det, (EDGES[:, :3],)),
    Row("slogdet", lambda a: np.linalg.slogdet(a)[1], lambda a: torch.linalg.slogdet(a)[1],
        (-SQUARE,)),
    Row("cholesky", lambda a: np.linalg.cholesky((a + a.T) / 2),
        lambda a: torch.linalg.cholesky((a + a.T) / 2), (SPD,)),
    Row("eigh", lambda a: (lambda w, v: v * v * w)(*np.linalg.eigh((a + a.T) / 2)),
        lambda a: (lambda w, v: v * v * w)(*torch.linalg.eigh((a + a.T) / 2)), (SPD,)),
    Row("svd", lambda a: (lambda u, s, vh: (u * s) @ vh + s.sum())(
        *np.linalg.svd(a, full_matrices=False)),
        lambda a: (lambda u, s, vh: (u * s) @ vh + s.sum())(
        *torch.linalg.svd(a, full_matrices=False)), (NORMAL,)),
    Row("qr", lambda a: (lambda q, r: q * 2 + r.sum())(*np.linalg.qr(a)),
        lambda a: (lambda q, r: q * 2 + r.sum())(*torch.linalg.qr(a)), (NORMAL.T,)),
    Row("pinv", np.linalg.pinv, torch.linalg.pinv, (NORMAL,)),
    Row("einsum", lambda x, y: np.einsum("ij,kj->ik", x, y),
        lambda x, y: torch.einsum("ij,kj->ik", x, y), (EDGES, TIES)),
    Row("einsum diagonal", lambda x: np.einsum("ii->i", x),
        lambda x: torch.einsum("ii->i", x), (EDGES[:, :3],)),
    # running sums and products (zeros in cumprod), a copy, item assignment
    Row("cumsum", lambda x: np.cumsum(x, axis=1), lambda x: torch.cumsum(x, 1), (EDGES,)),
    Row("cumprod zeros", lambda x: np.cumprod(x, axis=1), lambda x: torch.cumprod(x, 1),
        (WITH_ZEROS,)),
    Row("copy", lambda x: x.clone(), lambda x: x.clone(), (NORMAL,)),
    Row("setitem", lambda x, y: _put(x, y), lambda x, y: _put(x, y), (NORMAL, EDGES)),
    # convolution and pooling (images (1, 1, 3, 4)); tests/test_torch_conv.py has the rest
    Row("conv", lambda x, w: conv(x, w, stride=(1, 2), padding=1),
        lambda x, w: F.conv2d(x, w, stride=(1, 2), padding=1),
        (EDGES.reshape(1, 1, 3, 4), NORMAL[:2, :2].reshape(1, 1, 2, 2))),
    Row("max_pool ties", lambda x: max_pool(x, 2, 1), lambda x: F.max_pool2d(x, 2, 1),
        (TIES.reshape(1, 1, 3, 4),)),
]


def leaves(arrays, requires_grad):
    ours = [Tensor(a, requires_grad=r) for a, r in zip(arrays, requires_grad, strict=True)]
    theirs = [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=r)
              for a, r in zip(arrays, requires_grad, strict=True)]
    return ours, theirs


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_value_and_gradients_match_pytorch(row):
    count = len(row.inputs) if row.grads is None else row.grads
    flags = [i < count for i in range(len(row.inputs))]
    ours, theirs = leaves(row.inputs, flags)
    out, expected = row.ours(*ours), row.theirs(*theirs)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-10, atol=1e-12)
    if not count:
        assert not out.requires_grad
        return
    weights = np.random.default_rng(3).normal(size=out.shape)
    (out * weights).sum().backward()
    (expected * torch.from_numpy(weights)).sum().backward()
    for mine, reference in zip(ours[:count], theirs[:count], strict=True):
        np.testing.assert_allclose(mine.grad, reference.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_the_rows_reach_every_primitive():
    reached = set()
    for row in ROWS:
        stack_ = [row.ours(*leaves(row.inputs, [True] * len(row.inputs))[0])]
        while stack_:
            t = stack_.pop()
            if t.op is not None:
                reached.add(t.op.name)
                stack_.extend(t.parents)
    # add_at is getitem's gradient, conv_transpose and conv_weight are conv's: a graph holds
    # them only under backward(create_graph=True)
    gradients_only = {"add_at", "conv_transpose", "conv_weight"}
    missing = {op.name for op in autograd.ops.OPS} - reached - gradients_only
    assert not missing, f"primitives without a row here: {sorted(missing)}"


def test_argmax_and_argmin_match_pytorch_including_ties():
    x = Tensor(TIES)
    t = torch.from_numpy(TIES)
    for axis in (0, 1):
        np.testing.assert_array_equal(x.argmax(axis=axis), t.argmax(dim=axis).numpy())
        np.testing.assert_array_equal(x.argmin(axis=axis), t.argmin(dim=axis).numpy())
    assert x.argmax() == t.argmax().item() and x.argmin() == t.argmin().item()


@pytest.mark.parametrize("ours, theirs", [
    (lambda: autograd.zeros(2, 3), lambda: torch.zeros(2, 3)),
    (lambda: autograd.ones((3,)), lambda: torch.ones((3,))),
    (lambda: autograd.full((2, 2), 0.25), lambda: torch.full((2, 2), 0.25)),
    (lambda: autograd.zeros_like(NORMAL), lambda: torch.zeros_like(torch.from_numpy(NORMAL))),
    (lambda: autograd.ones_like(NORMAL), lambda: torch.ones_like(torch.from_numpy(NORMAL))),
    (lambda: autograd.arange(1, 3, 0.5), lambda: torch.arange(1, 3, 0.5)),
    (lambda: autograd.eye(3, 2), lambda: torch.eye(3, 2)),
])
def test_constructors_match_pytorch(ours, theirs):
    np.testing.assert_array_equal(ours().data, theirs().numpy())


def test_std_of_equal_values_has_pytorchs_zero_gradient():
    rows = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    x = Tensor(rows, requires_grad=True)
    t = torch.tensor(rows, requires_grad=True)
    with np.errstate(all="raise"):
        x.std(axis=1).sum().backward()
    t.std(dim=1, correction=0).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)
