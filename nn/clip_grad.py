"""Gradient clipping: rescale or clamp the parameters' `.grad` arrays between backward and step.

PyTorch's functions and formulas; each accepts a Tensor, an iterable of Tensors or a Module,
and skips parameters whose grad is None or that are frozen (requires_grad False). They
replace `.grad` with a new array (never write into one the engine handed out) and leave the
parameters' data alone.
"""

import math
import numbers
from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from .module import Module


def _with_grads(parameters: Tensor | Iterable[Tensor] | Module) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    elif isinstance(parameters, Module):
        parameters = parameters.parameters()
    # A frozen parameter's stale grad neither counts in the norm nor gets clipped.
    return [p for p in parameters if p.grad is not None and p.requires_grad]


def _check(where: str, name: str, value, allow_inf: bool = False) -> None:
    if (not isinstance(value, numbers.Real) or isinstance(value, bool) or not value >= 0
            or (math.isinf(value) and not allow_inf)):
        raise ValueError(f"{where}: {name} must be a finite number >= 0, got {value!r}")


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor] | Module, max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False) -> np.float64:
    """Scale all gradients together so that their joint `norm_type`-norm is at most `max_norm`.

    The total norm is the norm of the per-parameter norms (as if all gradients were one
    vector); when it exceeds max_norm every grad is multiplied by max_norm / (total + 1e-6).
    Returns the total norm before clipping, as a numpy float (PyTorch: a 0-d tensor; both have
    `.item()`). A non-finite total raises a RuntimeError when `error_if_nonfinite`; otherwise,
    as in PyTorch, the gradients are scaled by the resulting 0 or nan.
    """
    _check("clip_grad_norm_", "max_norm", max_norm)
    if not (isinstance(norm_type, numbers.Real) and norm_type > 0):
        raise ValueError(f"clip_grad_norm_: norm_type must be a number > 0 or math.inf, got "
                         f"{norm_type!r}")
    params = _with_grads(parameters)
    if not params:
        return np.float64(0.0)
    norms = [np.linalg.norm(p.grad.ravel(), ord=norm_type) for p in params]
    total = np.float64(np.linalg.norm(np.asarray(norms, dtype=np.float64), ord=norm_type))
    finite = np.isfinite(total)
    if error_if_nonfinite and not finite:
        raise RuntimeError(f"clip_grad_norm_: the total norm of the gradients is {total} "
                           "(a gradient holds inf or nan)")
    coef = float(max_norm / (total + 1e-6))  # a Python float keeps float32 grads float32
    if coef >= 1:
        return total  # within bounds: the grads stay as they are
    # A non-finite total scales by 0 or nan, as in PyTorch (inf * 0 is nan: no warning for it).
    with np.errstate(invalid="ignore" if not finite else "warn"):
        for p in params:
            p.grad = p.grad * coef
    return total


def clip_grad_value_(parameters: Tensor | Iterable[Tensor] | Module, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value]."""
    _check("clip_grad_value_", "clip_value", clip_value)
    value = float(clip_value)
    for p in _with_grads(parameters):
        p.grad = np.clip(p.grad, -value, value)
