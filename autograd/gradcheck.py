"""Check the engine's gradients against float64 central differences.

`gradcheck(fn, *inputs)` differentiates `fn` with `backward` and compares every input that
requires grad with (f(x + eps) - f(x - eps)) / 2eps, element by element, in float64.
"""

import numpy as np

from .engine import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised by `gradcheck` with a table of the inputs whose gradients disagree."""


def _scalar(out):
    out = out if isinstance(out, Tensor) else Tensor(out)
    return out if out.size == 1 else out.sum()


def numerical_grad(fn, inputs, i, eps=1e-6):
    """Central-difference gradient of sum(fn(*inputs)) w.r.t. inputs[i], in float64."""
    copies = [Tensor(x.data.astype(np.float64)) if isinstance(x, Tensor) else x for x in inputs]
    x = copies[i].data
    grad = np.zeros_like(x)
    with no_grad():
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = _scalar(fn(*copies)).item()
            x[index] = original - eps
            minus = _scalar(fn(*copies)).item()
            x[index] = original
            grad[index] = (plus - minus) / (2 * eps)
    return grad


def gradcheck(fn, *inputs, eps=1e-6, atol=1e-5, rtol=1e-3):
    """Compare the engine's gradients of `fn(*inputs)` with float64 central differences.

    The output is summed to a scalar if needed. Every Tensor input with requires_grad is
    checked: |analytic - numeric| <= atol + rtol * |numeric| must hold for each element.
    Returns True, or raises GradcheckError whose message is a table of input index, shape,
    max abs error, max rel error and the worst element's index. Inputs' `.grad` are restored.
    """
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input is a Tensor with requires_grad=True")
    saved = [x.grad for x in inputs if isinstance(x, Tensor)]
    try:
        for i in checked:
            inputs[i].grad = None
        _scalar(fn(*inputs)).backward()
        analytic = {
            i: (np.zeros(inputs[i].shape) if inputs[i].grad is None else inputs[i].grad)
            for i in checked
        }
    finally:
        for x, g in zip([x for x in inputs if isinstance(x, Tensor)], saved):
            x.grad = g

    rows, failed = [], False
    for i in checked:
        numeric = numerical_grad(fn, inputs, i, eps)
        a = analytic[i].astype(np.float64)
        abs_err = np.abs(a - numeric)
        rel_err = abs_err / np.maximum(np.abs(numeric), 1e-12)
        bad = abs_err > atol + rtol * np.abs(numeric)
        failed |= bool(bad.any()) or not np.isfinite(a).all()
        score = np.where(np.isfinite(abs_err), abs_err - atol - rtol * np.abs(numeric), np.inf)
        worst = np.unravel_index(int(np.argmax(score)), a.shape) if a.size else ()
        rows.append((i, inputs[i].shape, abs_err.max(initial=0), rel_err.max(initial=0), worst,
                     a[worst] if a.size else 0.0, numeric[worst] if a.size else 0.0,
                     bool(bad.any())))
    if failed:
        raise GradcheckError(_table(rows, atol, rtol))
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
