"""Convolution and pooling layers against PyTorch with the same weights: outputs, input and
parameter gradients, in float32 and float64, on odd shapes (stride > kernel, padding over half
the kernel, 1x1 kernels, batch 1, dilation, groups, "same" with an even kernel).

Needs the `torch` extra (`pip install -e ".[torch]"`); skipped without it.
"""

import numpy as np
import pytest

import nn
from autograd import Tensor

torch = pytest.importorskip("torch")

TOL = {np.float64: dict(rtol=1e-10, atol=1e-12), np.float32: dict(rtol=2e-4, atol=2e-5)}
# PyTorch pads a copy of the input for "same" with an even kernel, and says so: not our concern.
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
DTYPES = pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])

# (name, (in, out, kernel, options), input shape)
CONVS = [
    ("Conv1d", (3, 2, 1, dict(stride=3)), (1, 3, 7)),  # 1x1 kernel, stride > kernel, batch 1
    ("Conv1d", (2, 4, 3, dict(padding=3, dilation=2, groups=2)), (2, 2, 5)),
    ("Conv1d", (2, 3, 4, dict(padding="same")), (2, 2, 6)),  # even kernel: padding (1, 2)
    ("Conv1d", (2, 3, 3, dict(padding="valid", bias=False)), (3, 2, 5)),
    ("Conv2d", (1, 2, 2, dict(stride=3)), (1, 1, 5, 5)),
    ("Conv2d", (4, 4, 3, dict(padding="same", groups=4)), (2, 4, 4, 3)),
    ("Conv2d", (2, 3, 2, dict(padding="same", dilation=2)), (1, 2, 6, 5)),
    ("Conv2d", (2, 4, (2, 3), dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1), groups=2)),
     (2, 2, 5, 7)),
    ("Conv2d", (2, 2, 1, dict(stride=2, padding=1)), (1, 2, 4, 4)),
    ("Conv2d", (3, 2, 3, {}), (3, 6, 6)),  # unbatched input (C, H, W)
]
# (name, args, kwargs, input shape)
POOLS = [
    ("MaxPool1d", (3,), dict(stride=1, padding=1), (2, 3, 7)),
    ("MaxPool1d", (2,), dict(stride=3), (1, 2, 8)),
    ("MaxPool1d", (3,), dict(stride=2, padding=1, dilation=2), (1, 2, 9)),
    ("MaxPool2d", (2,), {}, (2, 3, 6, 4)),
    ("MaxPool2d", ((3, 2),), dict(stride=(2, 1), padding=1), (1, 1, 5, 5)),
    ("MaxPool2d", (1,), dict(stride=2), (1, 2, 3, 3)),
    ("AvgPool2d", (3,), dict(stride=2, padding=1), (2, 3, 7, 6)),
    ("AvgPool2d", (2,), dict(stride=3), (1, 2, 8, 8)),
    ("AvgPool2d", ((3, 2),), dict(padding=(1, 1), count_include_pad=False), (2, 2, 5, 4)),
    ("AvgPool2d", (2,), dict(divisor_override=3), (1, 2, 4, 4)),
    ("AdaptiveAvgPool2d", (1,), {}, (2, 3, 5, 4)),
    ("AdaptiveAvgPool2d", ((3, 2),), {}, (2, 3, 5, 7)),  # windows of unequal sizes
    ("AdaptiveAvgPool2d", ((None, 3),), {}, (1, 2, 4, 9)),
    ("AdaptiveAvgPool2d", (4,), {}, (1, 2, 4, 4)),  # the identity
]


def _torch_dtype(dtype):
    return torch.float64 if dtype == np.float64 else torch.float32


def _compare(ours, theirs, shape, dtype, params=(), ties=False):
    rng = np.random.default_rng(0)
    x = rng.normal(size=shape).astype(dtype)
    if ties:  # repeated values: max pooling must pick the same cell as PyTorch
        x = np.round(x * 2) / 2
    xn = Tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yn, yt = ours(xn), theirs(xt)
    assert yn.shape == tuple(yt.shape) and yn.dtype == dtype
    np.testing.assert_allclose(yn.data, yt.detach().numpy(), **TOL[dtype])
    g = rng.normal(size=yn.shape).astype(dtype)
    (yn * g).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xn.grad, xt.grad.numpy(), **TOL[dtype])
    for name, p_ours, p_theirs in params:
        assert p_ours.grad.dtype == dtype, name
        np.testing.assert_allclose(p_ours.grad, p_theirs.grad.numpy(), **TOL[dtype],
                                   err_msg=name)


