"""npgrad's autograd: numpy arrays that record operations and differentiate in reverse mode.

    from autograd import Tensor
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()   # x.grad == [2., 4.]
"""

from .compare import GradMismatchError, GradReport, compare_grads
from .engine import is_grad_enabled, no_grad
from .gradcheck import GradcheckError, gradcheck
from .graph import draw_graph, save_graph
from .tensor import Tensor

__all__ = ["Tensor", "no_grad", "is_grad_enabled", "gradcheck", "GradcheckError"]
__all__ += ["draw_graph", "save_graph", "compare_grads", "GradReport", "GradMismatchError"]
