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
        ("w", "shape mismatch"), ("b", "ok"), ("unused", "no grad"), ("extra", "not given"),
        ("gone", "not in model"),
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
    assert [(row.name, row.status) for row in short] == [("0", "ok"), ("1", "not given")]


def test_modules_use_named_parameters_and_lists_follow_their_order():
    w, b, expected = fitted()
    model = TinyModule(w, b)
    report = compare_grads(model, {"layer.weight": expected["w"], "layer.bias": expected["b"]})
    assert report.ok and [row.name for row in report] == ["layer.weight", "layer.bias"]
    assert compare_grads(model, [expected["w"], expected["b"]]).ok
    missing = compare_grads(model, {"layer.weight": expected["w"]})
    assert missing["layer.bias"].status == "not given" and not missing.ok


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


# ---------------------------------------------------------------- diagnoses of wrong derivations
# A two-layer network, z1 = x @ W1 + b1, a1 = tanh(z1), z2 = a1 @ W2 + b2, trained on the squared
# error; each test derives its gradients by hand with one deliberate mistake.
N, SIZES = 6, (3, 4, 3)


def two_layer(mean_over_batch=False):
    """The network's parameters and retained intermediates after backward, and numpy values."""
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((N, SIZES[0])), rng.standard_normal((N, SIZES[2]))
    params = {"W1": Tensor(rng.standard_normal(SIZES[:2]), requires_grad=True),
              "b1": Tensor(rng.standard_normal(SIZES[1]), requires_grad=True),
              "W2": Tensor(rng.standard_normal(SIZES[1:]), requires_grad=True),
              "b2": Tensor(rng.standard_normal(SIZES[2]), requires_grad=True)}
    z1 = (x @ params["W1"] + params["b1"]).retain_grad()
    z2 = (z1.tanh() @ params["W2"] + params["b2"]).retain_grad()
    squares = ((z2 - y) ** 2).sum(axis=1)
    (squares.mean() if mean_over_batch else squares.sum()).backward()
    values = dict(x=x, y=y, a1=np.tanh(z1.data), z2=z2.data,
                  **{name: p.data for name, p in params.items()})
    return params, {"z1": z1, "z2": z2}, values


def by_hand(v, dz2):
    """The chain rule from dL/dz2 down, in numpy: parameters' gradients and the deltas."""
    dz1 = dz2 @ v["W2"].T * (1 - v["a1"] ** 2)
    grads = {"W1": v["x"].T @ dz1, "b1": dz1.sum(axis=0), "W2": v["a1"].T @ dz2,
             "b2": dz2.sum(axis=0)}
    return grads, {"z1": dz1, "z2": dz2}


def test_the_right_derivation_matches_parameters_and_deltas():
    params, deltas, v = two_layer()
    grads, hand_deltas = by_hand(v, 2 * (v["z2"] - v["y"]))
    report = compare_grads({**params, **deltas}, {**grads, **hand_deltas})
    assert report.ok and all(row.note == "" for row in report), str(report)


def test_weights_derived_as_out_by_in_are_named_a_transpose():
    params, _, v = two_layer()
    grads, _ = by_hand(v, 2 * (v["z2"] - v["y"]))
    report = compare_grads(params, {**grads, "W1": grads["W1"].T})
    row = report["W1"]
    assert row.status == "shape mismatch" and (row.actual_shape, row.expected_shape) == \
        ((3, 4), (4, 3))
    assert row.note == ("equal after a transpose: your layout is (out, in) = (4, 3), the "
                        "engine's weights are (in, out) = (3, 4), as x @ W needs")
    assert "W1: equal after a transpose: your layout is (out, in)" in str(report)
    assert [r.note for r in report if r.name != "W1"] == ["", "", ""]


def test_a_square_weight_transposed_is_named_too():
    w = Tensor(np.arange(9.0).reshape(3, 3) / 7, requires_grad=True)
    x = np.array([[1.0, -2.0, 0.5]])
    (x @ w).tanh().sum().backward()
    dz = 1 - np.tanh(x @ w.data) ** 2
    row = compare_grads({"w": w}, {"w": (x.T @ dz).T})["w"]
    assert row.status == "values differ"
    assert row.note.startswith("equal after a transpose: your layout is (out, in) = (3, 3)")


