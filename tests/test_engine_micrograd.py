"""micrograd's own engine tests, run on npgrad: in-place `+=` on intermediates, reuse, relu.

Copied from karpathy/micrograd test/test_engine.py (MIT licence), adapted only in the import and
in how a value is made (`Tensor(x, requires_grad=True)` for `Value(x)`). micrograd compares with
PyTorch; here the values it gives are written out (tests/test_torch_micrograd.py recomputes them
with PyTorch). `d += 3 * d + ...` was refused as "modified in place" before each VJP declared
what it reads: `3 * d` needs only the 3 to give d its gradient.
"""

from autograd import Tensor


def Value(data):  # micrograd's scalar, as an npgrad leaf
    return Tensor(data, requires_grad=True)


def test_sanity_check():
    # karpathy/micrograd test/test_engine.py, MIT (the micrograd half)
    x = Value(-4.0)
    z = 2 * x + 2 + x
    q = z.relu() + z * x
    h = (z * z).relu()
    y = h + q + q * x
    y.backward()
    xmg, ymg = x, y

    assert ymg.data == -20.0  # micrograd's (and PyTorch's) values
    assert xmg.grad == 46.0


def test_more_ops():
    # karpathy/micrograd test/test_engine.py, MIT (the micrograd half)
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    amg, bmg, gmg = a, b, g

    tol = 1e-6
    # micrograd's (and PyTorch's) values
    assert abs(gmg.data - 24.70408163265306) < tol
    assert abs(amg.grad - 138.83381924198252) < tol
    assert abs(bmg.grad - 645.5772594752186) < tol
