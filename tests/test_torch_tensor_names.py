"""The PyTorch-named Tensor methods and functions against PyTorch itself: values, gradients
and dtypes, from the same arrays, with ties and kinks among them. Needs the `torch` extra;
skipped without it."""

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(19)
DATA = RNG.normal(size=(2, 3, 4))
DATA[0, 0, :2] = 1.5  # ties for max and min along the last axis
DATA[1, 2, 1:3] = -2.0
MASK = DATA > 0.3

# (name, npgrad, torch): each gets a Tensor / torch tensor of DATA that requires grad
CASES = [
    ("view", lambda t: t.view(6, 4), lambda t: t.view(6, 4)),
    ("view tuple", lambda t: t.view((4, -1)), lambda t: t.view((4, -1))),
    ("view_as", lambda t: t.view_as(t.permute(2, 1, 0)), lambda t: t.view_as(t.permute(2, 1, 0))),
    ("reshape(*shape)", lambda t: t.reshape(3, 8), lambda t: t.reshape(3, 8)),
    ("float", lambda t: t.float(), lambda t: t.float()),
    ("double", lambda t: t.float().double(), lambda t: t.float().double()),
    ("to dtype", lambda t: t.to(np.float32), lambda t: t.to(torch.float32)),
    ("to cpu", lambda t: t.to("cpu"), lambda t: t.to("cpu")),
    ("type_as", lambda t: t.type_as(t.float()), lambda t: t.type_as(t.float())),
    ("clone", lambda t: t.clone() * 2, lambda t: t.clone() * 2),
    ("clamp", lambda t: t.clamp(-0.5, 1.5), lambda t: t.clamp(-0.5, 1.5)),
    ("clamp min=", lambda t: t.clamp(min=0.0), lambda t: t.clamp(min=0.0)),
    ("clamp max=", lambda t: t.clamp(max=-2.0), lambda t: t.clamp(max=-2.0)),
    ("clamp_min", lambda t: t.clamp_min(1.5), lambda t: t.clamp_min(1.5)),
    ("clamp_max", lambda t: t.clamp_max(1.5), lambda t: t.clamp_max(1.5)),
    ("clip min= max=", lambda t: t.clip(min=-1.0, max=1.0), lambda t: t.clip(min=-1.0, max=1.0)),
    ("permute", lambda t: t.permute(2, 0, 1), lambda t: t.permute(2, 0, 1)),
    ("unsqueeze", lambda t: t.unsqueeze(-2), lambda t: t.unsqueeze(-2)),
    ("squeeze(dim)", lambda t: t[:, :1].squeeze(1), lambda t: t[:, :1].squeeze(1)),
    ("flatten()", lambda t: t.flatten(), lambda t: t.flatten()),
    ("flatten(1)", lambda t: t.flatten(1), lambda t: t.flatten(1)),
    ("flatten(0, 1)", lambda t: t.flatten(0, 1), lambda t: t.flatten(0, 1)),
    ("flatten dims", lambda t: t.flatten(start_dim=1, end_dim=-1),
     lambda t: t.flatten(start_dim=1, end_dim=-1)),
    ("masked_fill", lambda t: t.masked_fill(MASK, -1.0),
     lambda t: t.masked_fill(torch.tensor(MASK), -1.0)),
    ("masked_fill row mask", lambda t: t.masked_fill(MASK[0, 0], 0.0),
     lambda t: t.masked_fill(torch.tensor(MASK[0, 0]), 0.0)),
    ("sum dim keepdim", lambda t: t.sum(dim=1, keepdim=True), lambda t: t.sum(dim=1, keepdim=True)),
    ("sum dims", lambda t: t.sum(dim=(0, 2)), lambda t: t.sum(dim=(0, 2))),
    ("mean dim", lambda t: t.mean(dim=-1), lambda t: t.mean(dim=-1)),
    ("prod dim", lambda t: t.prod(dim=0), lambda t: t.prod(dim=0)),
    ("var correction", lambda t: t.var(dim=1, correction=1), lambda t: t.var(dim=1, correction=1)),
    ("std keepdim", lambda t: t.std(dim=2, keepdim=True, correction=0),
     lambda t: t.std(dim=2, keepdim=True, correction=0)),
    ("logsumexp dim", lambda t: t.logsumexp(dim=1), lambda t: t.logsumexp(dim=1)),
    ("softmax dim", lambda t: t.softmax(dim=0), lambda t: t.softmax(dim=0)),
    ("log_softmax dim", lambda t: t.log_softmax(dim=1), lambda t: t.log_softmax(dim=1)),
    ("max dim values", lambda t: t.max(dim=2).values, lambda t: t.max(dim=2).values),
    ("max dim keepdim", lambda t: t.max(dim=-1, keepdim=True)[0],
     lambda t: t.max(dim=-1, keepdim=True)[0]),
    ("min dim values", lambda t: t.min(dim=2).values, lambda t: t.min(dim=2).values),
    ("min dim 0", lambda t: t.min(dim=0).values, lambda t: t.min(dim=0).values),
    ("leaky_relu negative_slope", lambda t: t.leaky_relu(negative_slope=0.2),
     lambda t: torch.nn.functional.leaky_relu(t, negative_slope=0.2)),
    ("cat dim", lambda t: autograd.cat([t, t * 2], dim=1), lambda t: torch.cat([t, t * 2], dim=1)),
    ("concat", lambda t: autograd.concat([t, t], 2), lambda t: torch.concat([t, t], 2)),
    ("stack dim", lambda t: autograd.stack([t, t], dim=1), lambda t: torch.stack([t, t], dim=1)),
    ("Softmax(dim=)", lambda t: nn.Softmax(dim=1)(t), lambda t: torch.nn.Softmax(dim=1)(t)),
    ("LogSoftmax(dim=)", lambda t: nn.LogSoftmax(dim=0)(t),
     lambda t: torch.nn.LogSoftmax(dim=0)(t)),
    ("Flatten(start_dim, end_dim)", lambda t: nn.Flatten(start_dim=0, end_dim=1)(t),
     lambda t: torch.nn.Flatten(start_dim=0, end_dim=1)(t)),
]