@DTYPES
@pytest.mark.parametrize("name, args, shape", CONVS, ids=[f"{c[0]}-{i}" for i, c in
                                                           enumerate(CONVS)])
def test_conv_layers_match_pytorch_with_the_same_weights(name, args, shape, dtype):
    c_in, c_out, kernel, options = args
    ours = getattr(nn, name)(c_in, c_out, kernel, dtype=dtype, **options)
    theirs = getattr(torch.nn, name)(c_in, c_out, kernel, dtype=_torch_dtype(dtype), **options)
    assert tuple(theirs.weight.shape) == ours.weight.shape  # PyTorch's layout, no transpose
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.weight.data))
        if ours.bias is not None:
            theirs.bias.copy_(torch.from_numpy(ours.bias.data))
    params = [("weight", ours.weight, theirs.weight)]
    if ours.bias is not None:
        params.append(("bias", ours.bias, theirs.bias))
    else:
        assert theirs.bias is None
    _compare(ours, theirs, shape, dtype, params)


@DTYPES
@pytest.mark.parametrize("name, args, kwargs, shape", POOLS,
                         ids=[f"{p[0]}-{i}" for i, p in enumerate(POOLS)])
def test_pooling_layers_match_pytorch(name, args, kwargs, shape, dtype):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    _compare(ours, theirs, shape, dtype, ties=name.startswith("Max"))


@pytest.mark.parametrize("kernel, stride, padding, dilation", [
    ((1, 2), 1, (0, 1), (1, 2)), (3, 2, 1, 1), (2, 1, 1, 2), ((3, 2), (1, 2), (1, 1), (2, 1))])
def test_max_pool_breaks_ties_and_minus_infinity_windows_as_pytorch(kernel, stride, padding,
                                                                    dilation):
    # Ties everywhere and windows of -inf: the gradient goes to the same cell as PyTorch's.
    rng = np.random.default_rng(0)
    x = rng.choice([0.0, 1.0, -np.inf, -np.inf], size=(2, 3, 5, 6))
    xn, xt = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yn = nn.functional.max_pool2d(xn, kernel, stride, padding, dilation)
    yt = torch.nn.functional.max_pool2d(xt, kernel, stride, padding, dilation)
    np.testing.assert_array_equal(yn.data, yt.detach().numpy())
    g = rng.normal(size=yn.shape)
    yn.backward(g)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xn.grad, xt.grad.numpy(), atol=1e-12)


@DTYPES
def test_a_small_cnn_matches_pytorch_over_several_sgd_steps(dtype):
    nn.manual_seed(0)
    ours = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, dtype=dtype), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(4, 6, 3, padding="same", dtype=dtype), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3, dtype=dtype))
    td = _torch_dtype(dtype)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1, dtype=td), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding="same", dtype=td), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(6, 3, dtype=td))
    with torch.no_grad():
        for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
            # nn.Linear stores (in, out), PyTorch (out, in): the one transpose in this model
            q.copy_(torch.from_numpy(p.data.T.copy() if name.endswith("7.weight") else p.data))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 1, 8, 8)).astype(dtype)
    labels = rng.integers(0, 3, 5)
    opt_ours = nn.optim.SGD(ours.parameters(), lr=0.1, momentum=0.9)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.1, momentum=0.9)
    for _ in range(4):
        loss_ours = nn.functional.cross_entropy(ours(x), labels)
        opt_ours.zero_grad()
        loss_ours.backward()
        opt_ours.step()
        loss_theirs = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)),
                                                        torch.from_numpy(labels))
        opt_theirs.zero_grad()
        loss_theirs.backward()
        opt_theirs.step()
        np.testing.assert_allclose(loss_ours.item(), loss_theirs.item(), **TOL[dtype])
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        expected = q.detach().numpy()
        np.testing.assert_allclose(p.data, expected.T if name.endswith("7.weight") else expected,
                                   **TOL[dtype], err_msg=name)


def test_default_initialisation_has_pytorchs_bounds():
    # Both draw U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias; fan_in = 8/2 * 3 * 3.
    ours = nn.Conv2d(8, 64, 3, groups=2)
    theirs = torch.nn.Conv2d(8, 64, 3, groups=2)
    bound = 1 / np.sqrt(4 * 9)
    for a, b in ((ours.weight.data, theirs.weight.detach().numpy()),
                 (ours.bias.data, theirs.bias.detach().numpy())):
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound
        assert np.abs(a).max() > 0.9 * bound and np.abs(b).max() > 0.9 * bound
        assert abs(a.std() - b.std()) < 0.2 * bound  # both uniform: std = bound / sqrt(3)
