"""Compiled training steps: record one eager step, then replay it as straight-line numpy calls.

`CompiledStep(fn, params, update)` does what `for p in params: p.grad = None`,
`loss = fn(*inputs)`, `loss.backward()`, `update()` does, and returns the loss as a float.
The first call with a new input signature (shapes, dtypes and strides of the inputs, grad
mode, `key()`) runs that step eagerly while the engine's `Watcher` hook records every
operation and every gradient in the engine's own order. From that record it builds a plan: a
generated Python function of numpy calls into preallocated, shared buffers, which sums
gradients in the engine's order, so it computes the same bits as eager. Ops run through their
own forward and VJP functions, or a kernel that mirrors them with `out=` (the ops of an MLP).
The plan's first replay is checked bit for bit against the eager step it was recorded from,
and a generated optimizer update against the optimizer's `step()` twice; after that one
function does the whole step. What cannot be replayed runs eagerly, with a `CompileWarning`.

An array made inside `fn` is replayed by what made it, never by comparing samples of its
values: an input is read afresh; an array made from Python numbers is a constant; a mask or a
conversion the watcher saw made from values of the step (`Tensor(x) > 0`, `Tensor(ints)`) is
computed again; class labels of an input that `cross_entropy_labels` gathers at are checked
by a guard that also finds where they sit in the logits (labels outside [0, k) run that call
eagerly, where they raise or are ignored). Anything else (numpy
code on the data, random numbers as Dropout draws them, numpy scalars, a data mask as an
index, a Python number read from a tensor with item(), float() or bool()) runs eagerly with a
CompileWarning that says what it was.
Frozen at trace time (a plan replays the numpy work of its recording, nothing else): Python
control flow and numbers that `fn` computes with numpy from its inputs (`float(x.sum())`, `if
x[0] > 0`: nothing tells the watcher), op attributes (axes, reductions), and checks or prints
written in Python. `p.grad` holds a buffer reused by every step; parameters that do not
require grad stay put and keep `.grad` None; `RuleUpdate(opt, flat=True)` moves the
parameters' arrays into one array (p.data becomes a view of it) when the update keeps no state.

The parts: recording (the watcher), codegen (values, buffers, source), kernels (out= forms of
an MLP's ops), plan (a recorded step as a replay), flat (parameters in one array), updates
(how an optimizer's update runs in a step), rules (update rules as data, run eagerly by the
optimizer's step() and inlined into the step's code), step (CompiledStep); function: gradient
functions (a loss and its gradient over leaf tensors, for scipy.optimize) compiled the same way.
"""
from .codegen import _function  # noqa: F401 - the parts below are reached from here by tests
from .flat import flatten
from .kernels import FORWARD_KERNELS, SAVING_KERNELS, VJP_KERNELS, _k_unary  # noqa: F401
from .plan import _Plan  # noqa: F401
from .recording import _Unreplayable  # noqa: F401
from .rules import IfNone, Rule
from .step import CHECKED_UPDATES, MAX_PLANS, CompiledStep, CompileWarning, _CallUpdate  # noqa: F401
from .updates import RuleUpdate, Update

__all__ = ["CHECKED_UPDATES", "CompiledStep", "CompileWarning", "FORWARD_KERNELS", "IfNone",
           "MAX_PLANS", "Rule", "RuleUpdate", "SAVING_KERNELS", "Update", "VJP_KERNELS",
           "flatten"]