def _weights(shape):
    return np.random.default_rng(len(shape)).normal(size=shape)


@pytest.mark.parametrize("name, ours, theirs", CASES, ids=[c[0] for c in CASES])
def test_value_dtype_and_gradient_match_pytorch(name, ours, theirs):
    x = Tensor(DATA, requires_grad=True)
    xt = torch.tensor(DATA, requires_grad=True)
    out, out_t = ours(x), theirs(xt)
    assert out.shape == tuple(out_t.shape)
    assert str(out.dtype) == str(out_t.dtype).removeprefix("torch.")
    np.testing.assert_allclose(out.data, out_t.detach().numpy(), rtol=1e-6, atol=1e-12)
    w = _weights(out.shape)
    (out * w).sum().backward()
    (out_t * torch.tensor(w, dtype=out_t.dtype)).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_and_min_with_dim_give_pytorchs_indices(name, keepdim):
    for dim in (0, 1, 2, -1):
        values, indices = getattr(Tensor(DATA), name)(dim=dim, keepdim=keepdim)
        values_t, indices_t = getattr(torch.tensor(DATA), name)(dim=dim, keepdim=keepdim)
        np.testing.assert_array_equal(values.data, values_t.numpy())
        np.testing.assert_array_equal(indices, indices_t.numpy())


@pytest.mark.parametrize("size", [1, 2, 3, 5, [1, 3], [0, 2, 2]])
@pytest.mark.parametrize("dim", [1, -1])
def test_split_matches_pytorch(size, dim):
    if isinstance(size, list) and sum(size) != DATA.shape[dim]:
        size = [*size[:-1], DATA.shape[dim] - sum(size[:-1])]
    x = Tensor(DATA, requires_grad=True)
    xt = torch.tensor(DATA, requires_grad=True)
    pieces, pieces_t = x.split(size, dim=dim), xt.split(size, dim=dim)
    assert [p.shape for p in pieces] == [tuple(p.shape) for p in pieces_t]
    for i, (p, pt) in enumerate(zip(pieces, pieces_t)):
        np.testing.assert_array_equal(p.data, pt.detach().numpy())
        (p * (i + 1.5)).sum().backward()
        (pt * (i + 1.5)).sum().backward()
    np.testing.assert_array_equal(x.grad, xt.grad.numpy())


@pytest.mark.parametrize("chunks", [1, 2, 3, 4, 5, 7])
@pytest.mark.parametrize("dim", [0, 2])
def test_chunk_matches_pytorch(chunks, dim):
    pieces = Tensor(DATA).chunk(chunks, dim)
    pieces_t = torch.tensor(DATA).chunk(chunks, dim)
    assert [p.shape for p in pieces] == [tuple(p.shape) for p in pieces_t]
    for p, pt in zip(pieces, pieces_t):
        np.testing.assert_array_equal(p.data, pt.numpy())


