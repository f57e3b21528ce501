"""Tests for autograd/compare.py: compare_grads against closed-form gradients, right and wrong.

The model is a linear layer with squared error, whose gradients have a closed form:
L = sum((x @ w + b - y)^2), dL/dw = x.T @ 2r, dL/db = sum(2r, axis=0), with r = x @ w + b - y.
"""

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import nn
from autograd import GradMismatchError, GradReport, Tensor, compare_grads

RNG = np.random.default_rng(4)
X, Y = RNG.standard_normal((5, 3)), RNG.standard_normal((5, 2))


def fitted():
    """w, b after backward, and their closed-form gradients."""
    w = Tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    b = Tensor(RNG.standard_normal(2), requires_grad=True)
    ((X @ w + b - Y) ** 2).sum().backward()
    r = X @ w.data + b.data - Y
    return w, b, {"w": X.T @ (2 * r), "b": (2 * r).sum(axis=0)}


class TinyModule:
    """Duck-typed stand-in for nn.Module: compare_grads only calls named_parameters()."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def named_parameters(self):
        return iter([("layer.weight", self.w), ("layer.bias", self.b)])


def test_correct_derivation_passes():
    w, b, expected = fitted()
    report = compare_grads({"w": w, "b": b}, expected)
    assert isinstance(report, GradReport) and report.ok
    assert [row.name for row in report] == ["w", "b"]
    for row, e, a in zip(report, expected.values(), (w.grad, b.grad)):
        assert row.ok and row.shape_ok and row.status == "ok"
        assert row.max_abs == np.abs(a - e).max() and row.max_abs < 1e-12
    assert report.raise_if_failed() is report
    assert str(report).startswith("compare_grads: all match, 2 of 2 ok")


def test_wrong_derivation_fails_and_names_the_worst_element():
    w, b, expected = fitted()
    r = X @ w.data + b.data - Y
    wrong = {"w": X.T @ r, "b": expected["b"]}  # forgot the 2 from the square
    report = compare_grads({"w": w, "b": b}, wrong)
    assert not report.ok and report["b"].ok
    row = report["w"]
    assert row.status == "values differ" and row.shape_ok
    diff = np.abs(w.grad - wrong["w"])
    assert row.max_abs == diff.max()
    assert row.worst == np.unravel_index(np.argmax(diff), diff.shape)
    assert (row.actual, row.expected) == (w.grad[row.worst], wrong["w"][row.worst])
    assert row.max_rel == pytest.approx((diff / np.abs(wrong["w"])).max())
    assert "FAIL: values differ" in str(report)
    assert str(report).startswith("compare_grads: MISMATCH, 1 of 2 ok")
    with pytest.raises(GradMismatchError, match=r"(?s)MISMATCH.*w +\(3, 2\).*FAIL: values differ"):
        report.raise_if_failed()
    assert issubclass(GradMismatchError, AssertionError)


@pytest.mark.parametrize("scale, ok", [(1 + 0.9e-6, True), (1 + 1.1e-6, False)])
def test_tolerance_is_atol_plus_rtol_times_expected(scale, ok):
    w = Tensor([1.0, -2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    assert compare_grads([w], [np.array([3.0, 3.0]) * scale]).ok is ok
    assert compare_grads([w], [np.array([3.0, 3.0]) * scale], rtol=0, atol=1e-5).ok


def test_nan_gradient_fails():
    w = Tensor([1.0, 2.0], requires_grad=True)
    w.grad = np.array([np.nan, 1.0])
    report = compare_grads([w], [np.array([1.0, 1.0])])
    assert not report.ok and report["0"].worst == (0,)


def test_shape_mismatch_missing_extra_and_no_grad_are_reported_not_raised():
    w, b, expected = fitted()
    unused = Tensor(np.zeros(4), requires_grad=True)  # never reached by backward: grad is None
    report = compare_grads(
        {"w": w, "b": b, "unused": unused, "extra": b},
        {"w": expected["w"].T, "b": expected["b"], "unused": np.zeros(4), "gone": np.zeros(1)},
    )
    assert not report.ok
    assert [(row.name, row.status) for row in report] == [
        ("w", "shape mismatch"), ("b", "ok"), ("unused", "no grad"), ("extra", "extra"),
        ("gone", "missing"),
    ]
    assert (report["w"].actual_shape, report["w"].expected_shape) == ((3, 2), (2, 3))
    assert not report["w"].shape_ok and not report["unused"].shape_ok
    text = str(report)
    for line in ("w       (3, 2) vs (2, 3)", "unused  - vs (4,)", "extra   (2,) vs -",
                 "gone    - vs (1,)"):
        assert line in text
    assert text.count("FAIL:") == 4 and "FAIL: shape mismatch" in text


def test_table_columns_are_aligned():
    w, b, expected = fitted()
    lines = str(compare_grads({"weight": w, "b": b}, expected)).splitlines()[1:]
    for column in ("shape", "max abs err", "worst index", "result"):
        start = lines[0].index(column)
        assert all(line[start - 2:start] == "  " and line[start] != " " for line in lines)


def test_lists_pair_entries_in_order():
    w, b, expected = fitted()
    assert compare_grads([w, b], [expected["w"], expected["b"]]).ok
    swapped = compare_grads([w, b], [expected["b"], expected["w"]])
    assert [row.status for row in swapped] == ["shape mismatch", "shape mismatch"]
    short = compare_grads([w, b], [expected["w"]])
    assert [(row.name, row.status) for row in short] == [("0", "ok"), ("1", "extra")]


def test_modules_use_named_parameters_and_lists_follow_their_order():
    w, b, expected = fitted()
    model = TinyModule(w, b)
    report = compare_grads(model, {"layer.weight": expected["w"], "layer.bias": expected["b"]})
    assert report.ok and [row.name for row in report] == ["layer.weight", "layer.bias"]
    assert compare_grads(model, [expected["w"], expected["b"]]).ok
    missing = compare_grads(model, {"layer.weight": expected["w"]})
    assert missing["layer.bias"].status == "extra" and not missing.ok


def test_nn_modules_are_compared_by_dotted_name():
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    ((layer(Tensor(X)) - Y) ** 2).sum().backward()
    r = X @ layer.weight.data + layer.bias.data - Y
    report = compare_grads(layer, {"weight": X.T @ (2 * r), "bias": (2 * r).sum(axis=0)})
    assert report.ok and [row.name for row in report] == ["weight", "bias"]
    model = nn.Sequential(layer)
    names = [name for name, _ in model.named_parameters()]  # dotted: layers.0.weight, ...
    nested = compare_grads(model, [X.T @ (2 * r), (2 * r).sum(axis=0)])
    assert nested.ok and [row.name for row in nested] == names and names[0].endswith(".weight")


def test_plain_arrays_are_compared_as_gradients():
    assert compare_grads({"g": np.ones(3)}, {"g": np.ones(3)}).ok


def test_bad_actual_is_a_clear_error():
    with pytest.raises(TypeError, match="compare_grads: actual must be a dict, a list or a Module"):
        compare_grads(3.0, {})


def test_html_table_has_a_row_per_entry_coloured_by_result():
    w, b, expected = fitted()
    report = compare_grads({"<w>": w, "b": b}, {"<w>": expected["w"] * 2, "b": expected["b"]})
    page = ET.fromstring(f"<div>{report._repr_html_()}</div>")  # well-formed, names escaped
    assert page.find("p").text.startswith("compare_grads: MISMATCH, 1 of 2 ok")
    assert [th.text for th in page.iter("th")][:2] == ["name", "shape"]
    rows = page.find("table").find("tbody").findall("tr")
    assert [tr.find("td").text for tr in rows] == ["<w>", "b"]
    assert [tr.get("style") for tr in rows] == ["background:#ffd6d6", "background:#e6f4e6"]
    assert rows[0].findall("td")[-1].text == "FAIL: values differ"
