"""Differential tests against PyTorch: random compositions of the op table, values and gradients.

Each seed builds a random graph over two or three leaves (broadcasting shapes, values that include
zeros, ties and kinks), then compares the forward value and every leaf's gradient with PyTorch's,
in float64. Needs the `torch` extra (`pip install -e ".[torch]"`); skipped without it.
"""

import numpy as np
import pytest

from autograd import Tensor

torch = pytest.importorskip("torch")


def t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


# Ops as (name, arity, npgrad fn, torch fn). Domains are kept valid by composition (a log takes
# x*x + 0.5), so edge values (0, ties) reach every op without leaving its domain.
def _axis(rng, ndim):
    return int(rng.integers(-ndim, ndim)) if ndim else None


UNARY = {
    "exp": (lambda x: (x * 0.5).exp(), lambda x: (x * 0.5).exp()),
    "log": (lambda x: (x * x + 0.5).log(), lambda x: (x * x + 0.5).log()),
    "sqrt": (lambda x: (x * x + 0.25).sqrt(), lambda x: (x * x + 0.25).sqrt()),
    "tanh": (lambda x: x.tanh(), torch.tanh),
    "sigmoid": (lambda x: x.sigmoid(), torch.sigmoid),
    "relu": (lambda x: x.relu(), torch.relu),               # kink at 0: both give 0 there
    "abs": (lambda x: x.abs(), torch.abs),                  # kink at 0: sign(0) = 0
    "clip": (lambda x: x.clip(-0.5, 1.0), lambda x: x.clamp(-0.5, 1.0)),
    "neg": (lambda x: -x, lambda x: -x),
    "square": (lambda x: x ** 2, lambda x: x ** 2),
    "pow0": (lambda x: x ** 0, lambda x: x ** 0),           # a zero exponent at base 0
    "softmax": (lambda x, a: x.softmax(axis=a), lambda x, a: x.softmax(dim=a)),
    "log_softmax": (lambda x, a: x.log_softmax(axis=a), lambda x, a: x.log_softmax(dim=a)),
    "logsumexp": (lambda x, a: x.logsumexp(axis=a), lambda x, a: x.logsumexp(dim=a)),
    "sum": (lambda x, a: x.sum(axis=a, keepdims=True), lambda x, a: x.sum(dim=a, keepdim=True)),
    "mean": (lambda x, a: x.mean(axis=a), lambda x, a: x.mean(dim=a)),
    "max": (lambda x, a: x.max(axis=a), lambda x, a: x.amax(dim=a)),  # ties share, as amax
    "transpose": (lambda x: x.T, lambda x: x.permute(tuple(reversed(range(x.ndim))))),
    "flip": (lambda x: x[::-1], lambda x: x.flip(0)),
}
AXIS_OPS = {"softmax", "log_softmax", "logsumexp", "sum", "mean", "max"}
BINARY = {
    "add": (lambda x, y: x + y, lambda x, y: x + y),
    "sub": (lambda x, y: x - y, lambda x, y: x - y),
    "mul": (lambda x, y: x * y, lambda x, y: x * y),
    "div": (lambda x, y: x / (y * y + 0.5), lambda x, y: x / (y * y + 0.5)),
    "pow": (lambda x, y: (x * x + 0.5) ** y, lambda x, y: (x * x + 0.5) ** y),
}


def random_values(rng, shape):
    """Normal values with zeros, ones and repeats mixed in: kinks and ties get hit."""
    values = rng.normal(size=shape)
    special = rng.choice([0.0, 1.0, -1.0, 0.5], size=shape)
    return np.where(rng.random(shape) < 0.3, special, values)


def random_shapes(rng):
    base = tuple(int(n) for n in rng.integers(1, 4, size=rng.integers(0, 3)))
    shapes = []
    for _ in range(rng.integers(2, 4)):
        # broadcast partners: drop leading axes or shrink some to 1
        s = base[rng.integers(0, len(base) + 1):] if base else ()
        shapes.append(tuple(1 if rng.random() < 0.3 else n for n in s))
    return shapes


def build(rng, leaves_np, leaves_torch, steps):
    """Apply `steps` random ops to both libraries' tensors in lockstep."""
    pool_np, pool_t = list(leaves_np), list(leaves_torch)
    for _ in range(steps):
        if rng.random() < 0.45 and len(pool_np) >= 2:
            i, j = rng.choice(len(pool_np), size=2, replace=True)
            name = rng.choice(list(BINARY))
            f_np, f_t = BINARY[name]
            pool_np.append(f_np(pool_np[i], pool_np[j]))
            pool_t.append(f_t(pool_t[i], pool_t[j]))
        else:
            i = int(rng.integers(len(pool_np)))
            name = str(rng.choice(list(UNARY)))
            f_np, f_t = UNARY[name]
            x_np, x_t = pool_np[i], pool_t[i]
            if name in AXIS_OPS:
                if x_np.ndim == 0:
                    continue
                axis = _axis(rng, x_np.ndim)
                pool_np.append(f_np(x_np, axis))
                pool_t.append(f_t(x_t, axis))
            elif name == "flip" and x_np.ndim == 0:
                continue
            else:
                pool_np.append(f_np(x_np))
                pool_t.append(f_t(x_t))
    return pool_np, pool_t


