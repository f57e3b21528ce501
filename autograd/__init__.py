"""npgrad's autograd: numpy arrays that record operations and differentiate in reverse mode.

    from autograd import Tensor
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()   # x.grad == [2., 4.]
"""

from .anomaly import NonFiniteError, detect_anomaly
from .compare import GradMismatchError, GradReport, compare_grads
from .creation import (
                       arange,
                       eye,
                       full,
                       inference_mode,
                       ones,
                       ones_like,
                       rand,
                       randn,
                       tensor,
                       zeros,
                       zeros_like,
)
from .engine import enable_grad, grad, is_grad_enabled, no_grad
from .explain import explain_backward
from .explorer import explore
from .functional import hessian, hvp, jacobian
from .functions import concatenate, erf, erfc, logaddexp, maximum, minimum, split, stack, where
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import draw_graph, save_graph
from .pytorch_names import module_getattr as __getattr__  # noqa: F401  (autograd.cat: hints)
from .random import manual_seed
from .tensor import Tensor
from .transforms import elementwise_grad, jvp, value_and_grad, vjp  # grad: autograd.transforms

cat = concat = concatenate  # PyTorch's names (dim= is accepted as axis=)

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "grad", "gradcheck",
           "gradgradcheck", "GradcheckError"]
__all__ += ["where", "maximum", "minimum", "logaddexp", "erf", "erfc", "concatenate", "stack",
            "split"]
__all__ += ["jacobian", "hessian", "hvp", "value_and_grad", "elementwise_grad", "vjp", "jvp"]
__all__ += ["draw_graph", "save_graph", "compare_grads", "GradReport", "GradMismatchError"]
__all__ += ["explain_backward", "explore", "detect_anomaly", "NonFiniteError"]
__all__ += ["zeros", "ones", "full", "zeros_like", "ones_like", "arange", "eye", "rand", "randn",
            "manual_seed", "tensor", "cat", "concat", "inference_mode"]
