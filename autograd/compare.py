"""Compare the engine's gradients with gradients derived by hand, and say how they differ.

`compare_grads(model, {"fc1.weight": dW1, ...})` returns a report: `.ok`, one row per name (max
absolute and relative error, worst element, and a note naming the likely mistake: a transpose, a
constant factor, a sign, an unsummed batch), a text and an HTML table, `raise_if_failed()`.
"""

import html
import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .tensor import Tensor


class GradMismatchError(AssertionError):
    """Raised by `GradReport.raise_if_failed` with the report's table as its message."""


@dataclass(frozen=True)
class GradRow:
    """One name's comparison.

    `status`: "ok", "values differ", "shape mismatch", "no grad" (the Tensor's .grad is None),
    "not in model" (expected but not in actual) or "not given" (in actual but not expected).
    `note`: what the difference looks like ("all x0.5 the engine's: ...") or what to do; shapes
    that differ only in size-1 axes, (1, n) against (n,), are compared value by value, noted.
    """

    name: str
    status: str
    actual_shape: tuple | None = None
    expected_shape: tuple | None = None
    max_abs: float = float("nan")
    max_rel: float = float("nan")
    worst: tuple | None = None  # index of the element furthest outside the tolerance
    actual: float = float("nan")  # the two values at `worst`
    expected: float = float("nan")
    note: str = ""

    ok = property(lambda self: self.status == "ok", doc="True if the gradient matched.")
    shape_ok = property(lambda self: self.actual_shape is not None
                        and self.actual_shape == self.expected_shape,
                        doc="True if both gradients exist and have the same shape.")


HEADER = ("name", "shape", "max abs err", "max rel err", "worst index", "actual", "expected",
          "result")


