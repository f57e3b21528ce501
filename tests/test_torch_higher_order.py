"""Second derivatives against PyTorch: every row of the op table through autograd.hessian vs
torch.autograd.functional.hessian, and the Hessian of a small MLP's loss to 1e-10 in float64.

The rows reuse tests/op_cases.py's CASES (the same public calls and inputs), each followed by the
same fixed weighted sum; TORCH holds each op's PyTorch spelling, and a row without one fails.
Needs the `torch` extra (`pip install -e ".[torch]"`); skipped without it.
"""

import numpy as np
import pytest
from op_cases import CASES, CLASSES, INDEX, MASK, make_inputs
from test_ops_conv import PUBLIC, W_SHAPE, X_SHAPE

import nn
from autograd import Tensor, hessian, hvp, jacobian, ops
from nn.utils import hessian_vector_product, parameters_to_vector, vector_to_parameters

torch = pytest.importorskip("torch")
F = torch.nn.functional
TF = torch.autograd.functional

def _mirror(x):
    """The symmetric matrix numpy's cholesky and eigh read: x's lower triangle, mirrored."""
    return x.tril() + x.tril(-1).mT


def _signs(ours, theirs):
    """Per column, the sign that gives PyTorch's factor numpy's sign convention (a constant)."""
    return torch.sign((torch.as_tensor(ours) * theirs.detach()).sum(-2, keepdim=True))


def _eigh(x):
    w, v = torch.linalg.eigh(_mirror(x))
    return torch.cat([w[None], v * _signs(np.linalg.eigh(x.detach().numpy())[1], v)])


def _svd(x):
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    sign = _signs(np.linalg.svd(x.detach().numpy(), full_matrices=False)[0], u)
    return torch.cat([(u * sign).reshape(-1), s, (vh * sign.mT).reshape(-1)])


def _qr(x):
    q, r = torch.linalg.qr(x)
    sign = _signs(np.linalg.qr(x.detach().numpy())[0], q)
    return torch.cat([(q * sign).reshape(-1), (r * sign.mT).reshape(-1)])


