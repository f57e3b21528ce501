"""autograd/compile/function.py through `transforms.value_and_grad(f, compile=True)`: compiled
results have the eager bits on many values (the examples' functions, trees, numbers, float32,
new shapes), and everything a replay cannot prove the same runs eagerly with its reason.
"""

import functools
import importlib.util
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Tensor, detect_anomaly
from autograd.compile import CompileWarning
from autograd.compile import function as compiled_function
from autograd.scipy.linalg import cho_solve
from autograd.transforms import grad, value_and_grad

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def same(a, b):
    """Bit for bit, with the same types, in trees of results."""
    assert type(a) is type(b)
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            same(x, y)
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            same(a[k], b[k])
    elif isinstance(a, Tensor):
        same(a.data, b.data)
    else:
        a, b = np.asarray(a), np.asarray(b)
        assert a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def both(f, **kw):
    """f's eager and compiled value_and_grad."""
    return value_and_grad(f, **kw), value_and_grad(f, compile=True, **kw)


def run_many(f, draw, n=12, **kw):
    """Call eager and compiled at n drawn argument tuples; assert the same bits every time."""
    eager, fast = both(f, **kw)
    rng = np.random.default_rng(0)
    for _ in range(n):
        args = draw(rng)
        same(fast(*args), eager(*args))
    return fast