class GradReport:
    """The outcome of `compare_grads`: rows in order, `.ok`, a text and an HTML table."""

    def __init__(self, rows, rtol, atol):
        self.rows, self.rtol, self.atol = list(rows), rtol, atol

    ok = property(lambda self: all(row.ok for row in self.rows), doc="True if every row passed.")

    def __getitem__(self, name):
        for row in self.rows:
            if row.name == name:
                return row
        raise KeyError(f"compare_grads report: no entry named {name!r}")

    def __iter__(self):
        return iter(self.rows)

    def __len__(self):
        return len(self.rows)

    def raise_if_failed(self):
        """Raise GradMismatchError with the table unless every gradient matched."""
        if not self.ok:
            raise GradMismatchError(str(self))
        return self

    def summary(self):
        """The verdict line printed above the table."""
        passed = sum(row.ok for row in self.rows)
        verdict = "all match" if self.ok else "MISMATCH"
        return (f"compare_grads: {verdict}, {passed} of {len(self.rows)} ok "
                f"(|actual - expected| <= {self.atol:g} + {self.rtol:g} * |expected|)")

    def cells(self):
        """The table as rows of strings, header first."""
        return [HEADER] + [_cells(row) for row in self.rows]

    def __str__(self):
        table = self.cells()
        widths = [max(len(row[c]) for row in table) for c in range(len(HEADER))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                 for row in table]
        notes = [f"{row.name}: {row.note}" for row in self.rows if row.note]
        return "\n".join([self.summary(), *lines, *notes])

    def __repr__(self):
        return f"<GradReport ok={self.ok}: {len(self.rows)} entries>"

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in HEADER)
        body = []
        for row, cells in zip(self.rows, self.cells()[1:]):
            colour = "#e6f4e6" if row.ok else "#ffd6d6"
            tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
            body.append(f'<tr style="background:{colour}">{tds}</tr>')
        notes = "".join(f"<li><b>{html.escape(row.name)}</b>: {html.escape(row.note)}</li>"
                        for row in self.rows if row.note)
        return (f"<p>{html.escape(self.summary())}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                + (f"<ul>{notes}</ul>" if notes else ""))


def compare_grads(actual, expected, rtol: float = 1e-6, atol: float = 1e-9,
                  batch_size: int | None = None) -> GradReport:
    """Compare `.grad` of `actual` with hand-derived arrays, elementwise as np.allclose does.

    `actual`: a dict name -> Tensor, a list of Tensors, or a Module (its named_parameters()).
    Intermediates (z1, z2, ...) work too: keep their gradients with `t.retain_grad()` before
    `backward()`, or `backward(retain_grads=True)`.
    `expected`: a dict name -> array, or a list in the same order as `actual`; Tensors (from
    backprop written with Tensor operations, as in PyTorch) are compared by their values.
    Each element passes if |actual - expected| <= atol + rtol * |expected|.
    `batch_size` lets a factor made of it be named as such (a mean over the batch, or over the
    batch x the output width); without it, the first axis of 2-d intermediates in `actual` is
    taken as the batch.
    """
    items = _items(actual, "actual")
    actual, kinds = _named(items)
    if isinstance(expected, Mapping):
        expected = {str(k): _values(v) for k, v in expected.items()}
    else:
        names = list(actual)
        expected = {(names[i] if i < len(names) else str(i)): _values(v)
                    for i, v in enumerate(expected)}
    sizes = _sizes(items, batch_size)
    rows = [_compare(name, actual[name], expected[name], rtol, atol, kinds[name], sizes)
            if name in expected else GradRow(name, "not given", actual_shape=_shape(actual[name]))
            for name in actual]
    rows += [GradRow(name, "not in model", expected_shape=np.shape(e))
             for name, e in expected.items() if name not in actual]
    return GradReport(rows, rtol, atol)


def _items(actual, what):
    """(name, Tensor or array) pairs from a Module, a dict or a list."""
    if hasattr(actual, "named_parameters"):  # an nn.Module, without importing nn
        return [(str(name), t) for name, t in actual.named_parameters()]
    if isinstance(actual, Mapping):
        return [(str(name), t) for name, t in actual.items()]
    if isinstance(actual, (list, tuple)):
        return [(str(i), t) for i, t in enumerate(actual)]
    raise TypeError(f"compare_grads: {what} must be a dict, a list or a Module, "
                    f"got {type(actual).__name__}")


def _values(e):
    """A hand-derived gradient as an array: a Tensor's values (its graph, if any, is not ours to
    keep: np.asarray would refuse a Tensor that requires grad)."""
    return e.data if isinstance(e, Tensor) else e


def _named(items):
    """name -> gradient (ndarray or None), and name -> "parameter", "intermediate" or "array"."""
    grads = {str(name): (t.grad if isinstance(t, Tensor) else np.asarray(t)) for name, t in items}
    kinds = {str(name): ("array" if not isinstance(t, Tensor) else
                         "parameter" if t.op is None else "intermediate") for name, t in items}
    return grads, kinds


def _shape(grad):
    return None if grad is None else tuple(grad.shape)


NO_GRAD = ("its .grad is None: for an intermediate, call t.retain_grad() before backward() or "
           "use loss.backward(retain_grads=True); a parameter the loss does not use gets none")


def _compare(name, a, e, rtol, atol, kind, sizes):
    e = np.asarray(e, dtype=np.float64)
    if a is None:
        return GradRow(name, "no grad", expected_shape=e.shape, note=NO_GRAD)
    a = a.astype(np.float64)
    diagnose = lambda e: _diagnose(a, e, max(rtol, 1e-9), atol, kind, sizes)  # noqa: E731
    if a.shape != e.shape and not _same_but_size_one_axes(a.shape, e.shape):
        return GradRow(name, "shape mismatch", a.shape, e.shape, note=diagnose(e))
    notes = []
    if a.shape != e.shape:  # (1, n) against (n,): the values can still be compared
        notes.append(f"yours is {e.shape}, the engine's {a.shape}: compared value by value, "
                     "as the shapes differ only in axes of size 1")
    shapes = (a.shape, e.shape)
    e = e.reshape(a.shape)
    with np.errstate(all="ignore"):  # inf - inf and x / 0 are reported, not warned about
        abs_err = np.abs(a - e)
        rel_err = abs_err / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
        excess = abs_err - (atol + rtol * np.abs(e))
        excess = np.where(np.isnan(excess), np.inf, excess)  # NaN anywhere fails, like allclose
    if not a.size:
        return GradRow(name, "ok", *shapes, 0.0, 0.0, (), note="; ".join(notes))
    worst = np.unravel_index(int(np.argmax(excess)), a.shape)
    differ = excess[worst] > 0
    if differ:
        notes.append(diagnose(e))
    return GradRow(name, "values differ" if differ else "ok", *shapes,
                   float(abs_err.max()), float(rel_err.max()), tuple(int(i) for i in worst),
                   float(a[worst]), float(e[worst]), "; ".join(n for n in notes if n))


def _same_but_size_one_axes(a, b):
    """(1, 3) and (3,), or () and (1,): one shape is the other with axes of size 1 added."""
    return len(a) != len(b) and [n for n in a if n != 1] == [n for n in b if n != 1]


@dataclass(frozen=True)
class _Sizes:
    """Counts a constant factor between two gradients may be made of: batch sizes, output widths
    (a mean over batch x outputs divides by their product) and the entry counts of gradients."""

    batches: frozenset
    widths: frozenset
    entries: frozenset

    def with_batch(self, n):
        return _Sizes(self.batches | {n}, self.widths, self.entries | {n})


def _sizes(items, batch_size):
    """Batch sizes: `batch_size` and the first axis of 2-d intermediates' gradients; output
    widths: the last axis of the newest of them and of the newest parameter (nearest the loss);
    entries: the intermediates' sizes."""
    tensors = [t for _, t in items if isinstance(t, Tensor) and t.grad is not None]
    middle = [t for t in tensors if t.op is not None]
    batches = {t.grad.shape[0] for t in middle if t.ndim >= 2}
    if batch_size is not None:
        batches.add(int(batch_size))
    newest = [max((t for t in group if t.ndim >= least), key=lambda t: t.seq, default=None)
              for group, least in ((middle, 2), ([t for t in tensors if t.op is None], 1))]
    widths = {t.shape[-1] for t in newest if t is not None}
    return _Sizes(frozenset(batches), frozenset(widths),
                  frozenset({t.grad.size for t in middle} | batches))


def _diagnose(a, e, rtol, atol, kind, sizes):
    """How `e` (yours) differs from `a` (the engine's), in words, or "" if no pattern fits.

    Each view brings yours to the engine's shape (as it is, transposed, summed over the batch
    axis); a view that matches wins, else one that matches up to a constant factor.
    """
    if not (a.size and np.isfinite(a).all() and np.isfinite(e).all()):
        return ""
    views = []  # (note if it matches, note before a factor, yours seen so, sizes for hints)
    if e.shape == a.shape:
        views.append(("", "", e, sizes))
    if e.ndim == 2 and e.shape[::-1] == a.shape:
        layout = (f"your layout is (out, in) = {e.shape}, the engine's weights are (in, out) = "
                  f"{a.shape}, as x @ W needs" if kind == "parameter"
                  else f"yours is {e.shape}, the engine's {a.shape}")
        views.append((f"equal after a transpose: {layout}", f"transposed ({layout})", e.T, sizes))
    if e.ndim >= 1 and e.shape[0] > 1 and (e.shape[1:] == a.shape or (
            a.ndim == e.ndim and a.shape[0] == 1 and e.shape[1:] == a.shape[1:])):
        rows = f"yours has one row per sample, {e.shape}; the engine's {a.shape} is their sum"
        views.append((f"sum over axis 0 matches: {rows}", f"summed over axis 0 ({rows})",
                      e.sum(axis=0).reshape(a.shape), sizes.with_batch(e.shape[0])))
    for matches, _, view, _ in views:
        if matches and np.allclose(view, a, rtol, atol):
            return matches
    for _, before, view, view_sizes in views:
        factor = _factor(a, view, rtol, atol)
        if factor is not None:
            return (f"{before}, then " if before else "") + _factor_note(factor, view_sizes)
    return ""


def _factor(a, e, rtol, atol):
    """c with e = c * a everywhere (within tolerance), snapped to a round value, or None."""
    with np.errstate(all="ignore"):
        c = float((a * e).sum() / (a * a).sum())  # least squares
    if not np.isfinite(c) or c == 0 or abs(c - 1) < 1e-3:
        return None
    candidates = [round(c), round(c * 2) / 2] + ([1 / round(1 / c)] if abs(c) < 1 else [])
    nice = next((n for n in candidates if n and abs(c - n) <= 1e-6 * abs(n)), None)
    if nice is None and a.size < 2:
        return None  # one number is always some multiple of another: only round ones tell
    c = c if nice is None else nice
    return c if np.allclose(e, c * a, rtol, atol) else None


def _factor_note(c, sizes):
    """'all x0.5 the engine's: ...' with the likely cause, when one is known."""
    hints = []
    if c == -1:
        hints.append("a sign flip: (t - y) where (y - t) belongs?")
    elif c == 0.5:
        hints.append("0.5 * sum against a mean loss, or the 2 of a square dropped?")
    elif c == 2:
        hints.append("a 0.5 in the loss (or a mean over 2) that your derivation lacks?")
    hints += _count_hints(c, sizes)
    inverse = 1 / c
    shown = (f"1/{round(inverse)}" if 2 < abs(inverse) and abs(inverse - round(inverse)) < 1e-9
             else f"{c:.4g}")
    return f"all x{shown} the engine's" + (": " + " or ".join(hints) if hints else "")


def _count_hints(c, sizes):
    """The hints for c made of a count d a mean loss divides by, yours being c x the engine's.

    d is a batch size, batch x output width (a mean over every entry of an (N, k) output, as
    mse_loss takes) or an intermediate's entry count; a sum against a mean gives c = d, a
    0.5 * sum c = d / 2, and so on.
    """
    hints = []
    for d, what, over in _counts(sizes):
        hints += [hint for factor, hint in (
            (d, f"{what} (a mean over {over} divides every gradient by {d})?"),
            (d / 2, f"0.5 * sum against a mean loss over {over}?"),
            (2 * d, f"a sum of squares against 0.5 * a mean over {over}: both the 0.5 and the "
                    f"1/{d} missing?"),
            (1 / d, f"divided by {what} {d} twice, or against a summed loss?"),
            (2 / d, f"a mean over {over} against 0.5 * sum?"),
            (1 / (2 * d), f"0.5 * a mean over {over} against a summed loss?"),
        ) if d > 1 and math.isclose(c, factor)]
    for n, k in _pairs(sizes):  # a mean over the batch where the loss also divides by k
        if math.isclose(c, k):
            hints.append(f"a mean over the {n} samples only, against a mean over all {n} x {k} "
                         f"= {n * k} entries (samples x outputs, as mse_loss takes)?")
        elif math.isclose(c, 1 / k):
            hints.append(f"divided by the {k} outputs as well as the {n} samples, against a "
                         f"mean over the samples only?")
    return hints


def _pairs(sizes):
    """(batch size, output width) pairs, widths of 1 left out."""
    return [(n, k) for n in sorted(sizes.batches) for k in sorted(sizes.widths) if k > 1]


def _counts(sizes):
    """(count, its name, what a mean over it averages) for the counts a mean loss divides by."""
    counts = [(n, "the batch size", f"{n} samples") for n in sorted(sizes.batches)]
    counts += [(n * k, "the batch size x the output width",
                f"{n} samples x {k} outputs = {n * k} entries") for n, k in _pairs(sizes)]
    named = {d for d, _, _ in counts}
    return counts + [(e, "the entry count", f"{e} entries")
                     for e in sorted(sizes.entries) if e not in named]


def _cells(row):
    result = "ok" if row.ok else f"FAIL: {row.status}"
    shapes = ["-" if s is None else str(s) for s in (row.actual_shape, row.expected_shape)]
    shape = shapes[0] if shapes[0] == shapes[1] else " vs ".join(shapes)
    if row.worst is None:
        return (row.name, shape, "-", "-", "-", "-", "-", result)
    return (row.name, shape, f"{row.max_abs:.3e}", f"{row.max_rel:.3e}",
            str(row.worst), f"{row.actual:.6g}", f"{row.expected:.6g}", result)
