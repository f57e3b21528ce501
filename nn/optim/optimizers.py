"""Optimizers: update parameters in place from their `.grad`, with PyTorch's update formulas.

`step()` works on the numpy arrays directly (`p.data -= ...`), so it records no graph; a
parameter whose grad is None is skipped and its state does not advance, as in PyTorch, and so
is a frozen one (requires_grad False), even with a stale grad: a frozen weight never moves.
Each updated parameter is marked modified, so a `backward()` through a graph built before the
step raises an error instead of differentiating at the new values (as PyTorch does).
One learning rate per optimizer, `optimizer.lr` (PyTorch: `param_groups[i]["lr"]`), which the
schedulers in `nn.optim.lr_scheduler` change between epochs.
"""

import math
import numbers
from collections.abc import Iterable

import numpy as np

from autograd import Tensor

from ..module import _is_parameter


def _check_at_least_zero(where: str, **values) -> None:
    for name, value in values.items():
        if not isinstance(value, numbers.Real) or not value >= 0 or not math.isfinite(value):
            raise ValueError(f"{where}: {name} must be a finite number >= 0, got {value!r}")


class Optimizer:
    """Holds the parameters (each once, in order) and clears their gradients.

    Accepts Tensors that require grad and module parameters that are frozen (so
    `model.parameters()` always works, and unfreezing one later makes it train)."""

    def __init__(self, params: Iterable[Tensor]):
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params must be an iterable of Tensors, "
                            "e.g. model.parameters(), not a single Tensor")
        unique = {}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor) or not (p.requires_grad or _is_parameter(p)):
                raise ValueError(f"{type(self).__name__}: parameter {i} is not a Tensor with "
                                 f"requires_grad=True (got {type(p).__name__})")
            unique.setdefault(id(p), p)
        if not unique:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        self.params = list(unique.values())

    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets `.grad` to None)."""
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient (defined by each optimizer)."""
        raise NotImplementedError

    def _gradients(self, decay: float):
        """(index, parameter, gradient + decay * parameter) for each p that has a gradient and
        requires one. The gradient is always an ndarray: for a 0-d parameter the sum would be a
        numpy scalar, and the in-place updates of state made from it (SGD's momentum buffer)
        would be lost."""
        for i, p in enumerate(self.params):
            if p.grad is not None and p.requires_grad:
                yield i, p, np.asarray(p.grad + decay * p.data if decay else p.grad)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum, Nesterov momentum and L2 decay.

    As in PyTorch: g = grad + weight_decay * p; buf = g on the first step, then
    buf = momentum * buf + g; the step uses g + momentum * buf (nesterov) or buf; p -= lr * step.
    """

    def __init__(self, params: Iterable[Tensor], lr: float, momentum: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params)
        _check_at_least_zero("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.lr, self.momentum, self.nesterov = lr, momentum, bool(nesterov)
        self.weight_decay = weight_decay
        self.buffers = [None] * len(self.params)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        lr, momentum = self.lr, self.momentum
        for i, p, g in self._gradients(self.weight_decay):
            if momentum:
                buf = self.buffers[i]
                if buf is None:
                    buf = self.buffers[i] = g.copy()
                else:
                    buf *= momentum
                    buf += g
                g = g + momentum * buf if self.nesterov else buf
            p.data -= lr * g
            p.mark_modified()


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with bias correction and L2 weight decay, as in PyTorch.

    g = grad + weight_decay * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
    p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps), t counted per parameter.
    `decoupled_weight_decay=True` is AdamW: p *= 1 - lr * weight_decay instead of the L2 term.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False):
        super().__init__(params)
        name = type(self).__name__
        _check_at_least_zero(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if len(betas) != 2 or not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")
        self.lr, self.betas, self.eps, self.weight_decay = lr, tuple(betas), eps, weight_decay
        self.decoupled_weight_decay = bool(decoupled_weight_decay)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.steps = [0] * len(self.params)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        lr, eps = self.lr, self.eps
        b1, b2 = self.betas
        decoupled = self.decoupled_weight_decay and self.weight_decay
        for i, p, g in self._gradients(0.0 if decoupled else self.weight_decay):
            if decoupled:  # AdamW: shrink the weights, apart from the gradient's moments
                p.data *= 1 - lr * self.weight_decay
            m, v = self.m[i], self.v[i]
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            self.steps[i] = t = self.steps[i] + 1
            # PyTorch's arrangement of the same formula: fewer full-size temporaries.
            denom = np.sqrt(v)
            denom /= math.sqrt(1 - b2 ** t)
            denom += eps
            p.data -= (lr / (1 - b1 ** t)) * (m / denom)
            p.mark_modified()


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as PyTorch's AdamW.

    Each step first shrinks p by (1 - lr * weight_decay), then takes Adam's step with the plain
    gradient; unlike Adam's L2 term, the decay is not rescaled by the moment estimates.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2):
        super().__init__(params, lr, betas, eps, weight_decay, decoupled_weight_decay=True)