WRITTEN = np.zeros((3, 4), bool)
WRITTEN[INDEX] = True
_WRITER = np.full((3, 4), -1)
_WRITER[INDEX] = np.arange(9).reshape(3, 3)
LANDS = np.isin(np.arange(9), _WRITER).reshape(3, 3)  # the writes no later one overwrites
ROWS = torch.tensor(INDEX[0])[:, None]
COLS = torch.arange(4)[INDEX[1]][None, :]
TORCH = {
    "add": lambda x, y: x + y,
    "subtract": lambda x, y: x - y,
    "multiply": lambda x, y: x * y,
    "divide": lambda x, y: x / y,
    "negative": lambda x: -x,
    "power": lambda x, y: x ** y,
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "where": lambda x, y: torch.where(torch.tensor(MASK), x, y),
    "logaddexp": torch.logaddexp,
    "matmul": lambda x, y: x @ y,
    "linear": lambda x, w, b: x @ w + b,
    "exp": torch.exp,
    "expm1": torch.expm1,
    "log1p": torch.log1p,
    "sin": torch.sin,
    "cos": torch.cos,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "gelu": F.gelu,
    "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "erf": torch.erf,
    "erfc": torch.erfc,
    "log": torch.log,
    "sqrt": torch.sqrt,
    "abs": torch.abs,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "clip": lambda x: x.clamp(-0.5, 0.5),
    "clip_tensors": torch.clamp,
    "astype": lambda x: x.to(torch.float64),
    "sum": lambda x: x.sum(dim=1),
    "mean": lambda x: x.mean(dim=(0, 2), keepdim=True),
    "max": lambda x: x.amax(dim=-1),
    "min": lambda x: x.amin(dim=0),
    "prod": lambda x: x.prod(dim=1),
    "norm": lambda x: torch.linalg.vector_norm(x, dim=1),
    "logsumexp": lambda x: x.logsumexp(dim=1),
    "log_softmax": lambda x: x.log_softmax(dim=0),
    "softmax": lambda x: x.softmax(dim=-1),
    "cross_entropy": lambda x, t: F.cross_entropy(x, t),  # probability targets, mean over rows
    "cross_entropy_labels": lambda x: F.cross_entropy(x, torch.tensor(CLASSES)),
    "bce_with_logits": lambda x, t: F.binary_cross_entropy_with_logits(x, t),
    "reshape": lambda x: x.reshape(4, -1),
    "transpose": lambda x: x.permute(2, 0, 1),
    "getitem": lambda x: x[[0, 2, 0], 1:],
    "broadcast_to": lambda x: x.expand(2, 3, 4),
    "add_at": lambda g: torch.zeros(3, 4, dtype=g.dtype).index_put((ROWS, COLS), g,
                                                                   accumulate=True),
    "concatenate": lambda x, y: torch.cat([x, y], dim=1),
    "stack": lambda x, y: torch.stack([x, y], dim=-1),
    "tan": torch.tan, "sinh": torch.sinh, "cosh": torch.cosh, "arcsin": torch.asin,
    "arccos": torch.acos, "arctan": torch.atan, "arcsinh": torch.asinh, "arccosh": torch.acosh,
    "arctanh": torch.atanh, "arctan2": torch.atan2, "hypot": torch.hypot, "sinc": torch.sinc,
    "log2": torch.log2, "log10": torch.log10, "exp2": torch.exp2,
    "logaddexp2": torch.logaddexp2, "cbrt": lambda x: x.sign() * x.abs() ** (1 / 3),
    "fmax": torch.fmax, "fmin": torch.fmin, "remainder": torch.remainder,
    "nan_to_num": torch.nan_to_num,
    "solve": torch.linalg.solve,
    "solve_triangular": lambda a, b: torch.linalg.solve_triangular(a, b[:, None],
                                                                   upper=False)[:, 0],
    "inv": torch.linalg.inv,
    "slogdet": lambda a: torch.linalg.slogdet(a)[1],
    "cholesky": lambda a: torch.linalg.cholesky(_mirror(a)),
    "eigh": _eigh,
    "svd": _svd,
    "qr": _qr,
    "pinv": torch.linalg.pinv,
    "einsum": lambda x, y: torch.einsum("iijl,jk->ki", x, y),
    "einsum_unary": lambda x: torch.einsum("iij->j", x),
    # the convolution family, with test_ops_conv's settings
    "conv": lambda x, w: F.conv2d(x, w, **PUBLIC),
    "conv_transpose": lambda g, w: torch.nn.grad.conv2d_input(X_SHAPE, w, g, **PUBLIC),
    "conv_weight": lambda x, g: torch.nn.grad.conv2d_weight(x, W_SHAPE, g, **PUBLIC),
    "max_pool": lambda x: F.max_pool2d(x, (3, 2), (2, 1), 1),
    "cumsum": lambda x: torch.cumsum(x, 1),
    "cumprod": lambda x: torch.cumprod(x, 0),
    "copy": lambda x: x.clone(),
    # x[INDEX] = v: PyTorch's index_put gives both copies of a repeated position a gradient,
    # numpy keeps the last write; the exact function, spelled with masks: x where INDEX does not
    # write, plus the values that land
    "setitem": lambda x, v: (x * torch.tensor(~WRITTEN)).index_put(
        (ROWS, COLS), v * torch.tensor(LANDS), accumulate=True),
}
BY_NAME = pytest.mark.parametrize("case", CASES, ids=[case.op.name for case in CASES])


def assert_close(ours, theirs, what, tol=1e-10):
    theirs = theirs.detach().numpy()
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} vs PyTorch's {theirs.shape}"
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=what)


def test_every_op_has_a_pytorch_spelling():
    assert sorted(TORCH) == sorted(op.name for op in ops.OPS)


@BY_NAME
def test_second_derivatives_of_every_op_match_pytorchs_hessian(case):
    arrays = [t.data for t in make_inputs(case)]
    shape = case.fn(*[Tensor(a) for a in arrays]).shape
    weights = np.random.default_rng(1).normal(size=shape)  # every output direction counts
    ours = hessian(lambda *xs: (case.fn(*xs) * weights).sum(), tuple(arrays))
    theirs = TF.hessian(lambda *xs: (TORCH[case.op.name](*xs) * torch.tensor(weights)).sum(),
                        tuple(torch.tensor(a) for a in arrays))
    for i, row in enumerate(theirs):
        for j, block in enumerate(row):
            assert_close(ours[i][j].data, block, f"{case.op.name}: d2 / dx{i} dx{j}")


@BY_NAME
def test_jacobian_of_every_op_matches_pytorchs(case):
    arrays = [t.data for t in make_inputs(case, seed=2)]
    ours = jacobian(case.fn, tuple(arrays))
    theirs = TF.jacobian(TORCH[case.op.name], tuple(torch.tensor(a) for a in arrays))
    for i, block in enumerate(theirs):
        assert_close(ours[i].data, block, f"{case.op.name}: d out / dx{i}")


