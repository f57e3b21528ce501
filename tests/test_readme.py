"""README's "Where npgrad differs from PyTorch and numpy", claim by claim, against the code.

Each test quotes the sentences it checks (`claim` fails if the README no longer says them, so an
edited claim gets its check edited too), and every bullet of the section must have a test. The
section's `pycon` session runs as a doctest.
"""

import doctest
import operator
import os
import re
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor, no_grad

README = Path(__file__).resolve().parent.parent / "README.md"
TITLE = "## Where npgrad differs from PyTorch and numpy"
ONE_SPACE = re.compile(r"\s+")


def section(title=TITLE):
    """The text under `title`, up to the next section of the same level."""
    text = README.read_text()
    assert title in text, f"README has no section {title!r}"
    body = text[text.index(title) + len(title):]
    return body[:body.find("\n## ")] if "\n## " in body else body


def bullets():
    """The section's bullets, each on one line."""
    items = re.findall(r"^- (.*(?:\n  .*)*)", section(), re.M)
    return [ONE_SPACE.sub(" ", item) for item in items]


def claim(*sentences):
    """Fail unless the section says each of `sentences` (whitespace aside)."""
    text = ONE_SPACE.sub(" ", section())
    for sentence in sentences:
        assert ONE_SPACE.sub(" ", sentence) in text, f"README no longer says: {sentence}"


# The first words of each bullet, and the test that checks it.
CHECKED = {
    "`nn.Linear.weight` has shape": "test_linear_weight_is_in_by_out",
    "Tensors are always floating point": "test_tensors_are_floating_point",
    "`Tensor(array)` shares memory": "test_tensor_shares_memory_unless_a_leaf_requires_grad",
    "Only leaves keep `.grad`": "test_only_leaves_keep_grad",
    "`zero_grad()` sets `.grad` to `None`": "test_zero_grad_sets_none",
    "Losses never broadcast their targets": "test_losses_never_broadcast_targets",
    "A few fused primitives exist": "test_fused_linear_is_exactly_matmul_plus_bias",
    "Comparisons (`==`, `!=`,": "test_comparisons_give_numpy_bool_arrays",
    "In-place operators `+=`, `-=`,": "test_in_place_operators",
    "Changed after use:": "test_changed_after_use_is_refused",
    "One-element tensors convert like": "test_one_element_tensors_convert_like_numbers",
    "`astype` accepts float dtypes": "test_astype_takes_float_dtypes_only",
    "`np.asarray(t)` (and anything": "test_asarray_refuses_a_tensor_that_requires_grad",
}


def test_every_bullet_has_a_check():
    found = bullets()
    unchecked = [b for b in found if not any(b.startswith(start) for start in CHECKED)]
    assert not unchecked, ("a bullet of README's 'Where npgrad differs' section has no test in "
                           f"tests/test_readme.py (add one to CHECKED): {unchecked}")
    gone = [start for start in CHECKED if not any(b.startswith(start) for b in found)]
    assert not gone, f"CHECKED names bullets README no longer has: {gone}"
    assert all(name in globals() for name in CHECKED.values())


