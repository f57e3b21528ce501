"""Compare the engine's gradients with gradients derived by hand, name by name.

`compare_grads(model, {"fc1.weight": dW1, ...})` returns a report: `.ok`, one row per name
(shape match, max absolute and relative error, worst element), an aligned table as `str()`,
an HTML table in Jupyter, and `raise_if_failed()` for tests. Problems are reported, not raised.
"""

import html
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
    "missing" (expected but not in actual) or "extra" (in actual but not expected).
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
        return "\n".join([self.summary(), *lines])

    def __repr__(self):
        return f"<GradReport ok={self.ok}: {len(self.rows)} entries>"

    def _repr_html_(self):
        head = "".join(f"<th>{html.escape(c)}</th>" for c in HEADER)
        body = []
        for row, cells in zip(self.rows, self.cells()[1:]):
            colour = "#e6f4e6" if row.ok else "#ffd6d6"
            tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
            body.append(f'<tr style="background:{colour}">{tds}</tr>')
        return (f"<p>{html.escape(self.summary())}</p>"
                f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def compare_grads(actual, expected, rtol: float = 1e-6, atol: float = 1e-9) -> GradReport:
    """Compare `.grad` of `actual` with hand-derived arrays, elementwise as np.allclose does.

    `actual`: a dict name -> Tensor, a list of Tensors, or a Module (its named_parameters()).
    `expected`: a dict name -> array, or a list in the same order as `actual`.
    Each element passes if |actual - expected| <= atol + rtol * |expected|.
    """
    actual = _named(actual, "actual")
    if isinstance(expected, Mapping):
        expected = {str(k): v for k, v in expected.items()}
    else:
        names = list(actual)
        expected = {(names[i] if i < len(names) else str(i)): v for i, v in enumerate(expected)}
    rows = [_compare(name, actual[name], expected[name], rtol, atol) if name in expected
            else GradRow(name, "extra", actual_shape=_shape(actual[name]))
            for name in actual]
    rows += [GradRow(name, "missing", expected_shape=np.shape(e))
             for name, e in expected.items() if name not in actual]
    return GradReport(rows, rtol, atol)


def _named(actual, what):
    """name -> gradient (ndarray or None) from a dict, a list, or a Module."""
    if hasattr(actual, "named_parameters"):  # an nn.Module, without importing nn
        items = list(actual.named_parameters())
    elif isinstance(actual, Mapping):
        items = list(actual.items())
    elif isinstance(actual, (list, tuple)):
        items = [(str(i), t) for i, t in enumerate(actual)]
    else:
        raise TypeError(f"compare_grads: {what} must be a dict, a list or a Module, "
                        f"got {type(actual).__name__}")
    return {str(name): (t.grad if isinstance(t, Tensor) else np.asarray(t)) for name, t in items}


def _shape(grad):
    return None if grad is None else tuple(grad.shape)


def _compare(name, a, e, rtol, atol):
    e = np.asarray(e, dtype=np.float64)
    if a is None:
        return GradRow(name, "no grad", expected_shape=e.shape)
    if a.shape != e.shape:
        return GradRow(name, "shape mismatch", actual_shape=a.shape, expected_shape=e.shape)
    a = a.astype(np.float64)
    with np.errstate(all="ignore"):  # inf - inf and x / 0 are reported, not warned about
        abs_err = np.abs(a - e)
        rel_err = abs_err / np.maximum(np.abs(e), np.finfo(np.float64).tiny)
        excess = abs_err - (atol + rtol * np.abs(e))
        excess = np.where(np.isnan(excess), np.inf, excess)  # NaN anywhere fails, like allclose
    if not a.size:
        return GradRow(name, "ok", a.shape, e.shape, 0.0, 0.0, ())
    worst = np.unravel_index(int(np.argmax(excess)), a.shape)
    return GradRow(name, "values differ" if excess[worst] > 0 else "ok", a.shape, e.shape,
                   float(abs_err.max()), float(rel_err.max()),
                   tuple(int(i) for i in worst), float(a[worst]), float(e[worst]))


def _cells(row):
    result = "ok" if row.ok else f"FAIL: {row.status}"
    if row.worst is None:
        shapes = ["-" if s is None else str(s) for s in (row.actual_shape, row.expected_shape)]
        return (row.name, " vs ".join(shapes), "-", "-", "-", "-", "-", result)
    return (row.name, str(row.actual_shape), f"{row.max_abs:.3e}", f"{row.max_rel:.3e}",
            str(row.worst), f"{row.actual:.6g}", f"{row.expected:.6g}", result)