# ---------------------------------------------------------------- the examples' functions
@pytest.fixture(scope="module")
def gp():
    sys.path.insert(0, str(EXAMPLES))
    try:
        spec = importlib.util.spec_from_file_location("gp_example", EXAMPLES /
                                                      "gaussian_process.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(EXAMPLES))
    return module


def test_the_gaussian_process_likelihood_replays_with_the_eager_bits(gp):
    x, y = gp.make_data(40, np.random.default_rng(1))
    f = run_many(lambda p: gp.negative_log_marginal_likelihood(p, x, y),
                 lambda rng: (rng.normal(size=3) * 0.5,), n=15)
    assert f.compiled and f.eager_reason is None


def test_a_closure_array_changed_in_place_records_again_with_the_new_values(gp):
    x, y = gp.make_data(20, np.random.default_rng(2))
    y = y.copy()
    eager, fast = both(lambda p: gp.negative_log_marginal_likelihood(p, x, y))
    params = [np.array([0.1, 0.2, -1.0]), np.array([0.3, 0.1, -2.0]), np.array([0.0, 0.5, -1.5])]
    for p in params * 2:
        same(fast(p), eager(p))
    assert fast.compiled
    y[0] += 1.0  # eager reads the new y: the frozen copy must not be used
    same(fast(params[0]), eager(params[0]))
    for p in params * 2:
        same(fast(p), eager(p))
    assert fast.compiled
    for k in range(compiled_function.MAX_RECORDINGS + 1):  # a closure that keeps changing
        y[1] += 1.0
        same(fast(params[k % 3]), eager(params[k % 3]))
    assert not fast.compiled and "keep changing between calls" in fast.eager_reason


def test_a_global_number_the_function_reads_is_watched(monkeypatch, gp):
    x, y = gp.make_data(10, np.random.default_rng(3))
    # followed through the partial into the example's function, which reads JITTER
    eager, fast = both(functools.partial(gp.negative_log_marginal_likelihood, x=x, y=y))
    p = [np.array([0.1, 0.2, -1.0]), np.array([0.2, 0.1, -1.5]), np.array([0.3, 0.0, -2.0])]
    for q in p * 2:
        fast(q)
    monkeypatch.setattr(gp, "JITTER", 1e-3)  # read by negative_log_marginal_likelihood
    same(fast(p[0]), eager(p[0]))


def test_module_attributes_and_object_attributes_the_function_reads_are_watched(monkeypatch, gp):
    data = types.SimpleNamespace(x=np.linspace(-2, 2, 12), y=np.sin(np.linspace(-2, 2, 12)))
    eager, fast = both(lambda p: gp.negative_log_marginal_likelihood(p, data.x, data.y))
    p = [np.array([0.1, 0.2, -1.0]), np.array([0.2, 0.1, -1.5]), np.array([0.3, 0.0, -2.0])]
    for q in p * 2:
        fast(q)
    assert fast.compiled
    data.y[3] = 5.0  # an object's array, changed in place
    same(fast(p[0]), eager(p[0]))
    for q in p * 2:
        fast(q)
    monkeypatch.setattr(gp, "JITTER", 1e-2)  # a module's global, read through gp.
    same(fast(p[1]), eager(p[1]))


# ---------------------------------------------------------------- arguments and results
def tree_loss(params, data, scale=1.0):
    w, extra = params["w"], params["extra"]
    h = np.tanh(data @ w[0] + w[1])
    return scale * (np.sum(h**2) + extra[0] * np.sum(h) + extra[1] ** 2)


def test_nested_tuple_and_dict_arguments_numbers_and_keywords():
    data = np.random.default_rng(5).normal(size=(6, 3))

    def draw(rng):
        params = {"w": (rng.normal(size=(3, 4)), rng.normal(size=4)),
                  "extra": [rng.normal(), float(rng.normal())]}
        return params, data
    f = run_many(tree_loss, draw)
    assert f.compiled
    eager, fast = both(tree_loss)
    for scale in (1.0, 2.0, 2.0, 2.0, 1.0):  # a keyword is part of the signature
        args = draw(np.random.default_rng(int(scale)))
        same(fast(*args, scale=scale), eager(*args, scale=scale))


def test_several_argnums_tensors_and_python_numbers_give_eager_types():
    def f(a, b, c):
        return (a * b).sum() + c**3

    def draw(rng):
        return rng.normal(size=(2, 3)), Tensor(rng.normal(size=3)), float(rng.normal())
    run_many(f, draw, argnum=(0, 1, 2))
    run_many(f, draw, argnum=2)
    run_many(f, lambda rng: (rng.normal(size=3), rng.normal(size=3), 2), argnum=(2, 0))


def test_grad_shares_the_compiled_calls():
    g_eager, g_fast = grad(tree_loss), grad(tree_loss, compile=True)
    data = np.ones((2, 3))
    for k in range(5):
        params = {"w": (np.full((3, 4), 0.1 * k), np.arange(4.0)), "extra": [1.0, k]}
        same(g_fast(params, data), g_eager(params, data))
    assert g_fast.compiled and g_eager.eager_reason == "compile=False"


def test_float32_arguments_keep_float32_bits():
    def f(w, x):
        return np.log(np.sum(np.exp(x @ w))) + np.mean(w * w)
    x = np.random.default_rng(6).normal(size=(5, 3)).astype(np.float32)
    fast = run_many(f, lambda rng: (rng.normal(size=(3, 2)).astype(np.float32), x))
    value, g = fast(np.ones((3, 2), np.float32), x)
    assert value.dtype == np.float32 and g.dtype == np.float32 and fast.compiled


def test_a_new_shape_records_a_second_plan_and_both_replay():
    def f(w):
        return np.sum(np.sin(w) * w)
    eager, fast = both(f)
    rng = np.random.default_rng(7)
    for _ in range(6):
        for shape in ((3,), (2, 2), ()):
            w = rng.normal(size=shape)
            same(fast(w), eager(w))
    assert fast.compiled and len(fast_entries(fast)) == 3


def fast_entries(f):
    return {k: v for k, v in f._runs.calls.entries.items() if not isinstance(v, str)}


@settings(max_examples=25, deadline=None)
@given(rows=st.integers(0, 4), cols=st.integers(1, 3), seed=st.integers(0, 2**16),
       scale=st.sampled_from([1e-30, 1.0, 1e30]))
def test_property_compiled_equals_eager_on_drawn_shapes_and_values(rows, cols, seed, scale):
    def f(w, b):
        z = data @ w + b
        return np.sum(np.maximum(z, 0.0) ** 2) + np.sum(np.abs(b))
    data = np.random.default_rng(seed).normal(size=(rows, cols))
    eager, fast = both(f, argnum=(0, 1))
    rng = np.random.default_rng(seed + 1)
    for _ in range(4):
        w, b = rng.normal(size=(cols, 2)) * scale, np.zeros(2) if _ % 2 else rng.normal(size=2)
        same(fast(w, b), eager(w, b))


# ---------------------------------------------------------------- what runs eagerly, and why
def reason_of(f, args_list, match):
    """Call the compiled f at each args (eager bits), then assert its last reason."""
    eager, fast = both(f)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for args in args_list:
            same(fast(*args), eager(*args))
    assert not fast.compiled and match in fast.eager_reason
    assert any(issubclass(w.category, CompileWarning) and match in str(w.message)
               for w in caught)
    return fast


POINTS = [(np.array([0.5, -1.0, 2.0]),), (np.array([1.5, -0.5, 1.0]),),
          (np.array([-0.5, 1.0, 3.0]),), (np.array([2.5, 0.5, -1.0]),)]


def test_a_number_read_from_a_tensor_runs_eagerly():
    def f(w):
        return np.sum(w**2) * float(np.sum(w))
    reason_of(f, POINTS, "a Python number is read from a tensor")


def test_a_comparison_feeding_python_control_flow_runs_eagerly():
    def f(w):
        return np.sum(w**2) if w[0] > 0 else np.sum(w**3)
    reason_of(f, POINTS, "a Python number is read from a tensor")


def test_numpy_code_on_the_values_of_an_argument_runs_eagerly_once_the_values_change():
    def f(w):
        return np.sum(w * np.sign(w.data))  # .data: numpy sees the values, not the graph
    reason_of(f, POINTS, "its replay differs from an eager run of the same call")


def test_a_view_of_an_arguments_data_runs_eagerly():
    def f(w):
        return np.sum(w * w.data[::-1])
    reason_of(f, POINTS, "shares memory with a differentiated argument")


@pytest.mark.parametrize("draw", ["global", "generator"])
def test_random_draws_at_the_same_values_are_never_replayed(draw):
    # A recorded draw replayed at the same argument values gave the first call's draws again.
    def make():
        rng = np.random.default_rng(0)

        def f(w):
            noise = np.random.standard_normal(w.shape) if draw == "global" else rng.normal(
                size=w.shape)
            return np.sum((w + noise) ** 2)
        return f
    w = np.ones(3)
    np.random.seed(0)
    eager = value_and_grad(make())
    expected = [eager(w) for _ in range(5)]
    np.random.seed(0)
    fast = value_and_grad(make(), compile=True)
    with pytest.warns(CompileWarning, match="differs from an eager run of the same call"):
        got = [fast(w) for _ in range(5)]
    for a, b in zip(got, expected):
        same(a, b)
    assert len({float(v) for v, _ in got}) == 5 and not fast.compiled


def test_random_draws_run_eagerly():
    def make():
        rng = np.random.default_rng(0)

        def f(w):
            return np.sum(w * rng.normal(size=w.shape))
        return f
    eager, fast = value_and_grad(make()), value_and_grad(make(), compile=True)
    with pytest.warns(CompileWarning, match="differs from an eager run"):
        for (w,) in POINTS:
            same(fast(w), eager(w))
    assert not fast.compiled


def test_an_argument_that_requires_grad_runs_eagerly():
    w = Tensor([1.0, 2.0], requires_grad=True)
    fast = value_and_grad(lambda v: (v * v).sum(), compile=True)
    with pytest.warns(CompileWarning, match="requires grad \\(a transform inside another\\)"):
        value, g = fast(w)
    np.testing.assert_array_equal(g.data, [2.0, 4.0])
    assert not fast.compiled


def test_a_closure_parameter_that_requires_grad_runs_eagerly_and_keeps_its_grad():
    scale = Tensor([2.0], requires_grad=True)
    reason_of(lambda w: (w * scale).sum(), POINTS,
              "depends on a tensor of shape (1,) that requires grad")
    assert scale.grad is None


def test_a_result_that_does_not_depend_on_the_arguments_runs_eagerly():
    reason_of(lambda w: np.sum(np.ones(3)), POINTS, "does not depend on the differentiated")


def test_an_argument_of_another_kind_runs_eagerly_by_identity_until_too_many_signatures():
    def f(w, box):
        return np.sum(w * box.scale)

    class Box:
        scale = 2.0
    boxes = [Box() for _ in range(compiled_function.MAX_PLANS + 1)]
    eager, fast = both(f)
    with pytest.warns(CompileWarning, match="more than 16 argument signatures"):
        for box in boxes:
            same(fast(POINTS[0][0], box), eager(POINTS[0][0], box))
    assert "more than 16" in fast.eager_reason


def test_another_watcher_runs_the_call_eagerly():
    fast = value_and_grad(lambda w: np.sum(w**2), compile=True)
    for (w,) in POINTS:
        fast(w)
    assert fast.compiled
    with detect_anomaly(), pytest.warns(CompileWarning, match="another tool watches"):
        fast(POINTS[0][0])
    assert not fast.compiled
    fast(POINTS[1][0])
    assert fast.compiled


def test_errors_are_the_eager_ones():
    fast = value_and_grad(lambda w: w * 2, compile=True)
    with pytest.raises(TypeError, match="value_and_grad: the function must return one number"):
        fast(np.ones(3))
    with pytest.raises(IndexError, match="argnum 3"):
        value_and_grad(lambda w: w, argnum=3, compile=True)(1.0)


def test_the_gp_solves_replay_through_the_op_rows(gp):
    # cholesky and the triangular solves of cho_solve have no fast kernel: the generic kernels
    # (each op's own forward and VJPs) carry them.
    x = np.linspace(-1, 1, 8)

    def f(p):
        cov = np.exp(p[0]) * np.exp(-0.5 * (x[:, None] - x[None, :]) ** 2) + np.eye(8)
        factor = np.linalg.cholesky(cov)
        return np.sum(cho_solve((factor, True), x)) + np.sum(np.linalg.solve(cov, x))
    fast = run_many(f, lambda rng: (rng.normal(size=1),))
    assert fast.compiled


def test_a_number_argument_records_per_value_telling_minus_zero_from_zero():
    def f(w, c):
        return np.sum(w * np.copysign(1.0, c))  # -1 for c = -0.0
    eager, fast = both(f)
    w = np.array([1.0, 2.0])
    for k, c in enumerate((0.0, -0.0, 2.0, 2) * 4):
        same(fast(w + k, c), eager(w + k, c))
    assert fast.compiled and len(fast_entries(fast)) == 4


def test_in_place_operators_on_tensors_of_the_function_replay_through_the_moved_nodes():
    def f(w):
        h = np.tanh(w) * 2.0
        before = (h * h).sum()  # uses h's first node
        h -= w  # h moves on to a subtract node; `before` keeps the old one
        h *= h
        return before + h.sum() + (h * w).sum()
    fast = run_many(f, lambda rng: (rng.normal(size=(2, 3)),))
    assert fast.compiled


def test_an_argument_not_differentiated_that_requires_grad_runs_eagerly():
    scale = Tensor([2.0], requires_grad=True)
    fast = value_and_grad(lambda w, s: (w * s).sum(), compile=True)
    with pytest.warns(CompileWarning, match="not differentiated is a Tensor of shape \\(1,\\)"):
        value, g = fast(np.ones(2), scale)
    np.testing.assert_array_equal(g.data, [2.0, 2.0])  # a Tensor: scale's graph reaches it
    assert scale.grad is None and not fast.compiled


def test_a_leaf_made_inside_the_function_and_retain_grad_run_eagerly():
    def leaf_inside(w):
        return (w * Tensor([1.0, 2.0, 3.0], requires_grad=True)).sum()
    reason_of(leaf_inside, POINTS, "depends on a tensor of shape (3,) that requires grad other")

    def retains(w):
        h = (w * 2.0).retain_grad()
        return h.sum()
    reason_of(retains, POINTS, "retain_grad() on a tensor inside the step")


def test_a_plan_that_fails_or_differs_runs_eagerly_and_asks_for_a_report(monkeypatch):
    def f(w):
        return np.sum(np.exp(w))
    monkeypatch.setattr(compiled_function._FrozenPlan, "check", lambda self, trace: False)
    reason_of(f, POINTS, "its replay differs from the eager run (please report this)")

    def broken(self, *args):
        raise KeyError("boom")
    monkeypatch.setattr(compiled_function._FrozenPlan, "__init__", broken)
    reason_of(f, POINTS, "planning failed (KeyError: 'boom'; please report this)")


def test_watched_arrays_compare_bit_for_bit_without_copies():
    same_array = compiled_function._same_array
    a = np.array([0.0, np.nan, 1.0])
    assert same_array(a, a.copy())  # a nan equals itself, bit for bit
    assert not same_array(a, np.array([-0.0, np.nan, 1.0]))
    assert not same_array(a, a.astype(np.float32)) and not same_array(a, a[:2])
    strided = np.arange(12.0).reshape(3, 4)[:, ::2]
    assert same_array(strided, strided.copy())
    assert not same_array(strided, strided + 1)
    c = np.array([1 + 2j, 3j])
    assert same_array(c, c.copy()) and not same_array(c, c.conj())
