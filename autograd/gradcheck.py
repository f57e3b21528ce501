"""Check the engine's gradients against float64 central differences.

`gradcheck(fn, *inputs)` differentiates `fn` with `backward` and compares every input that
requires grad with (f(x + eps) - f(x - eps)) / 2eps, element by element, in float64.
`gradgradcheck` does the same for second derivatives, through `grad(..., create_graph=True)`.
"""

import contextlib

import numpy as np

from .engine import grad, no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by `gradcheck` with a table of the inputs whose gradients disagree."""


def _scalar(out):
    out = out if isinstance(out, Tensor) else Tensor(out)
    return out if out.size == 1 else out.sum()


def numerical_grad(fn, inputs, i, eps=1e-6):
    """Central-difference gradient of sum(fn(*inputs)) w.r.t. inputs[i], in float64."""
    copies = [Tensor(x.data.astype(np.float64)) if isinstance(x, Tensor) else x for x in inputs]
    return _central_differences(fn, copies, copies[i], eps)


def _central_differences(fn, args, target, eps, record=False):
    """d sum(fn(*args)) / d target, by perturbing `target.data` in place, element by element.

    `record=True` evaluates fn with gradients recorded (fn differentiates inside itself).
    """
    x = target.data
    result = np.zeros_like(x)
    with contextlib.nullcontext() if record else no_grad():
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = _scalar(fn(*args)).item()
            x[index] = original - eps
            minus = _scalar(fn(*args)).item()
            x[index] = original
            result[index] = (plus - minus) / (2 * eps)
    return result


def _named(params):
    """(label, Tensor) pairs from a dict, (name, Tensor) pairs, or Tensors."""
    if isinstance(params, dict):
        return [(str(k), v) for k, v in params.items()]
    params = list(params)
    if all(isinstance(p, tuple) and len(p) == 2 for p in params):
        return [(str(k), v) for k, v in params]
    return [(f"param {i}", p) for i, p in enumerate(params)]


def gradcheck(fn, *inputs, params=(), eps=1e-6, atol=1e-5, rtol=1e-3, _record=False):
    """Compare the engine's gradients of `fn(*inputs)` with float64 central differences.

    The output is summed to a scalar if needed. Every Tensor input with requires_grad is
    checked, and so is every tensor in `params`: tensors that `fn` uses without taking them
    as arguments, such as a model's (`params=model.parameters()`, or a dict of named ones);
    they are evaluated in float64 during the check and restored afterwards.
    |analytic - numeric| <= atol + rtol * |numeric| must hold for each element.
    Returns True, or raises GradcheckError whose message is a table of input index, shape,
    max abs error, max rel error and the worst element's index, plus a note for each input
    the output does not depend on. Inputs' and params' `.grad` are restored.
    """
    named_inputs = [(str(i), x) for i, x in enumerate(inputs)
                    if isinstance(x, Tensor) and x.requires_grad]
    named_params = _named(params)
    checked = named_inputs + named_params
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True "
                         "(and no params= were given)")
    tensors = [x for x in inputs if isinstance(x, Tensor)] + [t for _, t in checked]
    saved = [x.grad for x in tensors]
    try:
        for _, x in checked:
            x.grad = None
        out = _scalar(fn(*inputs))
        if out.requires_grad:  # otherwise fn does not depend on its inputs: gradients of 0
            out.backward()
        analytic = [np.zeros(x.shape) if x.grad is None else x.grad for _, x in checked]
    finally:
        for x, g in zip(tensors, saved):
            x.grad = g

    copies = [Tensor(x.data.astype(np.float64), requires_grad=_record and x.requires_grad)
              if isinstance(x, Tensor) else x for x in inputs]
    targets = [copies[int(label)] for label, _ in named_inputs] + [t for _, t in named_params]
    originals = [t.data for _, t in named_params]
    try:
        for _, t in named_params:
            t.data = t.data.astype(np.float64)
        numerics = [_central_differences(fn, copies, t, eps, _record) for t in targets]
    finally:
        for (_, t), data in zip(named_params, originals):
            t.data = data

    rows, independent, failed = [], [], False
    for (label, x), a, numeric in zip(checked, analytic, numerics):
        a = a.astype(np.float64)
        abs_err = np.abs(a - numeric)
        rel_err = abs_err / np.maximum(np.abs(numeric), 1e-12)
        bad = abs_err > atol + rtol * np.abs(numeric)
        failed |= bool(bad.any()) or not np.isfinite(a).all()
        score = np.where(np.isfinite(abs_err), abs_err - atol - rtol * np.abs(numeric), np.inf)
        worst = np.unravel_index(int(np.argmax(score)), a.shape) if a.size else ()
        rows.append((label, x.shape, abs_err.max(initial=0), rel_err.max(initial=0), worst,
                     a[worst] if a.size else 0.0, numeric[worst] if a.size else 0.0,
                     bool(bad.any())))
        if bad.any() and not numeric.any():
            independent.append(label)
    if failed:
        message = _table(rows, atol, rtol)
        if independent:
            message += (
                f"\ninput {', '.join(independent)}: the numerical gradient is exactly 0 "
                "everywhere, so the output does not depend on it: does fn use another tensor in "
                "its place (a copy, or a model's parameters it closes over)? Pass those with "
                "params=, e.g. gradcheck(fn, params=model.named_parameters())")
        raise GradcheckError(message)
    return True


def _table(rows, atol, rtol):
    header = ("input", "shape", "max abs err", "max rel err", "worst index", "analytic",
              "numeric", "ok")
    lines = [header] + [
        (str(i), str(shape), f"{abs_err:.3e}", f"{rel_err:.3e}", str(tuple(int(k) for k in worst)),
         f"{a:.6g}", f"{n:.6g}", "FAIL" if bad else "ok")
        for i, shape, abs_err, rel_err, worst, a, n, bad in rows
    ]
    widths = [max(len(row[c]) for row in lines) for c in range(len(header))]
    text = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in lines]
    return (f"gradcheck: gradients differ from central differences "
            f"(atol={atol}, rtol={rtol})\n" + "\n".join(text))


def gradgradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """Check second derivatives of `fn(*inputs)` against central differences of the first.

    With fixed random weights u (on the output) and w_i (on each input's gradient), the first
    derivative s(x) = sum_i <w_i, d<u, fn(x)>/dx_i> is computed with
    `grad(..., create_graph=True)`; its gradient through the recorded backward pass is then
    checked by `gradcheck` (same defaults). Returns True or raises GradcheckError.
    """
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradgradcheck: no input is a Tensor with requires_grad=True")
    rng = np.random.default_rng(seed)
    with no_grad():
        shape = _as_tensor(fn(*inputs)).shape
    u = rng.normal(size=shape)
    w = {i: rng.normal(size=inputs[i].shape) for i in checked}

    def first_derivative(*xs):
        out = _as_tensor(fn(*xs))
        if not out.requires_grad:  # fn does not depend on the inputs at all
            return Tensor(0.0)
        grads = grad((out * u).sum(), [xs[i] for i in checked], create_graph=True,
                     allow_unused=True)
        terms = [(g * w[i]).sum() for i, g in zip(checked, grads) if g is not None]
        return sum(terms[1:], terms[0]) if terms else Tensor(0.0)

    return gradcheck(first_derivative, *inputs, eps=eps, atol=atol, rtol=rtol, _record=True)


def _as_tensor(out):
    return out if isinstance(out, Tensor) else Tensor(out)