def test_half_the_gradient_is_named_0_5_times_sum():
    params, deltas, v = two_layer()  # L = sum (z2 - y)^2, derived as if L = 0.5 * sum
    grads, hand_deltas = by_hand(v, v["z2"] - v["y"])
    report = compare_grads({**params, **deltas}, {**grads, **hand_deltas})
    assert [row.status for row in report] == ["values differ"] * 6
    assert report["W1"].note == ("all x0.5 the engine's: 0.5 * sum against a mean loss, "
                                 "or the 2 of a square dropped?")
    assert all(row.note == report["W1"].note for row in report)


def test_a_factor_of_the_batch_size_is_named_when_the_batch_is_known():
    params, deltas, v = two_layer(mean_over_batch=True)
    grads, hand_deltas = by_hand(v, 2 * (v["z2"] - v["y"]))  # forgot the mean's 1 / N
    batch_hint = "all x6 the engine's: the batch size (a mean over 6 samples divides every " \
                 "gradient by 6)?"
    # The deltas' first axis (6 samples) gives the batch size away ...
    report = compare_grads({**params, **deltas}, {**grads, **hand_deltas})
    assert all(row.note.startswith(batch_hint) for row in report), str(report)
    # ... parameters alone do not, unless batch_size says it.
    assert compare_grads(params, grads)["W2"].note == "all x6 the engine's"
    assert compare_grads(params, grads, batch_size=6)["W2"].note == batch_hint
    assert compare_grads(params, grads, batch_size=32)["W2"].note == "all x6 the engine's"


def test_half_a_mean_over_all_entries_is_named():
    # L = mean over all 18 entries of (z2 - y)^2, derived as d(0.5 * sum) = z2 - y: x9.
    z2 = Tensor(np.random.default_rng(1).standard_normal((N, 3)), requires_grad=True)
    y = np.zeros((N, 3))
    h = (z2 * 1.0).retain_grad()
    ((h - y) ** 2).mean().backward()
    row = compare_grads({"z2": h}, {"z2": h.data - y})["z2"]
    assert row.note == ("all x9 the engine's: 0.5 * sum against a mean loss over 6 samples x 3 "
                        "outputs = 18 entries?")
    # Without a batch axis to read, the count is named as the gradient's entry count.
    flat = (Tensor(np.arange(1.0, 19.0), requires_grad=True) * 1.0).retain_grad()
    ((flat - 0.5) ** 2).mean().backward()
    note = compare_grads({"z": flat}, {"z": flat.data - 0.5})["z"].note
    assert note == "all x9 the engine's: 0.5 * sum against a mean loss over 18 entries?"


def test_a_sign_flip_is_named():
    params, deltas, v = two_layer()
    grads, hand_deltas = by_hand(v, 2 * (v["y"] - v["z2"]))  # (t - y) for (y - t)
    report = compare_grads({**params, **deltas}, {**grads, **hand_deltas})
    assert all(row.note == "all x-1 the engine's: a sign flip: (t - y) where (y - t) belongs?"
               for row in report)


def test_a_bias_gradient_not_summed_over_the_batch_is_named():
    params, _, v = two_layer()
    dz2 = 2 * (v["z2"] - v["y"])
    grads, _ = by_hand(v, dz2)
    report = compare_grads(params, {**grads, "b2": dz2})  # one row per sample
    row = report["b2"]
    assert row.status == "shape mismatch" and row.expected_shape == (6, 3)
    assert row.note == ("sum over axis 0 matches: yours has one row per sample, (6, 3); the "
                        "engine's (3,) is their sum")
    # Unsummed and short of the mean's 1 / N: the rows give the batch size away.
    params, _, v = two_layer(mean_over_batch=True)
    row = compare_grads(params, {"b2": dz2})["b2"]
    assert row.note == ("summed over axis 0 (yours has one row per sample, (6, 3); the engine's "
                        "(3,) is their sum), then all x6 the engine's: the batch size (a mean "
                        "over 6 samples divides every gradient by 6)?")


def test_a_1_by_n_bias_is_compared_value_by_value():
    params, _, v = two_layer()
    grads, _ = by_hand(v, 2 * (v["z2"] - v["y"]))
    keepdims = {**grads, "b1": grads["b1"].reshape(1, 4), "b2": grads["b2"].reshape(1, 3) / 2}
    report = compare_grads(params, keepdims)
    b1, b2 = report["b1"], report["b2"]
    shape_note = ("yours is (1, 4), the engine's (4,): compared value by value, as the shapes "
                  "differ only in axes of size 1")
    assert b1.ok and not b1.shape_ok and b1.note == shape_note
    assert b1.max_abs == np.abs(params["b1"].grad - grads["b1"]).max()
    assert "\nb1    (4,) vs (1, 4)  " in str(report) and f"\nb1: {shape_note}" in str(report)
    assert b2.status == "values differ" and b2.note.startswith("yours is (1, 3), the engine's")
    assert b2.note.endswith("; all x0.5 the engine's: 0.5 * sum against a mean loss, or the 2 "
                            "of a square dropped?")
    assert report.ok is False and report["W1"].ok


