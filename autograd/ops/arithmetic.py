"""Arithmetic on two operands, with broadcasting (the engine sums each gradient back to its
input's shape), and the selections between two operands: maximum, minimum, where."""

import numpy as np

from .core import Op, reads

add = Op("add", np.add,
         lambda g, out, x, y: g, "dx = g", reads(),
         lambda g, out, x, y: g, "dy = g", reads())
subtract = Op("subtract", np.subtract,
              lambda g, out, x, y: g, "dx = g", reads(),
              lambda g, out, x, y: -g, "dy = -g", reads())
multiply = Op("multiply", np.multiply,
              lambda g, out, x, y: g * y, "dx = g * y", reads("y"),
              lambda g, out, x, y: g * x, "dy = g * x", reads("x"))
divide = Op("divide", np.divide,
            lambda g, out, x, y: g / y, "dx = g / y", reads("y"),
            lambda g, out, x, y: -g * out / y, "dy = -g * out / y", reads("out", "y"))
negative = Op("negative", np.negative, lambda g, out, x: -g, "dx = -g", reads())


# pow's gradients follow PyTorch at every edge: an exponent of 0 sends 0 to the base (even at
# a base of 0, where y * x**(y-1) would be 0 * inf); the exponent gets x**y * log(x), which is
# 0 at a base of 0 for y >= 0, -inf there for y < 0, and nan for a negative base. The branch
# `where` discards is computed at a harmless point (base 1), so that differentiating the rule
# again (higher order) sends no 0 * inf = nan through it.
def _pow_base_vjp(g, out, x, y):
    zero = y == 0
    with np.errstate(divide="ignore", invalid="ignore"):  # inf at x = 0, y < 1 is the answer
        return np.where(zero, 0, g * y * np.where(zero, 1, x) ** (y - 1))


def _pow_exponent_vjp(g, out, x, y):
    zero = (x == 0) & (y >= 0)
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf and log(-2) = nan too
        return np.where(zero, 0, g * out * np.log(np.where(zero, 1, x)))


power = Op("power", np.power,
           _pow_base_vjp, "dx = g * y * x^(y-1) (0 where y = 0)", reads("x", "y"),
           _pow_exponent_vjp, "dy = g * out * log(x) (0 where x = 0, y >= 0)",
           reads("out", "x", "y"))


def _share(wins, ties, g):
    """g where this operand is the larger (smaller) one, g / 2 on ties, as PyTorch splits them."""
    return np.where(wins, g, np.where(ties, g * 0.5, 0))


maximum = Op("maximum", np.maximum,
             lambda g, out, x, y: _share(x > y, x == y, g), "dx = g where x > y (g/2 on ties)",
             reads("x", "y"),
             lambda g, out, x, y: _share(y > x, x == y, g), "dy = g where y > x (g/2 on ties)",
             reads("x", "y"))
minimum = Op("minimum", np.minimum,
             lambda g, out, x, y: _share(x < y, x == y, g), "dx = g where x < y (g/2 on ties)",
             reads("x", "y"),
             lambda g, out, x, y: _share(y < x, x == y, g), "dy = g where y < x (g/2 on ties)",
             reads("x", "y"))

# The condition is data (a bool array), not an input: it has no gradient.
where = Op("where", lambda x, y, condition=None: np.where(condition, x, y),
           lambda g, out, x, y, condition=None: np.where(condition, g, 0), "dx = g where cond",
           reads(),
           lambda g, out, x, y, condition=None: np.where(condition, 0, g), "dy = g where not cond",
           reads())

# log(exp(x) + exp(y)) without overflow; its gradients are softmax weights of the two.
logaddexp = Op("logaddexp", np.logaddexp,
               lambda g, out, x, y: g * np.exp(x - out), "dx = g * exp(x - out)",
               reads("out", "x"),
               lambda g, out, x, y: g * np.exp(y - out), "dy = g * exp(y - out)",
               reads("out", "y"))