def test_the_session_runs_as_shown():
    blocks = re.findall(r"```pycon\n(.*?)```", section(), re.S)
    assert len(blocks) == 1
    test = doctest.DocTestParser().get_doctest(blocks[0], {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert len(test.examples) >= 10


def test_linear_weight_is_in_by_out():
    claim("`nn.Linear.weight` has shape `(in_features, out_features)` and the layer computes "
          "`x @ weight + bias`")
    layer = nn.Linear(3, 2, rng=np.random.default_rng(0))
    x = np.random.default_rng(1).standard_normal((4, 3))
    assert layer.weight.shape == (3, 2) and layer.bias.shape == (2,)
    np.testing.assert_allclose(layer(Tensor(x)).data, x @ layer.weight.data + layer.bias.data,
                               rtol=1e-15, atol=1e-15)


def test_tensors_are_floating_point():
    claim("numbers, lists, integer and boolean arrays become float64",
          "float32 stays float32 through every operation and its gradients",
          "Plain numbers and arrays mixed into an operation take the tensor's dtype",
          "two Tensors follow numpy's promotion")
    for data in (3, 2.5, [1, 2], np.arange(3), np.array([True, False]), np.arange(3, dtype="u1")):
        assert Tensor(data).dtype == np.float64
    x = Tensor(np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3), requires_grad=True)
    w = Tensor(np.ones((3, 2), np.float32), requires_grad=True)
    h = (x.linear(w, 0.5) * np.ones(2) + 1.0).tanh()  # a float64 array and a Python number
    loss = h.softmax().log().mean() + h.var() + h.norm() + (h.exp() ** 2).sum() / 3.0
    loss.backward()
    assert {t.dtype for t in (h, loss)} == {np.dtype(np.float32)}
    assert x.grad.dtype == w.grad.dtype == np.float32
    for a, b in [(np.float32, np.float64), (np.float64, np.float32), (np.float32, np.float32)]:
        mixed = Tensor(np.ones(2, a)) * Tensor(np.ones(2, b))
        assert mixed.dtype == np.result_type(a, b)


def test_tensor_shares_memory_unless_a_leaf_requires_grad():
    claim("`Tensor(array)` shares memory with `array` like `np.asarray`, except for a leaf "
          "created with `requires_grad=True`, which gets its own copy")
    array = np.ones(3)
    assert Tensor(array).data is array
    leaf = Tensor(array, requires_grad=True)
    assert not np.shares_memory(leaf.data, array)
    array[0] = 5.0
    assert leaf.data[0] == 1.0


def test_only_leaves_keep_grad():
    claim("Only leaves keep `.grad` after `backward()`; `t.retain_grad()` or "
          "`loss.backward(retain_grads=True)` keeps intermediate gradients too")
    w = Tensor([1.0, 2.0], requires_grad=True)
    h = w * 3.0
    (h ** 2).sum().backward()
    assert h.grad is None and np.array_equal(w.grad, [18.0, 36.0])
    kept = (w * 3.0).retain_grad()
    (kept ** 2).sum().backward()
    assert np.array_equal(kept.grad, [6.0, 12.0])
    everything = w * 3.0
    (everything ** 2).sum().backward(retain_grads=True)
    assert np.array_equal(everything.grad, [6.0, 12.0])


def test_zero_grad_sets_none():
    claim("`zero_grad()` sets `.grad` to `None` (PyTorch's default)")
    model = nn.Linear(2, 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    for clear in (model.zero_grad, optimizer.zero_grad, lambda: [p.zero_grad()
                                                                 for p in model.parameters()]):
        model(Tensor([[1.0, 2.0]])).sum().backward()
        assert all(p.grad is not None for p in model.parameters())
        clear()
        assert all(p.grad is None for p in model.parameters())


LOSSES = [
    ("mse_loss", lambda x, y: nn.functional.mse_loss(x, y)),
    ("bce_loss", lambda x, y: nn.functional.bce_loss(x.sigmoid(), y)),
    ("bce_with_logits_loss", lambda x, y: nn.functional.bce_with_logits_loss(x, y)),
    ("bce_with_logits", lambda x, y: x.bce_with_logits(y)),
    ("mse_loss", lambda x, y: nn.MSELoss()(x, y)),
    ("bce_with_logits_loss", lambda x, y: nn.BCEWithLogitsLoss()(x, y)),
]


@pytest.mark.parametrize("name, loss", LOSSES)
def test_losses_never_broadcast_targets(name, loss):
    claim("Losses never broadcast their targets: `(n,)` against `(n, 1)` is an error, not a "
          "silent `(n, n)` matrix.")
    x = Tensor(np.full((4, 1), 0.3), requires_grad=True)
    with pytest.raises(ValueError, match=rf"^{name}: .*shape \(4, 1\) and target shape \(4,\)"):
        loss(x, np.full(4, 0.5))
    with pytest.raises(ValueError, match=r"\(4, 1\)"):  # and the other way round
        loss(Tensor(np.full(4, 0.3)), np.full((4, 1), 0.5))
    assert loss(x, np.full((4, 1), 0.5)).shape == ()


@pytest.mark.parametrize("bias_shape", [(), (1,), (3,), (1, 3), (5, 1), (5, 3), (2, 5, 1),
                                        (2, 1, 3)])
@pytest.mark.parametrize("dtypes", [("f8", "f8", "f8"), ("f4", "f4", "f4"), ("f4", "f4", "f8")])
def test_fused_linear_is_exactly_matmul_plus_bias(bias_shape, dtypes):
    claim("`x.linear(w, b)` (exactly `x @ w + b`: value, shape, dtype and gradients, for any bias "
          "shape)")
    rng = np.random.default_rng(3)
    x, w, b = (Tensor(rng.standard_normal(shape).astype(dt), requires_grad=True)
               for shape, dt in zip([(5, 4), (4, 3), bias_shape], dtypes))
    seed = rng.standard_normal(np.broadcast_shapes((5, 3), bias_shape))
    results = []
    for forward in (lambda: x.linear(w, b), lambda: x @ w + b):
        for t in (x, w, b):
            t.grad = None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            out = forward()
            (out * seed).sum().backward()
        results.append((out.data, x.grad, w.grad, b.grad))
    fused, plain = results
    assert fused[0].dtype == plain[0].dtype
    for a, b_ in zip(fused, plain):
        assert a.shape == b_.shape and a.dtype == b_.dtype
        np.testing.assert_array_equal(a, b_)


@pytest.mark.parametrize("method", ["cross_entropy", "bce_with_logits"])
def test_fused_losses_take_reductions_and_an_empty_batch_like_pytorch(method):
    claim("`logits.cross_entropy(probabilities, reduction=)` and "
          "`logits.bce_with_logits(targets, reduction=)` (`\"mean\"`, `\"sum\"` or `\"none\"`; "
          "an empty batch sums to 0 and its mean is nan, as in PyTorch); `nn` uses them.")
    rng = np.random.default_rng(5)
    logits = Tensor(rng.standard_normal((4, 3)), requires_grad=True)
    targets = rng.dirichlet(np.ones(3), size=4) if method == "cross_entropy" else \
        rng.random((4, 3))
    per_row = getattr(logits, method)(targets, reduction="none").data
    per_row = per_row if per_row.ndim == 1 else per_row.sum(axis=-1)  # bce: per element
    total = getattr(logits, method)(targets, reduction="sum").data
    np.testing.assert_allclose(total, per_row.sum(), rtol=1e-14)
    mean = getattr(logits, method)(targets, reduction="mean").data
    count = getattr(logits, method)(targets, reduction="none").size
    np.testing.assert_allclose(mean, total / count, rtol=1e-14)
    empty = Tensor(np.zeros((0, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # quiet, as PyTorch is
        assert getattr(empty, method)(np.zeros((0, 3)), reduction="sum").data == 0
        empty_mean = getattr(empty, method)(np.zeros((0, 3)), reduction="mean")
        assert np.isnan(empty_mean.data)
        empty_mean.backward()
    assert empty.grad.shape == (0, 3)
    # nn's layer and losses are these single nodes.
    labels = rng.integers(0, 3, 4)
    assert nn.functional.cross_entropy(logits, labels).op.name == "cross_entropy_labels"
    assert nn.functional.cross_entropy(logits, np.eye(3)[labels]).op.name == "cross_entropy"
    assert nn.functional.bce_with_logits_loss(logits, targets).op.name == "bce_with_logits"
    assert nn.Linear(3, 2)(logits).op.name == "linear"


def test_cross_entropy_labels_is_one_hot_cross_entropy_per_row_and_stays_finite():
    claim("For class labels, `autograd.cross_entropy_labels(logits, labels, reduction=)` gathers "
          "at each row's label (no one-hot rows; what `nn.functional.cross_entropy` runs for "
          "plain labels): per row the numbers of `cross_entropy` against one-hot rows, and "
          "where a logit is -inf after the shift the gather stays finite (0 * -inf was nan).")
    rng = np.random.default_rng(6)
    x, labels = rng.normal(size=(5, 4)) * 10, rng.integers(0, 4, 5)
    rows = autograd.cross_entropy_labels(x, labels, reduction="none").data
    np.testing.assert_array_equal(rows, Tensor(x).cross_entropy(np.eye(4)[labels], "none").data)
    assert nn.functional.cross_entropy(Tensor(x, requires_grad=True), labels).op.name == (
        "cross_entropy_labels")
    huge = np.array([[1.5e308, -1.5e308, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the shift overflows to -inf
        assert np.isnan(Tensor(huge).cross_entropy(np.eye(3)[[0]]).item())
        assert autograd.cross_entropy_labels(huge, np.array([0])).item() == 0.0


def test_fused_losses_empty_batch_against_pytorch():
    torch = pytest.importorskip("torch")
    empty = torch.zeros((0, 3), dtype=torch.float64)
    functional = torch.nn.functional
    for reduction in ("sum", "mean"):
        ours = Tensor(np.zeros((0, 3))).cross_entropy(np.zeros((0, 3)), reduction=reduction)
        theirs = functional.cross_entropy(empty, empty, reduction=reduction)
        np.testing.assert_array_equal(ours.data, theirs.numpy())
        ours = Tensor(np.zeros((0, 3))).bce_with_logits(np.zeros((0, 3)), reduction=reduction)
        theirs = functional.binary_cross_entropy_with_logits(empty, empty, reduction=reduction)
        np.testing.assert_array_equal(ours.data, theirs.numpy())


def test_comparisons_give_numpy_bool_arrays():
    claim("Comparisons (`==`, `!=`, `<`, `<=`, `>`, `>=`) work elementwise with broadcasting and "
          "return a **numpy bool array**, not a Tensor",
          "It has no gradient and works as a mask in arithmetic (`x * (x > 0)`), as an index "
          "(`x[x > 0]`), in `np.where`, and in `if` for a single element. Tensors stay hashable "
          "by identity. A Tensor cannot itself be an index")
    x = Tensor([-1.0, 0.5, 2.0], requires_grad=True)
    column = Tensor([[0.5], [1.0]])
    for compare in (np.equal, np.not_equal, np.less, np.less_equal, np.greater,
                    np.greater_equal):
        for result, expected in [(compare(x, column), compare(x.data, column.data)),
                                 (compare(x, 0.5), compare(x.data, 0.5)),
                                 (compare(0.5, x), compare(0.5, x.data))]:
            assert isinstance(result, np.ndarray) and result.dtype == bool
            np.testing.assert_array_equal(result, expected)
    assert isinstance(x > 0, np.ndarray) and (x < column).shape == (2, 3)
    (x * (x > 0)).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])
    x.grad = None
    x[x > 0].sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0])
    assert isinstance(np.where(x > 0, x, 0.0), Tensor)
    assert (Tensor([2.0]) > 1) and not (Tensor(2.0) < 1)
    with pytest.raises(ValueError):
        bool(x > 0)
    twin = Tensor([-1.0, 0.5, 2.0])
    assert {x: "x", twin: "twin"}[x] == "x" and hash(x) != hash(twin)
    for index in (Tensor([0.0, 1.0]), Tensor(1.0)):
        with pytest.raises(TypeError, match="cannot be an index"):
            x[index]


def test_in_place_operators():
    claim("In-place operators `+=`, `-=`, `*=`, `/=` write into the tensor's own array",
          "Under `no_grad()` they are how you update parameters by hand (`with no_grad(): p -= "
          "lr * p.grad`); while gradients are recorded they refuse a leaf that requires grad "
          "(that update belongs in `no_grad()`), and on any other tensor they are recorded as a "
          "node, so gradients through them stay right.")
    t = Tensor([1.0, 2.0])
    array = t.data
    for update, operand, expected in [(operator.iadd, 1.0, [2.0, 3.0]),
                                      (operator.isub, 0.5, [1.5, 2.5]),
                                      (operator.imul, 2.0, [3.0, 5.0]),
                                      (operator.itruediv, 2.0, [1.5, 2.5])]:
        assert update(t, operand) is t and t.data is array
        np.testing.assert_array_equal(t.data, expected)
    p = Tensor([1.0, 2.0], requires_grad=True)
    p.grad = np.array([1.0, -1.0])
    array = p.data
    with no_grad():
        p -= 0.5 * p.grad
    assert p.data is array and p.is_leaf
    np.testing.assert_array_equal(p.data, [0.5, 2.5])
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        p += 1.0
    # Recorded on an intermediate, also with itself as the operand (that one made a cycle in
    # the graph, and backward() never returned): h = 2p, then h op= h.
    for update, grad in [(operator.iadd, 4.0), (operator.isub, 0.0), (operator.imul, 8 * p.data),
                         (operator.itruediv, 0.0)]:
        p.grad = None
        h = p * 2.0
        assert update(h, h) is h
        assert h.op is not None and all(parent is not h for parent in h.parents)
        h.sum().backward()
        np.testing.assert_allclose(p.grad, np.broadcast_to(grad, (2,)), rtol=1e-15)
    p.grad = None
    h = p * 2.0
    h *= 3.0
    h.sum().backward()
    np.testing.assert_array_equal(p.grad, [6.0, 6.0])


# Nodes recorded from a tensor before an in-place op on it were computed from its old value:
# their gradient must not flow through the new node. PyTorch gives dp = [6, 6] for both.
USED_BEFORE = """
import sys
from autograd import Tensor
p = Tensor([0.5, 2.5], requires_grad=True)
h = p * 2.0
if sys.argv[1] == "consumer":
    z = h * 3.0
    h *= 3.0  # z = 3 * (2p): dz/dp = 6, not the 18 of a gradient routed through h's new node
else:
    z = h
    h += h * 2.0  # z = 2p + 4p: the operand's own graph reaches h
try:
    z.sum().backward()
except RuntimeError as err:
    print("refused:", err)
else:
    print("grad:", p.grad.tolist())
"""


@pytest.mark.parametrize("case", ["consumer", "operand"])
def test_in_place_on_a_used_tensor_is_refused_or_right(case):
    # In a subprocess: a cycle in the graph made backward() loop forever.
    proc = subprocess.run([sys.executable, "-c", USED_BEFORE, case], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    assert out == "grad: [6.0, 6.0]" or (out.startswith("refused:") and "modified in place"
                                          in out and "multiply" in out), out


def two_layer_step():
    """A 2-3-1 model's loss, whose first layer's gradient reads the second layer's weight."""
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    loss = (model(Tensor([[1.0, -2.0]])) ** 2).sum()
    return model, loss


def test_changed_after_use_is_refused():
    claim("`backward()` raises a clear error when an array that a recorded node needs was "
          "changed in place after the node was made, naming the op and the shape",
          "the in-place operators, the optimizers' `step()`, `load_state_dict`, `Module.load`, "
          "`nn.utils.vector_to_parameters` and `t.mark_modified()`. It does not see a direct "
          "write into `t.data` (call `t.mark_modified()` after one), nor a write through a "
          "`detach()`ed copy, which shares memory.")
    # the op and the shape, in either order
    refused = r"(?s)linear.*\(3, 1\)|\(3, 1\).*linear"
    changes = {
        "step": lambda m: nn.optim.SGD(m.parameters(), lr=0.1).step(),
        "load_state_dict": lambda m: m.load_state_dict(m.state_dict()),
        "vector_to_parameters": lambda m: nn.utils.vector_to_parameters(
            nn.utils.parameters_to_vector(m.parameters()), m.parameters()),
    }
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.npz")
        changes["Module.load"] = lambda m: (m.save(path), m.load(path))
        for change in changes.values():
            model, loss = two_layer_step()
            loss.backward()  # gradients for step() to use
            loss = (model(Tensor([[1.0, -2.0]])) ** 2).sum()
            change(model)
            with pytest.raises(RuntimeError, match=refused):
                loss.backward()

    def product():
        a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
        return a, b, a * b  # a's gradient reads b

    a, b, c = product()
    with no_grad():
        b += 1.0
    with pytest.raises(RuntimeError, match=r"(?s)multiply.*\(2,\)|\(2,\).*multiply"):
        c.sum().backward()
    a, b, c = product()
    b.data[0] = 9.0  # not seen ...
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, [9.0, 4.0])  # ... the changed value is used
    a, b, c = product()
    b.data[0] = 9.0
    b.mark_modified()
    with pytest.raises(RuntimeError, match="multiply"):
        c.sum().backward()
    a, b, c = product()
    view = b.detach()
    view += 1.0  # writes into b's memory, unseen
    assert np.shares_memory(view.data, b.data)
    c.sum().backward()
    np.testing.assert_array_equal(a.grad, [4.0, 5.0])

    claim("Only arrays that a gradient still to be computed reads are checked (each op row "
          "declares what its rules read): `d += 3 * d + d.relu()` on an intermediate runs, as in "
          "PyTorch and micrograd, since `3 * d` needs only the 3 for d's gradient; nodes "
          "recorded before an in-place op on an intermediate use its old value.")
    a = Tensor([2.0, -1.0], requires_grad=True)
    d = a * 1.5
    before = d * d  # recorded before the in-place op: uses the old d
    d += 3 * d + d.relu()  # d = 4 d0 + relu(d0), d0 = 1.5 a
    (d + before).sum().backward()
    d0 = 1.5 * a.data
    np.testing.assert_allclose(a.grad, 1.5 * (4 + (d0 > 0)) + 2 * d0 * 1.5)


def test_one_element_tensors_convert_like_numbers():
    claim("One-element tensors convert like numbers: `float(t)`, `int(t)`, `round(t, 3)`, "
          "`f\"{t:.4f}\"`, `bool(t)`; larger ones raise a clear error (`f\"{t}\"` without a "
          "format spec prints any tensor).")
    for t in (Tensor(2.71828), Tensor([2.71828]), Tensor([[2.71828]])):
        assert (float(t), int(t), round(t, 3), f"{t:.4f}", bool(t)) == \
            (2.71828, 2, 2.718, "2.7183", True)
    assert not bool(Tensor([0.0]))
    two = Tensor([1.0, 2.0])
    for convert in (float, int, lambda t: round(t, 3), lambda t: f"{t:.4f}"):
        with pytest.raises(TypeError, match=r"only a Tensor with one element.*shape \(2,\)"):
            convert(two)
    with pytest.raises(ValueError, match=r"bool\(\).*2 elements \(shape \(2,\)\)"):
        bool(two)
    assert f"{two}" == str(two) == "Tensor([1., 2.])"


def test_astype_takes_float_dtypes_only():
    claim("`astype` accepts float dtypes only (`float32`, `float64`); an integer array without a "
          "gradient is `t.data.astype(int)`.")
    t = Tensor([1.5, -2.5], requires_grad=True)
    assert t.astype(np.float32).dtype == np.float32 and t.astype("float64").dtype == np.float64
    for dtype in (int, np.int32, bool):
        with pytest.raises(TypeError, match=r"t\.data\.astype"):
            t.astype(dtype)
    np.testing.assert_array_equal(t.data.astype(int), [1, -2])


def test_asarray_refuses_a_tensor_that_requires_grad():
    claim("`np.asarray(t)` (and anything numpy converts through it, such as `np.sum([a, b])`) "
          "refuses a tensor that requires grad, as PyTorch does, instead of silently dropping its "
          "graph: write `t.data` for the values. `t.numpy()` and `t.data` hand out the array "
          "without a check.")
    a, b = Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True)
    for convert in (np.asarray, lambda t: np.sum([t, b]), np.array):
        with pytest.raises(TypeError, match=r"drop the graph.*use t\.data"):
            convert(a)
    assert a.numpy() is a.data
    assert np.asarray(Tensor([3.0])).tolist() == [3.0]  # no graph to lose: allowed


def test_std_note_in_the_surface_table():
    row = next(line for line in section("## The Tensor surface").splitlines()
               if line.startswith("| `t.var() std()`"))
    assert "std's gradient is 0 where all values are equal, as in PyTorch" in row
    for ddof in (0, 1):
        x = Tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]], requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            x.std(axis=1, ddof=ddof).sum().backward()
        assert np.array_equal(x.grad[0], [0.0, 0.0, 0.0]) and np.isfinite(x.grad).all()