@BY_NAME
def test_hvp_of_every_op_matches_pytorchs(case):
    arrays = [t.data for t in make_inputs(case, seed=3)]
    shape = case.fn(*[Tensor(a) for a in arrays]).shape
    rng = np.random.default_rng(4)
    weights = rng.normal(size=shape)
    vectors = tuple(rng.normal(size=a.shape) for a in arrays)
    value, ours = hvp(lambda *xs: (case.fn(*xs) * weights).sum(), tuple(arrays), vectors)
    their_value, theirs = TF.hvp(
        lambda *xs: (TORCH[case.op.name](*xs) * torch.tensor(weights)).sum(),
        tuple(torch.tensor(a) for a in arrays), tuple(torch.tensor(v) for v in vectors))
    assert_close(value.data, their_value, f"{case.op.name}: value")
    for i, block in enumerate(theirs):
        assert_close(ours[i].data, block, f"{case.op.name}: (H v) for x{i}")


# ---------------------------------------------------------------- a small MLP's loss
X = np.random.default_rng(5).normal(size=(6, 3))
LABELS = np.array([0, 2, 1, 1, 0, 2])
TARGETS = np.random.default_rng(6).uniform(size=(6, 3))
NETWORKS = {
    # activation, our loss, PyTorch's loss
    "tanh, cross-entropy": ("tanh", lambda out: nn.functional.cross_entropy(out, LABELS),
                            lambda out: F.cross_entropy(out, torch.tensor(LABELS))),
    "sigmoid, squared error": ("sigmoid",
                               lambda out: nn.functional.mse_loss(out, TARGETS, "sum"),
                               lambda out: ((out - torch.tensor(TARGETS)) ** 2).sum()),
}


def mlp(activation):
    model = nn.MLP([3, 4, 3], activation=activation, rng=np.random.default_rng(7))
    theta = np.random.default_rng(8).normal(size=model.num_parameters())  # biases too
    vector_to_parameters(theta, model)
    return model


def split_flat(theta, shapes):
    """A flat parameter vector as the pieces of these shapes, in order (views of it)."""
    pieces, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        pieces.append(theta[start:start + size].reshape(shape))
        start += size
    return pieces


def torch_loss(model, activation, loss):
    """PyTorch's loss as a function of the flat parameter vector, layer by layer (x @ W + b,
    our layout), in `parameters_to_vector` order."""
    shapes = [p.shape for p in model.parameters()]
    act = {"tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]

    def f(theta):
        w1, b1, w2, b2 = split_flat(theta, shapes)
        return loss(act(torch.tensor(X) @ w1 + b1) @ w2 + b2)

    return f


def with_parameters(model, tensors):
    """Run the model on X with its Linear layers' parameters replaced by `tensors` (weight,
    bias, weight, bias, ...), then put the originals back: the loss as a function of them."""
    layers = [m for m in model.modules() if isinstance(m, nn.Linear)]
    saved = [(m.weight, m.bias) for m in layers]
    try:
        for m, (w, b) in zip(layers, zip(tensors[::2], tensors[1::2])):
            m.weight, m.bias = w, b
        return model(X)
    finally:
        for m, (w, b) in zip(layers, saved):
            m.weight, m.bias = w, b


@pytest.mark.parametrize("name", list(NETWORKS))
def test_hessian_of_an_mlps_loss_matches_pytorch_to_1e_10(name):
    activation, loss, their_loss = NETWORKS[name]
    model = mlp(activation)
    params = [p.data for p in model.parameters()]
    ours = hessian(lambda *ps: loss(with_parameters(model, ps)), tuple(params))
    flat = np.block([[ours[i][j].data.reshape(p.size, q.size) for j, q in enumerate(params)]
                     for i, p in enumerate(params)])
    theta = torch.tensor(parameters_to_vector(model))
    theirs = TF.hessian(torch_loss(model, activation, their_loss), theta)
    assert flat.shape == (31, 31)
    assert_close(flat, theirs, f"{name}: Hessian in the parameters")
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name", list(NETWORKS))
def test_nn_utils_hessian_vector_product_builds_pytorchs_hessian(name):
    activation, loss, their_loss = NETWORKS[name]
    model = mlp(activation)
    theta = parameters_to_vector(model)
    hessp = hessian_vector_product(model, loss_fn=lambda out, y: loss(out), X=X, y=None)
    ours = np.stack([hessp(theta, e) for e in np.eye(theta.size)], axis=1)
    theirs = TF.hessian(torch_loss(model, activation, their_loss), torch.tensor(theta))
    assert_close(ours, theirs, f"{name}: columns H e_i")
