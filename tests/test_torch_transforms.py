"""autograd.transforms against torch.func: grad, value_and_grad (grad_and_value), jacobian
(jacrev), hessian, vjp, jvp and Hessian-vector products (jvp of grad) on the same functions,
written once in numpy calls for npgrad and in torch calls for PyTorch, in float64. Needs the
`torch` extra; skipped without it.
"""

import numpy as np
import pytest

from autograd import transforms as T

torch = pytest.importorskip("torch")
func = torch.func

RNG = np.random.default_rng(0)
X = RNG.normal(size=4)
W = RNG.normal(size=(4, 4))
V = RNG.normal(size=4)

# name -> (npgrad's, torch's): scalar functions of one vector
SCALARS = {
    "logistic": (lambda x: np.sum(np.logaddexp(0, W @ x)) + np.sum(x ** 2) / 2,
                 lambda x: torch.logaddexp(torch.zeros(4, dtype=x.dtype), torch.tensor(W) @ x)
                 .sum() + (x ** 2).sum() / 2),
    "trig": (lambda x: np.sum(np.arctan2(np.sinh(x), np.cosh(x) + 2) * np.hypot(x, 1.0)),
             lambda x: (torch.atan2(torch.sinh(x), torch.cosh(x) + 2)
                        * torch.hypot(x, torch.ones_like(x))).sum()),
    "softmax": (lambda x: np.log(np.sum(np.exp(x))) - x[0],
                lambda x: torch.logsumexp(x, 0) - x[0]),
}


def tt(a):
    return torch.tensor(a, dtype=torch.float64)


@pytest.mark.parametrize("name", SCALARS)
def test_grad_value_and_hessian_match_torch_func(name):
    ours, theirs = SCALARS[name]
    value, g = T.value_and_grad(ours)(X)
    tg, tvalue = func.grad_and_value(theirs)(tt(X))
    np.testing.assert_allclose(value, tvalue.item(), rtol=1e-14)
    np.testing.assert_allclose(g, tg.numpy(), rtol=1e-12)
    np.testing.assert_allclose(T.grad(ours)(X), tg.numpy(), rtol=1e-12)
    np.testing.assert_allclose(T.hessian(ours)(X), func.hessian(theirs)(tt(X)).numpy(),
                               rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("name", SCALARS)
def test_hessian_vector_products_match_forward_over_reverse(name):
    ours, theirs = SCALARS[name]
    _, expected = func.jvp(func.grad(theirs), (tt(X),), (tt(V),))
    np.testing.assert_allclose(T.hvp(ours)(X, V), expected.numpy(), rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(T.jvp(T.grad(ours), (X,), (V,))[1], expected.numpy(),
                               rtol=1e-11, atol=1e-14)


def vector_ours(x, y):
    return np.tanh(W @ x) * y + np.sinc(x)


def vector_theirs(x, y):
    return torch.tanh(torch.tensor(W) @ x) * y + torch.sinc(x)


def test_jacobian_matches_jacrev():
    for argnum in (0, 1):
        ours = T.jacobian(vector_ours, argnum)(X, 0.7)
        theirs = func.jacrev(vector_theirs, argnums=argnum)(tt(X), tt(0.7))
        np.testing.assert_allclose(ours, theirs.numpy(), rtol=1e-12, atol=1e-15)


def test_vjp_and_jvp_match_torch_func():
    out, vjp_fn = T.vjp(vector_ours, X, 0.7)
    tout, tvjp_fn = func.vjp(vector_theirs, tt(X), tt(0.7))
    np.testing.assert_allclose(out, tout.numpy(), rtol=1e-14)
    for mine, theirs in zip(vjp_fn(V), tvjp_fn(tt(V)), strict=True):
        np.testing.assert_allclose(mine, theirs.numpy(), rtol=1e-12)
    out, tangent = T.jvp(vector_ours, (X, 0.7), (V, -0.3))
    tout, ttangent = func.jvp(vector_theirs, (tt(X), tt(0.7)), (tt(V), tt(-0.3)))
    np.testing.assert_allclose(out, tout.numpy(), rtol=1e-14)
    np.testing.assert_allclose(tangent, ttangent.numpy(), rtol=1e-12)


def test_grad_of_a_dict_matches_torch_func_on_a_dict():
    params = {"w": RNG.normal(size=(4, 2)), "b": RNG.normal(size=2)}
    data = RNG.normal(size=(5, 4))

    def ours(p):
        return np.sum(np.tanh(data @ p["w"] + p["b"]) ** 2)

    def theirs(p):
        return (torch.tanh(tt(data) @ p["w"] + p["b"]) ** 2).sum()

    g = T.grad(ours)(params)
    tg = func.grad(theirs)({k: tt(v) for k, v in params.items()})
    for k in params:
        np.testing.assert_allclose(g[k], tg[k].numpy(), rtol=1e-12)
