"""autograd.shared_constants: one read-only constant Tensor per Python number and dtype.

Shared by every operation that uses the number, it must never change (every way of changing a
tensor refuses on it), drawings must still show one node per use, compiled steps must fold it
as a constant, and the cache must stay bounded.
"""

import copy
import importlib
import pickle

import numpy as np
import pytest

import nn
from autograd import Tensor, draw_graph, explore, no_grad
from autograd import compile as C
from autograd import graph as graph_module
from autograd.shared_constants import SharedNumber

tensor_module = importlib.import_module("autograd.tensor")  # (autograd.tensor: the function)


@pytest.fixture(autouse=True)
def empty_caches(monkeypatch):
    """Each test starts with no number kept (others may have filled the 256 places)."""
    monkeypatch.setattr(tensor_module, "_NUMBERS_64", {})
    monkeypatch.setattr(tensor_module, "_NUMBERS_32", {})


def leaf(values, dtype="float64"):
    return Tensor(np.array(values, dtype), requires_grad=True)


def shared(value=3.0, dtype="float64"):
    return (leaf([1.0, 2.0], dtype) * value).parents[1]


def test_one_shared_constant_per_number_and_dtype():
    x = leaf([1.0, 2.0])
    a, b = (x * 2.5).parents[1], (x + 2.5).parents[1]
    assert type(a) is SharedNumber and a is b and not a.data.flags.writeable
    c = (leaf([1.0], "float32") * 2.5).parents[1]
    assert c is not a and c.dtype == np.float32 and type(c) is SharedNumber
    assert (x * 2.5).parents[1] is shared(2.5)
    assert a.op is None and not a.requires_grad and a.grad is None and a.data.item() == 2.5