def assert_same(ours, theirs, what):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11, err_msg=what)


@pytest.mark.parametrize("seed", range(300))
def test_random_compositions_match_pytorch(seed):
    rng = np.random.default_rng(seed)
    shapes = random_shapes(rng)
    arrays = [random_values(rng, s) for s in shapes]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [t(a) for a in arrays]
    pool_np, pool_t = build(rng, ours, theirs, int(rng.integers(2, 8)))
    # a weighted sum of everything built, so every node's gradient matters
    weights = [rng.normal(size=p.shape) for p in pool_np]
    loss_np = sum(((p * w).sum() for p, w in zip(pool_np, weights)), Tensor(0.0))
    loss_t = sum((p * torch.tensor(w)).sum() for p, w in zip(pool_t, weights))
    for p_np, p_t in zip(pool_np, pool_t):
        assert_same(p_np.data, p_t, "forward")
    loss_np.backward()
    loss_t.backward()
    for i, (a, b) in enumerate(zip(ours, theirs)):
        assert_same(a.grad, b.grad, f"gradient of leaf {i} {a.shape}")


# ---------------------------------------------------------------- the edges, vs PyTorch
EDGE = [0.0, -2.0, 2.0, 0.5, -0.5, 3.0]


@pytest.mark.parametrize("exponent", [0.0, -1.0, 0.5, 1.0, 2.0, 3.0, -2.0])
def test_pow_gradients_at_every_edge(exponent):
    base = np.array(EDGE)
    x, y = Tensor(base, requires_grad=True), Tensor(np.full(base.shape, exponent),
                                                      requires_grad=True)
    xt, yt = t(base), t(np.full(base.shape, exponent))
    with np.errstate(all="ignore"):  # the forward at 0 ** -1 = inf warns, as numpy does
        out = x ** y
    out.backward(np.ones(out.shape))
    (xt ** yt).backward(torch.ones(xt.shape, dtype=torch.float64))
    assert_same(out.data, xt ** yt, "value")
    assert_same(x.grad, xt.grad, "base gradient")
    assert_same(y.grad, yt.grad, "exponent gradient")


@pytest.mark.parametrize("shapes", [((2,), (2,), (2,)), ((2, 3), (3, 4), (4,)),
                                    ((2, 3), (3, 4), (5, 1, 4)), ((3,), (3, 2), (2,)),
                                    ((4, 3), (3,), (4,)), ((2, 2, 3), (3, 1), (3,))])
@pytest.mark.parametrize("dtypes", [("float64",) * 3, ("float32", "float32", "float64")])
def test_linear_is_matmul_plus_bias(shapes, dtypes):
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=s).astype(d) for s, d in zip(shapes, dtypes)]
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = ours[0].linear(ours[1], ours[2])
    ref = theirs[0] @ theirs[1] + theirs[2]
    assert out.shape == tuple(ref.shape) and str(out.dtype) == str(ref.dtype).split(".")[1]
    out.backward(np.ones(out.shape))
    ref.backward(torch.ones_like(ref))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-5)


def test_empty_axes_and_batches():
    x, xt = Tensor(np.zeros((3, 0)), requires_grad=True), t(np.zeros((3, 0)))
    assert_same(x.logsumexp(axis=-1).data, xt.logsumexp(dim=-1), "logsumexp")
    assert x.softmax().shape == tuple(xt.softmax(-1).shape)
    empty, empty_t = Tensor(np.zeros((0, 4)), requires_grad=True), t(np.zeros((0, 4)))
    labels = torch.zeros(0, dtype=torch.long)
    for reduction in ("sum", "mean"):
        ours = empty.cross_entropy(np.zeros((0, 4)), reduction=reduction)
        ref = torch.nn.functional.cross_entropy(empty_t, labels, reduction=reduction)
        assert_same(ours.data, ref, reduction)
        ours = empty.bce_with_logits(np.zeros((0, 4)), reduction=reduction)
        ref = torch.nn.functional.binary_cross_entropy_with_logits(empty_t, torch.zeros(0, 4,
                                                                   dtype=torch.float64),
                                                                   reduction=reduction)
        assert_same(ours.data, ref, reduction)


def test_comparison_masks_match_pytorch():
    values = np.array([0.0, 2.0, -1.0, 0.0])
    x, xt = Tensor(values, requires_grad=True), t(values)
    ((x * (x != 0)) + (x * (x > 0)) ** 2).sum().backward()
    ((xt * (xt != 0)) + (xt * (xt > 0)) ** 2).sum().backward()
    assert_same(x.grad, xt.grad, "mask gradient")
