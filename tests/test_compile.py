"""autograd.compile: a recorded step replays with the eager step's bits, or runs eagerly.

Every test runs the same steps twice from the same state, eagerly and compiled, and compares
losses, gradients and parameters bit for bit; the fallbacks are asserted with their warnings.
"""

import warnings

import numpy as np
import pytest

from autograd import Tensor, no_grad
from autograd import compile as C


def bits(a):
    a = np.asarray(a)
    return a.shape, a.dtype.str, a.tobytes()


def make_params(dtype="float64", sizes=(4, 6, 3), seed=0):
    rng = np.random.default_rng(seed)
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params.append(Tensor(rng.normal(0, 0.5, (n_in, n_out)).astype(dtype), requires_grad=True))
        params.append(Tensor(rng.normal(0, 0.1, n_out).astype(dtype), requires_grad=True))
    return params


def mlp_loss(params, activation="tanh"):
    def fn(x, t):
        h = x if isinstance(x, Tensor) else Tensor(x)
        for k in range(0, len(params), 2):
            h = h.linear(params[k], params[k + 1])
            if k + 2 < len(params):
                h = getattr(h, activation)()
        return h.cross_entropy(t)
    return fn


def sgd(params, lr=0.1):
    def update():
        with no_grad():
            for p in params:
                p.data -= lr * p.grad
                p.mark_modified()
    return update


def batches(n_steps, dtype="float64", rows=8, features=4, classes=3, seed=1):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_steps):
        x = rng.normal(size=(rows, features)).astype(dtype)
        t = np.eye(classes, dtype=dtype)[rng.integers(0, classes, rows)]
        out.append((x, t))
    return out


def eager_run(make_fn, params, data, update=None):
    fn = make_fn(params)
    update = update(params) if update else None
    losses, grads = [], []
    for inputs in data:
        for p in params:
            p.grad = None
        loss = fn(*inputs)
        loss = loss[0] if isinstance(loss, tuple) else loss
        loss.backward()
        losses.append(loss.item())
        grads.append([None if p.grad is None else p.grad.copy() for p in params])
        if update:
            update()
    return losses, grads


def compiled_run(make_fn, params, data, update=None, **kw):
    step = C.CompiledStep(make_fn(params), params, update(params) if update else None, **kw)
    losses, grads = [], []
    for inputs in data:
        losses.append(step(*inputs))
        grads.append([None if p.grad is None else p.grad.copy() for p in params])
    return losses, grads, step


def assert_same(eager, compiled, p_eager, p_compiled):
    assert [bits(v) for v in eager[0]] == [bits(v) for v in compiled[0]]
    for ge, gc in zip(eager[1], compiled[1]):
        assert [None if g is None else bits(g) for g in ge] == [
            None if g is None else bits(g) for g in gc]
    assert [bits(p.data) for p in p_eager] == [bits(p.data) for p in p_compiled]


def compare(make_fn, data, update=sgd, dtype="float64", sizes=(4, 6, 3), strict=True, **kw):
    """Eager and compiled runs agree; `strict`: and the compiled one never ran eagerly."""
    pe, pc = make_params(dtype, sizes), make_params(dtype, sizes)
    eager = eager_run(make_fn, pe, data, update)
    with warnings.catch_warnings():
        if strict:
            warnings.simplefilter("error", C.CompileWarning)
        *compiled, step = compiled_run(make_fn, pc, data, update, **kw)
    assert_same(eager, compiled, pe, pc)
    return step


# ---------------------------------------------------------------- equality and plans
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_100_steps_are_bit_identical_to_eager(dtype, activation):
    step = compare(lambda p: mlp_loss(p, activation), batches(100, dtype), dtype=dtype)
    (plan,) = step.plans.values()
    assert isinstance(plan, C._Plan)


def test_a_plan_is_reused_for_the_same_signature_and_fn_runs_only_when_recording():
    calls = []
    params = make_params()
    fn = mlp_loss(params)
    step = C.CompiledStep(lambda x, t: calls.append(1) or fn(x, t), params, sgd(params))
    for x, t in batches(20):
        step(x, t)
    assert len(calls) == 1 and len(step.plans) == 1


def test_a_new_shape_or_dtype_records_a_new_plan_with_eager_bits():
    data = batches(3) + batches(3, rows=5) + [
        (x.astype(np.float32), t) for x, t in batches(3)] + batches(3)
    step = compare(mlp_loss, data)
    assert len(step.plans) == 3
    assert all(isinstance(p, C._Plan) for p in step.plans.values())