def test_divided_by_the_batch_size_twice_is_named():
    params, deltas, v = two_layer(mean_over_batch=True)
    grads, hand_deltas = by_hand(v, 2 * (v["z2"] - v["y"]) / N**2)
    assert compare_grads({**params, **deltas}, {**grads, **hand_deltas})["W1"].note == \
        "all x1/6 the engine's: divided by the batch size 6 twice, or against a summed loss?"


def test_a_difference_with_no_pattern_gets_no_note():
    params, _, v = two_layer()
    wrong = 2 * (v["z2"] - v["y"]) * (1 + 0.1 * np.arange(3))  # no one factor, no transpose
    report = compare_grads(params, by_hand(v, wrong)[0])
    assert not report.ok and all(row.note == "" for row in report)
    # One number is a multiple of any other: only a round factor is named there.
    w = Tensor([2.0], requires_grad=True)
    (w * 3.0).sum().backward()
    assert compare_grads([w], [[4.1]])["0"].note == ""
    assert compare_grads([w], [[-3.0]])["0"].note.startswith("all x-1 the engine's")


def test_no_grad_says_how_to_keep_an_intermediates_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    h = x * 2.0
    (h ** 2).sum().backward()  # h's gradient is not kept
    row = compare_grads({"h": h}, {"h": 4 * h.data})["h"]
    assert row.status == "no grad"
    assert "call t.retain_grad() before backward()" in row.note
    assert "loss.backward(retain_grads=True)" in row.note


def test_notes_are_listed_under_the_html_table():
    params, _, v = two_layer()
    grads, _ = by_hand(v, v["z2"] - v["y"])
    page = ET.fromstring(f"<div>{compare_grads(params, grads)._repr_html_()}</div>")
    items = page.find("ul").findall("li")
    assert [li.find("b").text for li in items] == ["W1", "b1", "W2", "b2"]
    assert items[0].find("b").tail.startswith(": all x0.5 the engine's")


# ---------------------------------------------------------------- backprop written with Tensors
# PyTorch-style manual backprop: the forward pass and the hand-derived gradients are Tensors, the
# loss is mse_loss over an (N, K) output (a mean over all N x K entries), so a derivation of the
# sum of squares is off by N x K, not by N alone.
MSE_N, MSE_K = 5, 3


def mse_network():
    """A 4-6-3 tanh network after mse_loss's backward, and its forward pass as Tensors."""
    rng = np.random.default_rng(11)
    model = nn.Sequential(nn.Linear(4, 6, rng=rng), nn.Tanh(), nn.Linear(6, MSE_K, rng=rng))
    x = Tensor(rng.standard_normal((MSE_N, 4)))
    y = Tensor(rng.standard_normal((MSE_N, MSE_K)))
    h = model[1](model[0](x))
    out = model[2](h)
    nn.functional.mse_loss(out, y).backward()
    return model, x, h, out, y


def tensor_backprop(model, x, h, dout):
    """The chain rule from dL/dout down, with Tensor operations, in named_parameters() order."""
    dh = dout @ model[2].weight.T * (1 - h * h)
    return [x.T @ dh, dh.sum(axis=0), h.T @ dout, dout.sum(axis=0)]


def test_hand_derived_tensors_are_compared_by_value():
    model, x, h, out, y = mse_network()
    grads = tensor_backprop(model, x, h, 2 * (out - y) / (MSE_N * MSE_K))
    assert all(g.requires_grad for g in grads)  # np.asarray(g) would refuse these
    report = compare_grads(model, grads, rtol=1e-12, atol=1e-15)
    assert report.ok, str(report)
    names = [name for name, _ in model.named_parameters()]
    assert compare_grads(model, dict(zip(names, grads))).ok
    detached = compare_grads(model, [g.detach() for g in grads])
    assert detached.ok and [row.max_abs for row in detached] == [row.max_abs for row in report]
    # A wrong one fails with its values, too: the engine's gradient against the Tensor's data.
    wrong_bias = grads[3] * 1.5
    row = compare_grads(model, [*grads[:3], wrong_bias])[names[3]]
    assert row.status == "values differ" and row.expected == wrong_bias.data[row.worst]
    assert row.note.startswith("all x1.5 the engine's")
    assert compare_grads(model, {"nope": grads[0]})["nope"].expected_shape == (4, 6)


