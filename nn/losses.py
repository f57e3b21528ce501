"""Loss modules: thin callables around `nn.functional`, holding the reduction and options.

`nn.MSELoss()(prediction, target)` is `nn.functional.mse_loss(prediction, target)`;
`nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)` passes its options on. Arguments as in
PyTorch (the weight first where PyTorch has one; a reduction string there is read as the
reduction, npgrad's older order).
"""

import inspect

from autograd import Tensor

from . import functional as F
from .module import Module


class _Loss(Module):
    """Base of the loss modules: subclasses set `function` to a function of nn.functional and
    keep its options (besides the reduction) as attributes named in `options`."""

    options: tuple = ()

    def __init__(self, reduction: str = "mean"):
        F._check_reduction(reduction, type(self).__name__)
        self.reduction = reduction

    def __call__(self, input: Tensor, target) -> Tensor:
        # Skips Module.__call__: targets (e.g. integer labels) must not be wrapped as Tensors.
        return self.forward(input, target)

    def forward(self, input: Tensor, target) -> Tensor:
        options = {name: getattr(self, name) for name in self.options}
        return self.function(input, target, reduction=self.reduction, **options)

    def extra_repr(self) -> str:
        # numbers that differ from the defaults only: a weight array would fill the line
        defaults = inspect.signature(type(self).__init__).parameters
        shown = [f"{name}={value!r}" for name in self.options
                 if isinstance(value := getattr(self, name), (int, float))
                 and value != defaults[name].default]
        return ", ".join([f"reduction={self.reduction!r}"] + shown)




class MSELoss(_Loss):
    """Mean squared error; see `nn.functional.mse_loss`."""

    function = staticmethod(F.mse_loss)


class L1Loss(_Loss):
    """Mean absolute error; see `nn.functional.l1_loss`."""

    function = staticmethod(F.l1_loss)


class HuberLoss(_Loss):
    """Squared near 0, linear beyond `delta`; see `nn.functional.huber_loss`."""

    function = staticmethod(F.huber_loss)
    options = ("delta",)

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__(reduction)
        self.delta = delta


class SmoothL1Loss(_Loss):
    """Squared (over 2 beta) below `beta`, absolute beyond; see `F.smooth_l1_loss`."""

    function = staticmethod(F.smooth_l1_loss)
    options = ("beta",)

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__(reduction)
        self.beta = beta


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities; see `nn.functional.binary_cross_entropy`."""

    function = staticmethod(F.binary_cross_entropy)
    options = ("weight",)

    def __init__(self, weight=None, reduction: str = "mean"):
        weight, reduction = F._weight_or_reduction(weight, reduction, "BCELoss")
        super().__init__(reduction)
        self.weight = weight


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of logits, stable at any size; see
    `F.binary_cross_entropy_with_logits`."""

    function = staticmethod(F.binary_cross_entropy_with_logits)
    options = ("weight", "pos_weight")

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        weight, reduction = F._weight_or_reduction(weight, reduction, "BCEWithLogitsLoss")
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of logits vs labels or probabilities; see `F.cross_entropy`."""

    function = staticmethod(F.cross_entropy)
    options = ("weight", "ignore_index", "label_smoothing")

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        weight, reduction = F._weight_or_reduction(weight, reduction, "CrossEntropyLoss")
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index
        self.label_smoothing = label_smoothing


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities at labels; see `F.nll_loss`."""

    function = staticmethod(F.nll_loss)
    options = ("weight", "ignore_index")

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        weight, reduction = F._weight_or_reduction(weight, reduction, "NLLLoss")
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index