def test_strides_are_part_of_the_signature():
    data = [(x, t) for x, t in batches(3)] + [(np.asfortranarray(x), t) for x, t in batches(3)]
    assert len(compare(mlp_loss, data).plans) == 2


def test_ops_without_fast_kernels_replay_through_their_own_functions():
    def make(params):
        w1, b1, w2, b2 = params

        def fn(x, t):
            h = (Tensor(x) @ w1 + b1.reshape(1, -1)).sigmoid()  # matmul, add with broadcasting
            h = h * h.max(axis=1, keepdims=True) - h.exp() / 3.0 + h.abs().sqrt()
            z = h.linear(w2, b2).softmax(axis=-1).log()
            z = z[:, ::-1].T.transpose() + (w1 * w1).mean()  # getitem, transposes, a reused w1
            loss = -(z * t).sum() / len(x) + z.logsumexp(axis=1).mean() ** 2
            return loss + (b2.clip(-0.05, 0.05) - 1).astype(np.float32).sum()
        return fn
    compare(make, batches(6))


def test_float32_data_against_float64_parameters_and_size_one_batches():
    def make(params):
        w1, b1, w2, b2 = params
        return lambda x, t: (Tensor(x).astype(np.float64).linear(w1, b1).relu() @ w2
                             + b2).cross_entropy(t, reduction="sum")
    data = [(x.astype(np.float32), t) for x, t in batches(4, rows=1)]
    compare(make, data)


def test_an_empty_batch_replays_like_eager():
    data = batches(3, rows=0)
    compare(lambda p: lambda x, t: mlp_loss(p)(x, t) * 1.0, data)


def test_a_parameter_used_twice_and_a_bias_broadcast_over_rows_sum_like_backward():
    def make(params):
        w1, b1, w2, b2 = params
        def fn(x, t):
            x = Tensor(x)
            z = (x @ w1 + b1).tanh() @ w2 + b2 + (x @ w1).mean() * b2
            return z.bce_with_logits(t, reduction="sum")
        return fn
    compare(make, batches(5))


def test_a_leaf_outside_params_accumulates_its_grad_across_steps_as_eager():
    scale_e = Tensor(np.array(1.5), requires_grad=True)
    scale_c = Tensor(np.array(1.5), requires_grad=True)

    def make(scale):
        return lambda params: lambda x, t: mlp_loss(params)(x, t) * scale
    data = batches(5)
    pe, pc = make_params(), make_params()
    eager = eager_run(make(scale_e), pe, data, sgd)
    *compiled, _ = compiled_run(make(scale_c), pc, data, sgd)
    assert_same(eager, compiled, pe, pc)
    assert bits(scale_e.grad) == bits(scale_c.grad)


def test_outputs_hold_the_extra_tensors_fn_returns():
    params = make_params()

    def fn(x, t):
        z = (Tensor(x).linear(params[0], params[1]).tanh()).linear(params[2], params[3])
        return z.cross_entropy(t), z
    step = C.CompiledStep(fn, params)
    for x, t in batches(3):
        step(x, t)
        assert bits(step.outputs[0]) == bits(fn(x, t)[1].data)


def test_grad_buffers_are_reused_between_steps():
    params = make_params()
    step = C.CompiledStep(mlp_loss(params), params, sgd(params))
    data = batches(3)
    step(*data[0])
    step(*data[1])
    first = params[0].grad
    step(*data[2])
    assert params[0].grad is first  # documented: copy p.grad to keep it past the next step


def test_the_update_marks_parameters_modified_so_old_graphs_refuse_backward():
    params = make_params()
    step = C.CompiledStep(mlp_loss(params), params, C.RuleUpdate(_Opt(params, lr=0.1)))
    data = batches(4)
    for x, t in data[:3]:
        step(x, t)
    old = mlp_loss(params)(*data[3])
    step(*data[3])
    with pytest.raises(RuntimeError, match="modified in place"):
        old.backward()


def test_errors_are_the_eager_ones():
    params = make_params()
    step = C.CompiledStep(mlp_loss(params), params)
    x, t = batches(1)[0]
    with pytest.raises(ValueError, match="linear"):
        step(x[:, :3], t)
    with no_grad(), pytest.raises(RuntimeError, match="does not require grad"):
        step(x, t)
    step = C.CompiledStep(lambda x: x * params[0], params)
    with pytest.raises(RuntimeError, match="not a scalar"):
        step(np.ones((4, 6)))


