"""Compiled gradient functions against PyTorch: the GP example's likelihood gradient and the
scipy example's Hessian-vector product, replayed, agree with torch.autograd. Needs the `torch`
extra; skipped without it."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import nn
from autograd.transforms import value_and_grad
from nn.utils import hessian_vector_product, parameters_to_vector

torch = pytest.importorskip("torch")
from test_torch_higher_order import split_flat  # noqa: E402 - needs torch, checked above

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location(f"torch_{name}", EXAMPLES / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def torch_nlml(params, x, y, jitter):
    x, y = torch.tensor(x), torch.tensor(y)
    scaled = (x[:, None] - x[None, :]) / torch.exp(params[0])
    cov = torch.exp(params[1]) * torch.exp(-0.5 * scaled**2)
    cov = cov + (torch.exp(params[2]) + jitter) * torch.eye(len(x), dtype=torch.float64)
    factor = torch.linalg.cholesky(cov)
    alpha = torch.cholesky_solve(y[:, None], factor)[:, 0]
    return (0.5 * y @ alpha + torch.log(torch.diagonal(factor)).sum()
            + 0.5 * len(x) * np.log(2 * np.pi))


def test_the_replayed_gp_likelihood_and_gradient_agree_with_torch():
    gp = load("gaussian_process")
    x, y = gp.make_data(30, np.random.default_rng(4))
    f = value_and_grad(lambda p: gp.negative_log_marginal_likelihood(p, x, y), compile=True)
    rng = np.random.default_rng(5)
    for _ in range(6):
        p = gp.TRUE_LOG_PARAMS + 0.3 * rng.standard_normal(3)
        value, grad = f(p)
        t = torch.tensor(p, requires_grad=True)
        expected = torch_nlml(t, x, y, gp.JITTER)
        expected.backward()
        np.testing.assert_allclose(value, expected.item(), rtol=1e-10)
        np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-8, atol=1e-10)
    assert f.compiled


def test_the_replayed_hessian_vector_product_agrees_with_torch():
    example = load("scipy_minimize")
    model = example.make_model(bias=True)
    hessp = hessian_vector_product(model, nn.MSELoss(reduction="sum"), example.X, example.XOR_Y)
    X, Y = torch.tensor(example.X), torch.tensor(example.XOR_Y)
    shapes = [p.shape for p in model.parameters()]  # (in, out) weights, then biases, per layer

    def sse(theta):
        w1, b1, w2, b2 = split_flat(theta, shapes)
        return ((torch.sigmoid(X @ w1 + b1) @ w2 + b2 - Y) ** 2).sum()
    rng = np.random.default_rng(6)
    theta0 = parameters_to_vector(model)
    for _ in range(6):
        theta, p = theta0 + 0.2 * rng.standard_normal(theta0.size), rng.standard_normal(theta0.size)
        _, expected = torch.autograd.functional.hvp(sse, torch.tensor(theta), torch.tensor(p))
        np.testing.assert_allclose(hessp(theta, p), expected.numpy(), rtol=1e-9, atol=1e-12)
    assert hessp.compiled