def test_a_sum_of_squares_against_a_mean_over_all_entries_names_batch_times_outputs():
    model, x, h, out, y = mse_network()
    grads = tensor_backprop(model, x, h, 2 * (out - y))  # forgot mse_loss's 1 / (N x K)
    entries = "5 samples x 3 outputs = 15 entries"
    hint = (f"all x15 the engine's: the batch size x the output width (a mean over {entries} "
            "divides every gradient by 15)?")
    # The output width is the newest parameter's last axis; the batch size must be given ...
    report = compare_grads(model, grads, batch_size=MSE_N)
    assert [row.note for row in report] == [hint] * 4, str(report)
    # ... unless an intermediate's gradient shows it, with the width, from its last axis.
    out = model[2](h).retain_grad()  # again, keeping dL/dout
    nn.functional.mse_loss(out, y).backward()
    assert out.grad.shape == (MSE_N, MSE_K)
    assert compare_grads({"dL/dout": out}, {"dL/dout": 2 * (out - y)})["dL/dout"].note == hint


def engine_loss(model, x, y, loss):
    """Backward of a loss of the squares: their mean (mse_loss), half of it, their sum, half
    of it, or the mean over the samples of their sums over the outputs."""
    for p in model.parameters():
        p.grad = None
    squares = (model(x) - y) ** 2
    {"mean": lambda: nn.functional.mse_loss(model(x), y), "half mean": lambda: 0.5 * (
        squares.mean()), "sum": squares.sum, "half sum": lambda: 0.5 * squares.sum(),
     "sample mean": lambda: squares.sum(axis=1).mean()}[loss]().backward()


@pytest.mark.parametrize("loss, dout_scale, factor, hint", [
    # the engine's dL/dout against the hand's dout_scale * (out - y), r = out - y:
    ("mean", 1, "x7.5",  # 2r / 15 against r
     "0.5 * sum against a mean loss over 5 samples x 3 outputs = 15 entries?"),
    ("half mean", 2, "x30",  # r / 15 against 2r
     "a sum of squares against 0.5 * a mean over 5 samples x 3 outputs = 15 entries: both the "
     "0.5 and the 1/15 missing?"),
    ("mean", 2 / 15**2, "x1/15",  # 2r / 15 against 2r / 225
     "divided by the batch size x the output width 15 twice, or against a summed loss?"),
    ("sum", 2 / 15, "x1/15",  # 2r against 2r / 15
     "divided by the batch size x the output width 15 twice, or against a summed loss?"),
    ("sum", 1 / 15, "x1/30",  # 2r against r / 15
     "0.5 * a mean over 5 samples x 3 outputs = 15 entries against a summed loss?"),
    ("half sum", 2 / 15, "x0.1333",  # r against 2r / 15
     "a mean over 5 samples x 3 outputs = 15 entries against 0.5 * sum?"),
    ("mean", 2 / MSE_N, "x3",  # 2r / 15 against 2r / 5
     "a mean over the 5 samples only, against a mean over all 5 x 3 = 15 entries (samples x "
     "outputs, as mse_loss takes)?"),
    ("sample mean", 2 / 15, "x1/3",  # 2r / 5 against 2r / 15
     "divided by the 3 outputs as well as the 5 samples, against a mean over the samples "
     "only?"),
])
def test_other_factors_of_batch_times_outputs_are_named(loss, dout_scale, factor, hint):
    model, x, h, out, y = mse_network()
    engine_loss(model, x, y, loss)
    report = compare_grads(model, tensor_backprop(model, x, h, dout_scale * (out - y)),
                           batch_size=MSE_N)
    assert not report.ok
    for row in report:
        assert row.note.startswith(f"all {factor} the engine's: ") and hint in row.note, \
            str(report)


def test_no_count_hint_without_a_batch_or_for_a_factor_no_count_makes():
    model, x, h, out, y = mse_network()
    report = compare_grads(model, tensor_backprop(model, x, h, 2 * (out - y) * 7 / 15),
                           batch_size=MSE_N)
    assert [row.note for row in report] == ["all x7 the engine's"] * 4
    # With the batch size unknown, 15 is an unexplained round number.
    grads = tensor_backprop(model, x, h, 2 * (out - y))
    assert [row.note for row in compare_grads(model, grads)] == ["all x15 the engine's"] * 4