def test_skip_nonfinite_returns_the_loss_without_an_update():
    params = make_params()
    before = [p.data.copy() for p in params]
    step = C.CompiledStep(lambda x, t: mlp_loss(params)(x, t) * np.inf, params, sgd(params),
                          skip_nonfinite=True)
    with np.errstate(invalid="ignore"):  # inf * 0 in the gradients, as eager computes them
        for x, t in batches(3):
            assert step(x, t) == np.inf
    assert all(np.array_equal(p.data, b) for p, b in zip(params, before))


# ---------------------------------------------------------------- optimizer updates
def _Opt(params, kind="sgd", lr=0.1, **options):  # noqa: N802 - stands for either class
    """nn.optim's SGD or Adam: optimizers that state their updates as rules."""
    import nn
    return (nn.optim.Adam if kind == "adam" else nn.optim.SGD)(params, lr=lr, **options)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("config", [
    dict(), dict(weight_decay=0.01), dict(momentum=0.9), dict(momentum=0.9, nesterov=True),
    dict(momentum=0.5, nesterov=True, weight_decay=0.1), dict(kind="adam"),
    dict(kind="adam", weight_decay=0.01),
    dict(kind="adam", weight_decay=0.1, decoupled_weight_decay=True),
    dict(kind="adam", decoupled_weight_decay=True, betas=(0.5, 0.6), eps=1e-3)], ids=repr)
@pytest.mark.parametrize("flat", [False, True])
def test_generated_updates_match_the_optimizer_step_bit_for_bit(dtype, config, flat):
    data = batches(30, dtype)
    pe, pc = make_params(dtype), make_params(dtype)
    oe, oc = _Opt(pe, **config), _Opt(pc, **config)
    eager = eager_run(mlp_loss, pe, data, lambda _: oe.step)
    update = C.RuleUpdate(oc, flat=flat)
    *compiled, step = compiled_run(mlp_loss, pc, data, lambda _: update)
    assert_same(eager, compiled, pe, pc)
    for name in ("m", "v", "buffers"):
        assert [None if b is None else bits(b) for b in getattr(oe, name, ())] == [
            None if b is None else bits(b) for b in getattr(oc, name, ())]
    assert getattr(oe, "steps", None) == getattr(oc, "steps", None)
    (plan,) = step.plans.values()
    assert [entry[0] is not None for entry in plan.updates.values()] == [True]


def test_hyperparameters_are_read_at_every_step():
    data = batches(10)
    pe, pc = make_params(), make_params()
    oe, oc = _Opt(pe), _Opt(pc)

    def change(i, opt):
        opt.lr = 0.1 / (i + 1)
        opt.momentum = 0.9 if i >= 5 else 0.0  # a new variant from step 5 on

    updates_side_by_side(pe, pc, oe, C.RuleUpdate(oc, flat=True), oc, data, change)


def updates_side_by_side(pe, pc, oe, update, oc, data, change):
    """Eager steps of `oe` on pe and compiled steps with `update` (of `oc`) on pc, calling
    change(i, opt) on both optimizers before step i; the parameters keep the same bits."""
    step = C.CompiledStep(mlp_loss(pc), pc, update)
    fn = mlp_loss(pe)
    for i, (x, t) in enumerate(data):
        change(i, oe)
        change(i, oc)
        for p in pe:
            p.grad = None
        fn(x, t).backward()
        oe.step()
        step(x, t)
    assert [bits(p.data) for p in pe] == [bits(p.data) for p in pc]


def test_flatten_moves_parameters_into_one_array_once():
    params = make_params()
    values = [p.data.copy() for p in params]
    group = C.flatten(params)
    assert all(np.shares_memory(p.data, group.flat) for p in params)
    assert all(np.array_equal(p.data, v) for p, v in zip(params, values))
    assert C.flatten(params) is group  # the same parameters again: the same group
    assert C.flatten(params[:2]) is None  # parameters of another group stay where they are
    assert C.flatten([Tensor(np.zeros(2), requires_grad=True),
                      Tensor(np.zeros(2, np.float32), requires_grad=True)]) is None


def test_two_steps_over_the_same_parameters_do_not_fight_over_them():
    calls = []
    params = make_params()
    opt = _Opt(params)
    fn = mlp_loss(params)
    steps = [C.CompiledStep(lambda x, t: calls.append(1) or fn(x, t), params,
                            C.RuleUpdate(opt, flat=True)) for _ in range(2)]
    for i, (x, t) in enumerate(batches(10)):
        steps[i % 2](x, t)
    assert len(calls) == 2  # one recording each, no re-recording
