"""Loss modules: thin callables around `nn.functional`, holding only the reduction.

`nn.MSELoss()(prediction, target)` is `nn.functional.mse_loss(prediction, target)`.
"""

from autograd import Tensor

from . import functional as F
from .module import Module


class _Loss(Module):
    """Base of the loss modules: subclasses set `function` to a function of nn.functional."""

    def __init__(self, reduction: str = "mean"):
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def __call__(self, input: Tensor, target) -> Tensor:
        # Skips Module.__call__: targets (e.g. integer labels) must not be wrapped as Tensors.
        return self.forward(input, target)

    def forward(self, input: Tensor, target) -> Tensor:
        return self.function(input, target, self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Mean squared error; see `nn.functional.mse_loss`."""

    function = staticmethod(F.mse_loss)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities; see `nn.functional.bce_loss`."""

    function = staticmethod(F.bce_loss)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, stable at any size; see `F.bce_with_logits_loss`."""

    function = staticmethod(F.bce_with_logits_loss)


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits vs labels or probabilities; see `F.cross_entropy`."""

    function = staticmethod(F.cross_entropy)
