"""The compiled step: per input signature, record once, plan, check, then replay the plan
and the optimizer update as one generated function; run eagerly (with a reason) otherwise.
"""
import math
import warnings

import numpy as np

from .. import engine
from ..tensor import Tensor
from .plan import _Plan
from .recording import _Trace, _Unreplayable
from .updates import Update, _restore, _same_state, _snapshot

MAX_PLANS = 16  # input signatures per step; more (ever-changing shapes) run eagerly
# Runs of a generated update checked against the optimizer's step(): the first creates its
# state (a state the rule creates while it is None), the second updates that state.
CHECKED_UPDATES = 2


class CompileWarning(UserWarning):
    """A compiled step (or one input signature of it) runs eagerly, and why."""



class CompiledStep:
    """`step(*inputs)`: zero the grads of `params`, `loss = fn(*inputs)`, backward, update.

    Returns the loss as a float. `fn` returns the loss Tensor, or a tuple `(loss, *outputs)`
    whose other Tensors' arrays are in `step.outputs` after each call (arrays of the step:
    copy them to keep them past the next call). `update` is None, a callable, or an `Update`.
    `key()`, if given, is part of each call's signature (e.g. a model's training flag).
    `skip_nonfinite=True`: a loss that is inf or nan is returned without an update.
    Inputs are numpy arrays or Tensors that do not require grad; anything else runs eagerly.
    `on_eager(message)`, if given, is called instead of a CompileWarning (once per message).
    """

    def __init__(self, fn, params, update=None, key=None, skip_nonfinite=False, on_eager=None):
        self.fn = fn
        self.params = list(params)
        if update is not None and not isinstance(update, Update):
            update = _CallUpdate(update)
        self.update = update
        self.key = key
        self.skip_nonfinite = skip_nonfinite
        self.on_eager = on_eager
        self.plans = {}  # signature -> _Plan, or the reason why that signature runs eagerly
        self._fast = {}  # signature -> its plan's `fast` function, once that exists
        self.outputs = ()
        self._replans = 0
        self._warned = set()

    def __call__(self, *inputs):
        key = self.key
        signature = (engine._grad_mode.enabled, None if key is None else key())
        for x in inputs:
            if type(x) is not np.ndarray:
                return self._call(signature, inputs)
            signature += ((x.shape, x.dtype, x.strides),)
        fast = self._fast.get(signature)  # a checked plan: the replay and update in one call
        if fast is not None and engine.watcher is None:
            result = fast(*inputs)
            if result is not None:
                self.outputs = result[1]
                return result[0]
        return self._call(signature, inputs)

    def _call(self, signature, inputs):
        arrays = []
        signature = signature[:2]
        for x in inputs:
            kind = type(x)
            if kind is not np.ndarray:
                if kind is Tensor and not x.requires_grad and type(x.data) is np.ndarray:
                    x = x.data
                else:
                    return self._eager(inputs, f"an input of type {kind.__name__}"
                                       f"{' that requires grad' if kind is Tensor else ''} "
                                       "(inputs are numpy arrays or Tensors without grad)")
            arrays.append(x)
            signature += ((x.shape, x.dtype, x.strides) if kind is np.ndarray
                          else (kind, x.shape, x.dtype, x.strides),)
        plan = self.plans.get(signature)
        self._fast.pop(signature, None)
        if plan.__class__ is _Plan and engine.watcher is None:
            result = plan.replay(*arrays)
            if result is not None:
                self.outputs = result[1]
                return self._finish(plan, result[0])
        return self._slow(signature, plan, inputs, arrays)

    # ------------------------------------------------------------ everything but a replay
    def _slow(self, signature, plan, inputs, arrays):
        if engine.watcher is not None:  # another tool watches every operation: let it
            return self._eager(inputs)
        if isinstance(plan, str):
            return self._eager(inputs)
        if plan is None:
            if len(self.plans) >= MAX_PLANS:
                return self._eager(inputs, f"more than {MAX_PLANS} input signatures")
            return self._record(signature, inputs, arrays)
        if plan.rejects(arrays):  # labels the replay cannot take (ignore_index, or an error)
            return self._eager(inputs)
        # Its guards failed: a parameter's .data (or another array it uses) was replaced, or a
        # tensor was frozen or unfrozen (which only records again).
        self._replans += any(t.data is not a for t, a in plan.bound)
        del self.plans[signature]
        if self._replans > 3:
            return self._give_up(signature, inputs, "the arrays of its parameters keep being "
                                 "replaced (assign into p.data[...] instead)")
        return self._record(signature, inputs, arrays)

    def _record(self, signature, inputs, arrays):
        """Run the step eagerly under a recorder, plan it, check the plan's replay."""
        trace = _Trace(self.fn, inputs, arrays, self.params)
        self.outputs = tuple(t.data for t in trace.extras if isinstance(t, Tensor))
        value = trace.value
        plan, reason = None, None
        for kernels in (True, False):
            try:
                plan = _Plan(trace, self.params, kernels, build=False)
                # The recorded step's graph goes before the plan's buffers are made and its
                # source compiled: the first call never holds both (see release).
                trace.release()
                plan.build()
            except _Unreplayable as err:
                reason = str(err)
                break
            except Exception as err:  # noqa: BLE001 - the step ran eagerly: its result stands
                reason = f"planning failed ({type(err).__name__}: {err}; please report this)"
                break
            if plan.check(trace):
                break
            if kernels:
                self._warn("a fast kernel disagrees with its op's own functions; the op's "
                           "functions run instead (please report this)")
                # The released trace cannot be planned again: the step is recorded again (fn
                # runs eagerly a second time, from the .grad the leaves had before this call).
                for t, _ in plan.leaves:
                    t.grad = trace.leaf_grads[id(t)]
                trace = _Trace(self.fn, inputs, arrays, self.params)
            plan, reason = None, "its replay differs from the eager step"
        del trace  # the recorded step's arrays go before the update's checks copy any state
        if plan is None:
            self.plans[signature] = reason
            self._warn(f"{reason}; this input signature runs eagerly")
            return self._finish(None, value)
        self.plans[signature] = plan
        plan.signature = signature
        return self._finish(plan, value)

    def _give_up(self, signature, inputs, reason, value=None):
        self.plans[signature] = reason
        self._warn(f"{reason}; this input signature runs eagerly")
        return self._eager(inputs) if inputs is not None else self._finish(None, value)

    def eager(self, *inputs, reason=None):
        """One step run as eager code runs it, without recording or replaying anything.

        `reason`: why (a CompileWarning says it, once per reason).
        """
        return self._eager(inputs, reason)

    def _eager(self, inputs, reason=None):
        """The step as eager code does it (no recording)."""
        if reason is not None:
            self._warn(f"{reason}; this call runs eagerly")
        for p in self.params:
            p.grad = None
        result = self.fn(*inputs)
        loss, extras = (result[0], result[1:]) if isinstance(result, tuple) else (result, ())
        loss.backward()
        self.outputs = tuple(t.data for t in extras if isinstance(t, Tensor))
        return self._finish(None, loss.item())

    def _finish(self, plan, value):
        """The update (unless the loss is not finite and skip_nonfinite is set)."""
        update = self.update
        if update is None or (self.skip_nonfinite and not math.isfinite(value)):
            if update is None and plan is not None:
                self._fuse(plan, None, ([], {}, []))
            return value
        if plan is None or update.generic:
            update.eager()
            if plan is not None:
                self._fuse(plan, None, Update.source(update, plan))
            return value
        if len(update.opt.params) != len(self.params):  # its gradients are not cleared here
            raise RuntimeError("compiled step: the optimizer's parameters changed after the step "
                               "was compiled (add_param_group?); compile a new step")
        key = update.key()
        entry = plan.updates.get(key)
        if entry is None:  # [the generated update, or None: step() runs; its checked runs]
            try:  # [the function, its checked runs, its source (the fused step's too)]
                source = update.source(plan)
                entry = plan.updates[key] = [update.generate(plan, source), 0, source]
            except Exception as err:  # noqa: BLE001 - a rule the code generator cannot run
                entry = plan.updates[key] = [None, CHECKED_UPDATES, None]
                self._warn(f"{type(update.opt).__name__}'s update rule has no generated code "
                           f"({type(err).__name__}: {err}); its step() runs instead")
        if entry[0] is None:
            update.eager()
        elif entry[1] >= CHECKED_UPDATES:
            entry[0]()
        else:
            # Its first runs are checked against eager: see CHECKED_UPDATES.
            slots = update.slots()
            before = _snapshot(slots)
            update.eager()
            eager = _snapshot(slots)
            _restore(slots, before)
            try:
                entry[0]()
                same = _same_state(slots, eager)
            except Exception:  # noqa: BLE001 - code that cannot run is code that differs
                same = False
            if same:
                entry[1] += 1
            else:
                _restore(slots, eager)
                entry[:] = [None, CHECKED_UPDATES, None]
                self._warn(f"the generated {type(update).__name__} differs from the optimizer's "
                           "step(); step() runs instead (please report this)")
            del before, eager, slots  # (not held while the fused step is compiled)
        if entry[1] >= CHECKED_UPDATES:  # checked: from now on one function does the whole step
            if entry[0] is None:
                self._fuse(plan, key, Update.source(update, plan))
            else:  # the checked update itself (its key checks, none of its lines compiled again)
                _, consts, checks = entry[2]
                self._fuse(plan, key, (["u_update_()"], dict(consts, u_update_=entry[0]), checks))
        return value

    def _fuse(self, plan, key, source):
        """Give `plan` one function for replay and update (for this update key), and use it."""
        if plan.fast is None or plan.fast_key != key:
            plan.fuse(*source, self.skip_nonfinite)
            plan.fast_key = key
        self._fast[plan.signature] = plan.fast

    def _warn(self, message):
        if message not in self._warned:
            self._warned.add(message)
            if self.on_eager is not None:
                self.on_eager(f"compiled step: {message}")
                return
            warnings.warn(f"compiled step: {message}", CompileWarning, stacklevel=4)


class _CallUpdate(Update):
    """Any callable as the update (run after the gradients are in .grad)."""

    def eager(self):
        self.opt()
