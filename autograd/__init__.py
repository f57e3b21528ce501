"""npgrad's autograd: numpy arrays that record operations and differentiate in reverse mode.

    from autograd import Tensor
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()   # x.grad == [2., 4.]
"""

from . import creation, functions, masks, norms, numpy_api, pytorch_names, tensor_methods
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
from .functions import cross_entropy_labels, erf, erfc, logaddexp, maximum, minimum, where
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .graph import draw_graph
from .graph_files import save_graph
from .pytorch_names import module_getattr as __getattr__  # noqa: F401  (autograd.cat: hints)
from .random import manual_seed
from .shared_constants import install as _share_numbers
from .tensor import Tensor
from .transforms import elementwise_grad, jvp, value_and_grad, vjp  # grad: autograd.transforms

# Installation. Each module imports only modules below it: tensor.py sits below the modules
# built on it (numpy dispatch, norms, creation, PyTorch's hints), which join Tensor here.
masks.install(Tensor)  # (t > 0).float() makes a Tensor
_share_numbers()  # y * 2.0: one read-only Tensor per number, shared by its uses
Tensor.norm = norms.NormMethod.norm
Tensor.new_zeros, Tensor.new_ones = creation.new_zeros, creation.new_ones
numpy_api.install(Tensor)  # np.exp(t), np.sum(t, axis=1), np.concatenate([a, b]), ...
# Hints for PyTorch's names (t.view, t.sum(dim=1), t.size(), ...): last, so that they go only
# where Tensor has no attribute of that name; they wrap functions' concatenate, stack, split.
pytorch_names.install(Tensor, functions, numpy_api.no_rule, tensor_methods.paired)
concatenate, stack, split = functions.concatenate, functions.stack, functions.split
cat = concat = concatenate  # PyTorch's names (dim= is accepted as axis=)

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "grad", "gradcheck",
           "gradgradcheck", "GradcheckError"]
__all__ += ["where", "maximum", "minimum", "logaddexp", "erf", "erfc", "concatenate", "stack",
            "split", "cross_entropy_labels"]
__all__ += ["jacobian", "hessian", "hvp", "value_and_grad", "elementwise_grad", "vjp", "jvp"]
__all__ += ["draw_graph", "save_graph", "compare_grads", "GradReport", "GradMismatchError"]
__all__ += ["explain_backward", "explore", "detect_anomaly", "NonFiniteError"]
__all__ += ["zeros", "ones", "full", "zeros_like", "ones_like", "arange", "eye", "rand", "randn",
            "manual_seed", "tensor", "cat", "concat", "inference_mode"]
