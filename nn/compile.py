"""`nn.compile_step`: one whole training step, recorded once per input shape and replayed.

`step = nn.compile_step(model, loss_fn, optimizer)`; `loss = step(x, y)` does what
`optimizer.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); optimizer.step()` does,
with the same bits, and returns the loss as a float. The replay machinery is
`autograd.compile`; this module only says what a step of `nn` is.
"""

import functools

import numpy as np

from autograd import Tensor
from autograd.compile import CompiledStep, RuleUpdate, Update

from . import functional as F
from .clip_grad import clip_grad_norm_
from .layers import Dropout
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .module import Module
from .optim import Optimizer

# Losses whose targets we may prepare, exactly as they would be inside them: targets take the
# output's dtype; class labels go in as they are (cross_entropy_labels gathers at them, and
# the replay's guard checks them).
_LABEL_LOSSES = (CrossEntropyLoss, F.cross_entropy)
_SAME_SHAPE_LOSSES = (MSELoss, BCELoss, BCEWithLogitsLoss, F.mse_loss, F.bce_loss,
                      F.bce_with_logits_loss)


def compile_step(model: Module, loss_fn, optimizer, skip_nonfinite: bool = False,
                 clip_grad_norm: float | None = None, on_eager=None, flat: bool = True):
    """A compiled training step: `step(x, y)` returns the loss as a float.

    Works with any optimizer (nn.optim's update rules run inside the generated code; an
    optimizer with a `step()` of its own runs it). `step.output` is
    the model's output of the last call (a new array).
    `skip_nonfinite=True`: when the loss is inf or nan, the parameters are not updated.
    `clip_grad_norm`: clip the joint 2-norm of the model's gradients to it before each update
    (then the optimizer runs its own `step()`, after `nn.clip_grad_norm_`).
    `on_eager(message)`: called, instead of a CompileWarning, when a step runs eagerly.
    `flat`: with an update that keeps no state (plain SGD), move the parameters' arrays into
    one array (each p.data becomes a view of it, so arrays taken from p.data before are no
    longer the parameters'); the update is then two numpy calls. `flat=False` leaves every
    array where it is.
    A loss that hands its targets unchanged to another loss says so with an attribute
    `targets_like` (that loss): its class labels are then prepared as that loss's would be.
    What a compiled step freezes, and what makes it run eagerly with a CompileWarning, is
    described in autograd/compile/ and the README ("Compiled steps").
    """
    return TrainingStep(model, loss_fn, optimizer, skip_nonfinite, clip_grad_norm, on_eager,
                        flat)