@pytest.mark.parametrize("change", [
    lambda c: c.__iadd__(1.0), lambda c: c.__isub__(1.0), lambda c: c.__imul__(2.0),
    lambda c: c.__itruediv__(2.0), lambda c: c.__setitem__((), 1.0), lambda c: c.zero_(),
    lambda c: c.mark_modified(), lambda c: c.requires_grad_(), lambda c: c.retain_grad(),
    lambda c: setattr(c, "data", np.array(1.0)), lambda c: setattr(c, "requires_grad", True),
    lambda c: setattr(c, "grad", np.array(1.0)), lambda c: setattr(c, "op", None),
    lambda c: setattr(c, "parents", ()), lambda c: setattr(c, "version", 5),
    lambda c: delattr(c, "data"), lambda c: setattr(c, "anything", 1),
])
@pytest.mark.parametrize("grad_mode", [True, False])
def test_every_change_is_refused_and_the_number_stays(change, grad_mode):
    c = shared(3.0)
    if grad_mode:
        with pytest.raises(RuntimeError, match="shared by every operation that uses the number"):
            change(c)
    else:
        with no_grad(), pytest.raises(RuntimeError, match="shared by every operation"):
            change(c)
    assert c.data.item() == 3.0 and c.version == 0 and not c.requires_grad and c.op is None
    x = leaf([1.0, 2.0])
    y = x * 3.0
    assert y.parents[1] is c
    np.testing.assert_array_equal(y.data, [3.0, 6.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    c.zero_grad()  # allowed: it never has a gradient to forget


def test_its_array_is_read_only_and_a_module_refuses_it_as_a_buffer():
    c = shared(4.0)
    with pytest.raises(ValueError, match="read-only"):
        c.data[...] = 1.0
    model = nn.Linear(2, 1)
    with pytest.raises(ValueError, match="shared by every operation"):
        model.register_buffer("scale", c)
    assert c.data.item() == 4.0


def test_copies_and_pickles_are_the_shared_constant_itself():
    x = leaf([1.0, 2.0])
    y = x * 6.0
    c = y.parents[1]
    assert copy.copy(c) is c and copy.deepcopy(c) is c and pickle.loads(pickle.dumps(c)) is c
    y2 = copy.deepcopy(y)
    assert y2.parents[1] is c and y2.parents[0] is not x
    np.testing.assert_array_equal(y2.data, y.data)


def test_the_cache_is_bounded_and_every_number_keeps_its_value():
    x = leaf([1.0, -1.0])
    for k in range(1000):
        v = k / 7 + 0.25
        np.testing.assert_array_equal((x * v).data, x.data * v)
    assert len(tensor_module._NUMBERS_64) == 256 and not tensor_module._NUMBERS_32
    for kept in (tensor_module._NUMBERS_64, tensor_module._NUMBERS_32):
        assert all(type(t) is SharedNumber and t.data.item() == v for v, t in kept.items())
    assert type((x * 0.0).parents[1]) is Tensor  # 0 and nan are never kept
    assert type((x * float("nan")).parents[1]) is Tensor


def test_each_use_is_drawn_as_its_own_constant_node():
    x = Tensor([1.0], requires_grad=True, name="x")
    y = x * 2.0 * 2.0 + 2.0
    source = draw_graph(y).source
    assert source.count("value 2") == 3  # three uses of 2.0: three constant nodes
    order = graph_module.walk(y)
    constants = [t for t in order if t.op is None and t is not x]
    assert len(constants) == 3 and len({id(t) for t in constants}) == 3
    assert not any(type(t) is SharedNumber for t in order)
    assert graph_module.walk(y) == order  # the same stand-ins while the graph lives (by id)
    ex = explore(y)
    assert [n["kind"] for n in ex.nodes].count("constant") == 3
    for step in ex.backward:
        assert len({i["node"] for i in step["inputs"]}) == 2  # x's node and the constant's


def make_params(dtype="float64"):
    rng = np.random.default_rng(0)
    return [Tensor(rng.normal(0, 0.5, (3, 2)).astype(dtype), requires_grad=True),
            Tensor(rng.normal(0, 0.1, 2).astype(dtype), requires_grad=True)]


def sgd(params):
    def update():
        with no_grad():
            for p in params:
                p -= 0.1 * p.grad
    return update


def run(params, fn, data, compiled):
    step = C.CompiledStep(fn, params, sgd(params)) if compiled else None
    losses = []
    for x, t in data:
        if compiled:
            losses.append(step(x, t))
        else:
            for p in params:
                p.grad = None
            loss = fn(x, t)
            loss.backward()
            sgd(params)()
            losses.append(loss.item())
    return losses, step


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_compiled_steps_fold_shared_numbers_and_keep_eager_bits(dtype):
    rng = np.random.default_rng(1)
    data = [(rng.normal(size=(4, 3)).astype(dtype), rng.normal(size=(4, 2)).astype(dtype))
            for _ in range(5)]
    outside = (leaf([1.0], dtype) * 0.75).parents[1]  # a shared constant the step reaches
    assert type(outside) is SharedNumber

    def make_fn(params):
        w, b = params

        def fn(x, t):
            h = ((Tensor(x) @ w + b) * 0.5 + 1.5).tanh() * outside
            return ((h - t) ** 2.0).mean() * 2.0
        return fn

    for p in (0.5, 1.5, 2.0):  # the cache holds these numbers before the step is recorded
        leaf([1.0], dtype) * p
    pe, pc = make_params(dtype), make_params(dtype)
    eager, _ = run(pe, make_fn(pe), data, compiled=False)
    compiled, step = run(pc, make_fn(pc), data, compiled=True)
    assert [np.float64(v).tobytes() for v in eager] == [np.float64(v).tobytes() for v in compiled]
    for a, b in zip(pe, pc):
        assert a.data.tobytes() == b.data.tobytes()
    (plan,) = step.plans.values()
    assert isinstance(plan, C._Plan)
    # The guards check the parameters only: every number, the shared one included, is folded.
    assert {id(t) for t, _ in plan.bound} == {id(p) for p in pc}