def test_clamp_with_tensor_bounds_matches_pytorch():
    lo, hi = RNG.normal(size=(3, 4)) - 0.5, RNG.normal(size=4) + 0.5
    lo[0, 0] = DATA[0, 0, 0]  # a tie with the bound
    args = [Tensor(a, requires_grad=True) for a in (DATA, lo, hi)]
    args_t = [torch.tensor(a, requires_grad=True) for a in (DATA, lo, hi)]
    out, out_t = args[0].clamp(args[1], args[2]), args_t[0].clamp(args_t[1], args_t[2])
    np.testing.assert_array_equal(out.data, out_t.detach().numpy())
    w = _weights(out.shape)
    (out * w).sum().backward()
    (out_t * torch.tensor(w)).sum().backward()
    for a, at in zip(args, args_t):
        np.testing.assert_allclose(a.grad, at.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_masked_fill_with_a_tensor_value_matches_pytorch():
    x, v = Tensor(DATA, requires_grad=True), Tensor(np.array(0.25), requires_grad=True)
    xt, vt = torch.tensor(DATA, requires_grad=True), torch.tensor(0.25, requires_grad=True)
    w = _weights(DATA.shape)
    (x.masked_fill(MASK, v) * w).sum().backward()
    (xt.masked_fill(torch.tensor(MASK), vt) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad, xt.grad.numpy())
    np.testing.assert_allclose(v.grad, vt.grad.numpy())


def test_the_facts_match_pytorch():
    x, xt = Tensor(DATA), torch.tensor(DATA)
    assert x.size() == tuple(xt.size()) and x.size(1) == xt.size(1) and x.size(-1) == xt.size(-1)
    assert x.numel() == xt.numel() and x.dim() == xt.dim()
    assert x.tolist() == xt.tolist()
    np.testing.assert_array_equal(x.detach().cpu().numpy(), xt.detach().cpu().numpy())
    for ours, theirs in ((x.new_zeros(2, 3), xt.new_zeros(2, 3)),
                         (x.float().new_ones((3,)), xt.float().new_ones((3,)))):
        assert ours.shape == tuple(theirs.shape)
        assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
        np.testing.assert_array_equal(ours.data, theirs.numpy())
    made, made_t = autograd.tensor([[1, 2], [3, 4]]), torch.tensor([[1, 2], [3, 4]]).double()
    np.testing.assert_array_equal(made.data, made_t.numpy())


def test_zero_and_requires_grad_match_pytorch():
    w, wt = Tensor(DATA.copy()), torch.tensor(DATA.copy())
    assert w.requires_grad_() is w and wt.requires_grad_() is wt
    with pytest.raises(RuntimeError):
        wt.zero_()
    with pytest.raises(RuntimeError, match="zero_"):
        w.zero_()
    with autograd.no_grad():
        w.zero_()
    with torch.no_grad():
        wt.zero_()
    np.testing.assert_array_equal(w.data, wt.detach().numpy())
    with autograd.inference_mode():
        assert not (w * 2).requires_grad
    with torch.inference_mode():
        assert not (wt * 2).requires_grad


def test_backward_keywords_match_pytorch():
    a, b = Tensor(DATA[0], requires_grad=True), Tensor(DATA[1], requires_grad=True)
    at, bt = (torch.tensor(d, requires_grad=True) for d in (DATA[0], DATA[1]))
    seed = _weights((3, 4))
    out, out_t = a * b.exp(), at * bt.exp()
    out.backward(gradient=seed, retain_graph=True)
    out_t.backward(gradient=torch.tensor(seed), retain_graph=True)
    out.backward(gradient=seed * 2, inputs=[b])
    out_t.backward(gradient=torch.tensor(seed * 2), inputs=[bt])
    np.testing.assert_allclose(a.grad, at.grad.numpy())
    np.testing.assert_allclose(b.grad, bt.grad.numpy())


@pytest.mark.parametrize("call", [lambda t: t.split(2), lambda t: t.split([0]),
                                  lambda t: t.chunk(3), lambda t: t.split(0)])
def test_split_and_chunk_of_an_empty_axis_match_pytorch(call):
    pieces, pieces_t = call(Tensor(np.zeros((0, 2)))), call(torch.zeros((0, 2)))
    assert [p.shape for p in pieces] == [tuple(p.shape) for p in pieces_t]