class TrainingStep:
    """What `compile_step` returns: call it with a batch (x, y)."""

    def __init__(self, model, loss_fn, optimizer, skip_nonfinite=False, clip_grad_norm=None,
                 on_eager=None, flat=True):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        if clip_grad_norm is not None:
            update = Update(_Clipped(model.parameters(), optimizer, clip_grad_norm))
        elif _runs_its_rule(optimizer):  # its update rule joins the step's generated code
            update = RuleUpdate(optimizer, flat=flat)
        else:  # an optimizer with a step() of its own: the compiled step calls it
            update = Update(optimizer)
        # The signature includes the model's training flag (read without a Python call).
        self.compiled = CompiledStep(self._forward, optimizer.params, update,
                                     key=functools.partial(getattr, model, "training"),
                                     skip_nonfinite=skip_nonfinite, on_eager=on_eager)
        # Dropout draws a new mask from random numbers at every training step: those steps run
        # eagerly (a replay would reuse one mask), named here rather than as "an array".
        self._dropouts = [(name, m) for name, m in model.named_modules()
                          if isinstance(m, Dropout)]
        # Modules with buffers (BatchNorm's running statistics) may update them in place while
        # training, outside the graph: a replay would not. (autograd.compile refuses such a step
        # too; this names the layer.)
        self._buffered = [(name, m) for name, m in model.named_modules()
                          if any(getattr(m, b, None) is not None for b in m._buffer_names)]
        # (weight, ignore_index and label_smoothing give labels a meaning one-hot rows lack)
        loss_fn = getattr(loss_fn, "targets_like", loss_fn)
        plain = (getattr(loss_fn, "weight", None) is None
                 and not getattr(loss_fn, "label_smoothing", 0)
                 and getattr(loss_fn, "ignore_index", -100) == -100)
        self._targets = ("labels" if _is(loss_fn, _LABEL_LOSSES) and plain
                         else "same" if _is(loss_fn, _SAME_SHAPE_LOSSES) else None)
        self._outputs = {}  # (shape, dtype) of x -> (shape, dtype) of the model's output

    def _forward(self, x, y):
        out = self.model(x)
        return self.loss_fn(out, y), out

    def __call__(self, x, y) -> float:
        if self._dropouts and self.model.training:
            for name, layer in self._dropouts:
                if layer.training and 0 < layer.p < 1:
                    return self.compiled.eager(x, y, reason=(
                        f"{name or 'the model'} (Dropout(p={layer.p})) draws a new random mask "
                        "at every training step, which a replay cannot draw; training steps "
                        "run eagerly (after model.eval() they are compiled)"))
        if self._buffered and self.model.training:
            for name, layer in self._buffered:
                if layer.training:
                    return self.compiled.eager(x, y, reason=(
                        f"{name or 'the model'} ({type(layer).__name__}) may update its buffers "
                        "(running statistics) in place at every training step, which a replay "
                        "would not repeat; training steps run eagerly (after model.eval() they "
                        "are compiled)"))
        # Targets that may need preparing: a dtype other than the input's (labels go as they are).
        if (self._targets is not None and type(y) is np.ndarray
                and not (self._targets == "labels" and y.dtype.kind in "iu")
                and (y.dtype.kind != "f" or y.dtype != getattr(x, "dtype", y.dtype))):
            key = (getattr(x, "shape", None), getattr(x, "dtype", None))
            out = self._outputs.get(key)
            if out is None:  # the first batch of this shape: learn the output's shape
                loss = self.compiled.eager(x, y)
                if self.compiled.outputs:
                    out = self.compiled.outputs[0]
                    self._outputs[key] = (out.shape, out.dtype)
                return loss
            y = self._prepare(y, *out)
        return self.compiled(x, y)

    def _prepare(self, y, shape, dtype):
        """The target as the loss would see it inside the step (same values, same checks)."""
        if y.dtype == dtype and y.shape == shape:  # nothing to do: the common case first
            return y
        if y.shape == shape and y.dtype != dtype and y.dtype.kind in "biuf":
            return y.astype(dtype)
        return y

    def with_output(self, x, y):
        """(the model's output as a Tensor of a new array, the loss): one step, as fit uses it."""
        value = self(x, y)
        return Tensor(self.output), value

    @property
    def output(self):
        """The model's output for the last call's x, as a new array (None before any call)."""
        outputs = self.compiled.outputs
        return np.array(outputs[0]) if outputs else None


class _Clipped:
    """An optimizer's step after clipping the joint norm of the model's gradients (what fit
    does eagerly)."""

    def __init__(self, params, optimizer, max_norm):
        self.params, self.optimizer, self.max_norm = params, optimizer, max_norm

    def step(self):
        clip_grad_norm_(self.params, self.max_norm)
        self.optimizer.step()


def _runs_its_rule(optimizer) -> bool:
    """True when the optimizer's step() is nn.optim's, running its `update_rule`."""
    kind = type(optimizer)
    return (isinstance(optimizer, Optimizer) and kind.step is Optimizer.step
            and kind.update_rule is not Optimizer.update_rule)


def _is(loss_fn, known) -> bool:
    return any(loss_fn is k or (isinstance(k, type) and type(loss_fn) is k) for k in known)
