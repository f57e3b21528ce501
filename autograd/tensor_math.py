"""More of the Tensor surface: the circular and hyperbolic functions and their inverses, logs
and exponentials in bases 2 and 10, and the two-operand functions of numpy and PyTorch (arctan2,
hypot, fmax, remainder and `%`, ...). One-line methods calling `apply`, as in tensor.py, kept in
a base class of Tensor so that tensor.py stays readable; numpy's names first, PyTorch's
spellings (asin, atan2, ...) as aliases.
"""

import math

from . import ops


# This module sits below tensor.py (Tensor inherits from it), so it imports no Tensor: it
# applies ops through the Tensor it is handed, `self`.
def _apply(op, t, **attrs):
    return t._apply(op, t, **attrs)


def _two(op, x, y, like):
    """op(x, y) with the plain operand lifted into the dtype of `like` (the Tensor, x or y)."""
    return like._apply(op, like._lift(x, like, op.name), like._lift(y, like, op.name))


class MathMethods:
    """Methods of Tensor (see the module docstring)."""

    __slots__ = ()

    def tan(self): return _apply(ops.tan, self)
    def sinh(self): return _apply(ops.sinh, self)
    def cosh(self): return _apply(ops.cosh, self)
    def arcsin(self): return _apply(ops.arcsin, self)
    def arccos(self): return _apply(ops.arccos, self)
    def arctan(self): return _apply(ops.arctan, self)
    def arcsinh(self): return _apply(ops.arcsinh, self)
    def arccosh(self): return _apply(ops.arccosh, self)
    def arctanh(self): return _apply(ops.arctanh, self)
    asin, acos, atan, asinh, acosh, atanh = arcsin, arccos, arctan, arcsinh, arccosh, arctanh

    def arctan2(self, other):
        """The angle of the point (other, self): numpy's arctan2(y=self, x=other)."""
        return _two(ops.arctan2, self, other, self)

    atan2 = arctan2

    def hypot(self, other):
        """sqrt(self^2 + other^2) without overflow; gradient 0 at the origin (a subgradient)."""
        return _two(ops.hypot, self, other, self)

    def sinc(self):
        """sin(pi x) / (pi x), 1 at 0 (numpy's and PyTorch's normalised sinc)."""
        return _apply(ops.sinc, self)

    def log2(self): return _apply(ops.log2, self)
    def log10(self): return _apply(ops.log10, self)
    def exp2(self): return _apply(ops.exp2, self)
    def logaddexp2(self, other): return _two(ops.logaddexp2, self, other, self)
    def reciprocal(self): return 1 / self
    def deg2rad(self): return self * (math.pi / 180)  # numpy's very expression
    def rad2deg(self): return self * (180 / math.pi)

    def fmax(self, other):
        """The larger of the two, skipping nan (nan only where both are); ties give x all."""
        return _two(ops.fmax, self, other, self)

    def fmin(self, other):
        """The smaller of the two, skipping nan (nan only where both are); ties give x all."""
        return _two(ops.fmin, self, other, self)

    def remainder(self, other):
        """self mod other with the sign of other (numpy's and Python's %, PyTorch's remainder)."""
        return _two(ops.remainder, self, other, self)

    def __mod__(self, other): return _two(ops.remainder, self, other, self)
    def __rmod__(self, other): return _two(ops.remainder, other, self, self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        """nan and +-inf replaced by finite numbers (numpy's defaults); they get no gradient."""
        return _apply(ops.nan_to_num, self, nan=nan, posinf=posinf, neginf=neginf)

    # A Tensor holds real numbers: it is its own real part and its own conjugate.
    real = property(lambda self: self, doc="The tensor itself: its values are real.")

    @property
    def imag(self):
        """Zeros of the tensor's shape and dtype, a constant (numpy's imag of a real array)."""
        return self._constant(self.data.imag.copy())

    def conj(self): return self
    conjugate = conj
