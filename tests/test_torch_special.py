"""erf, erfc and the exact GELU against PyTorch in float64: values, first and second derivatives.

The issue's bar: GELU within 1e-12 of torch.nn.functional.gelu over [-40, 40], its derivative
and (through create_graph) its second derivative too. Needs the `torch` extra; skipped without.
"""

import numpy as np
import pytest

import nn
from autograd import Tensor, grad

torch = pytest.importorskip("torch")
F = torch.nn.functional

X = np.concatenate([np.linspace(-40.0, 40.0, 20_001), [0.0, -0.0, 1e-300, -1e-300]])


def derivatives(ours, theirs, x):
    """Value, first and second derivative of an elementwise function, in npgrad and PyTorch."""
    t = Tensor(x, requires_grad=True)
    out = ours(t)
    (first,) = grad(out.sum(), [t], create_graph=True)
    (second,) = grad(first.sum(), [t])
    u = torch.tensor(x, requires_grad=True)
    their_out = theirs(u)
    (their_first,) = torch.autograd.grad(their_out.sum(), u, create_graph=True)
    (their_second,) = torch.autograd.grad(their_first.sum(), u)
    return ((out.data, their_out), (first.data, their_first), (second.data, their_second))


@pytest.mark.parametrize("ours, theirs", [
    (Tensor.gelu, F.gelu),
    (nn.GELU(), torch.nn.GELU()),
    (lambda t: t.gelu(approximate="none"), lambda u: F.gelu(u, approximate="none")),
    (lambda t: t.gelu(approximate="tanh"), lambda u: F.gelu(u, approximate="tanh")),
    (nn.GELU(approximate="tanh"), torch.nn.GELU(approximate="tanh")),
], ids=["Tensor.gelu", "nn.GELU", "none", "tanh", "nn.GELU(tanh)"])
def test_gelu_within_1e_12_of_pytorch_with_two_derivatives(ours, theirs):
    for what, (a, b) in zip(("value", "first", "second"), derivatives(ours, theirs, X)):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-12, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("ours, theirs", [(Tensor.erf, torch.erf), (Tensor.erfc, torch.erfc)],
                         ids=["erf", "erfc"])
def test_erf_and_erfc_match_pytorch_with_two_derivatives(ours, theirs):
    x = np.concatenate([np.linspace(-30.0, 30.0, 20_001), np.logspace(-300, 0, 301)])
    for what, (a, b) in zip(("value", "first", "second"), derivatives(ours, theirs, x)):
        np.testing.assert_allclose(a, b.detach().numpy(), rtol=1e-14, atol=1e-300, err_msg=what)
