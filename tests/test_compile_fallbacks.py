"""autograd.compile, what does not replay as it is: steps that run eagerly (with the warning that
says why), arrays replayed by what made them, frozen parameters, and kernels at edge values.
Each compares the eager and compiled runs bit for bit, as tests/test_compile.py does.
"""

import warnings

import numpy as np
import pytest
from test_compile import (
    _Opt,
    assert_same,
    batches,
    bits,
    compare,
    compiled_run,
    eager_run,
    make_params,
    mlp_loss,
    sgd,
    updates_side_by_side,
)

from autograd import Tensor, engine, no_grad, ops, where
from autograd import compile as C


# ---------------------------------------------------------------- fallbacks
def eager_with_warning(make_fn, data, match, update=sgd):
    with pytest.warns(C.CompileWarning, match=match):
        step = compare(make_fn, data, update, strict=False)
    return step


def test_retain_grad_inside_the_step_runs_eagerly():
    def make(params):
        def fn(x, t):
            h = Tensor(x).linear(params[0], params[1]).retain_grad()
            return h.tanh().linear(params[2], params[3]).cross_entropy(t)
        return fn
    step = eager_with_warning(make, batches(3), "retain_grad")
    assert list(step.plans.values()) == [step.plans[next(iter(step.plans))]]
    assert isinstance(next(iter(step.plans.values())), str)


def test_a_leaf_that_requires_grad_made_inside_the_step_runs_eagerly():
    def make(params):
        return lambda x, t: mlp_loss(params)(x, t) * Tensor(2.0, requires_grad=True)
    eager_with_warning(make, batches(3), "created inside the step")


def test_an_array_made_from_the_data_inside_the_step_runs_eagerly():
    def make(params):
        return lambda x, t: mlp_loss(params)(Tensor(x * 2), t)
    eager_with_warning(make, batches(4), "by numpy code, not by Tensor operations")


def test_a_view_of_an_input_made_inside_the_step_runs_eagerly():
    def make(params):
        return lambda x, t: mlp_loss(params)(Tensor(x[:, ::-1]), t)
    eager_with_warning(make, batches(3), "shares memory with an input")


def test_random_numbers_inside_the_step_run_eagerly_even_with_the_same_inputs():
    rngs = [np.random.default_rng(5), np.random.default_rng(5)]

    def make(params):
        rng = rngs.pop(0)
        return lambda x, t: mlp_loss(params)(x * (rng.random(x.shape) > 0.5), t)
    x, t = batches(1)[0]
    eager_with_warning(make, [(x, t)] * 4, "random numbers")


def test_python_numbers_made_into_arrays_inside_the_step_replay_as_constants():
    calls = []

    def make(params):
        def fn(x, t):
            calls.append(1)
            scale = Tensor([[0.5, 2.0, 1.0]]) * Tensor(2) + [1, 2, 3]
            return (mlp_loss(params)(x, t) * 0.5 + 1) * scale.sum()
        return fn
    data = batches(6)
    step = compare(make, data)
    (plan,) = step.plans.values()
    assert isinstance(plan, C._Plan) and len(calls) == len(data) + 1  # eager's 6, one recording


@pytest.mark.parametrize("made", [
    lambda x: np.full((), 0.5),  # a constant, but numpy code: nothing says what made it
    lambda x: np.float64(0.5),  # a numpy scalar: np.abs(x).sum() is one too
    lambda x: x.sum(),
])
def test_arrays_and_numpy_scalars_made_by_numpy_code_inside_the_step_run_eagerly(made):
    def make(params):
        return lambda x, t: mlp_loss(params)(x, t) * made(x)
    eager_with_warning(make, batches(4), "inside the step")


def test_a_python_number_read_from_a_tensor_inside_the_step_runs_eagerly():
    # Regression: two calls whose inputs agreed once made a data-dependent number a constant.
    def make(params):
        return lambda x, t: mlp_loss(params)(x, t) / float(Tensor(x).abs().sum())
    (x, t), (x2, t2) = batches(2)
    eager_with_warning(make, [(x, t)] * 3 + [(x2, t2)] * 2, "Python number is read")


@pytest.mark.parametrize("branch", [
    lambda x, loss: loss.tanh() if Tensor(x)[0, 0] > 0 else loss.exp(),
    lambda x, loss: loss * int(Tensor(x)[0, 0] > 0),
    lambda x, loss: loss * (Tensor(x)[0, 0] if bool(Tensor(x)[0, 1] > 0) else 1.0),
])
def test_control_flow_on_a_tensor_value_inside_the_step_runs_eagerly(branch):
    def make(params):
        return lambda x, t: branch(x, mlp_loss(params)(x, t))
    data = batches(8)
    eager_with_warning(make, data, "Python number is read")


def test_an_in_place_operator_inside_the_step_runs_eagerly():
    def make(params):
        def fn(x, t):
            h = Tensor(x).linear(params[0], params[1])
            h += 1.0
            return h.tanh().linear(params[2], params[3]).cross_entropy(t)
        return fn
    eager_with_warning(make, batches(3), "in-place")


def test_fn_calling_backward_itself_runs_eagerly():
    params = make_params()

    def fn(x, t):
        loss = mlp_loss(params)(x, t)
        (loss * 0.0).backward()
        return loss
    with pytest.warns(C.CompileWarning, match="calls backward"):
        C.CompiledStep(fn, params)(*batches(1)[0])


def test_inputs_that_are_not_arrays_run_eagerly():
    x, t = batches(1)[0]
    data = [(x.tolist(), Tensor(t))] * 2
    eager_with_warning(lambda p: lambda x, t: mlp_loss(p)(Tensor(x), t), data, "type list")
    grad_input = Tensor(x, requires_grad=True)
    params = make_params()
    with pytest.warns(C.CompileWarning, match="requires grad"):
        C.CompiledStep(mlp_loss(params), params)(grad_input, t)
    assert grad_input.grad is not None  # as eager: the input got its gradient


def test_too_many_signatures_run_eagerly():
    data = [b for rows in range(1, C.MAX_PLANS + 3) for b in batches(1, rows=rows)]
    eager_with_warning(mlp_loss, data, "more than")


def test_a_kernel_that_disagrees_with_its_op_is_caught(monkeypatch):
    monkeypatch.setitem(C.FORWARD_KERNELS, ops.tanh, C._k_unary(np.sin))
    step = eager_with_warning(mlp_loss, batches(5), "fast kernel disagrees")
    (plan,) = step.plans.values()
    assert isinstance(plan, C._Plan) and not plan.kernels


def test_an_update_that_disagrees_with_the_optimizer_is_caught():
    class Broken(C.RuleUpdate):
        def generate(self, plan, source=None):
            update = super().generate(plan, source)

            def broken():
                update()
                self.opt.params[0].data[0, 0] += 1e-3
            return broken
    data = batches(5)
    pe, pc = make_params(), make_params()
    eager = eager_run(mlp_loss, pe, data, lambda p: _Opt(p).step)
    with pytest.warns(C.CompileWarning, match="differs from the optimizer"):
        *compiled, _ = compiled_run(mlp_loss, pc, data, lambda p: Broken(_Opt(p)))
    assert_same(eager, compiled, pe, pc)


def test_an_update_whose_generated_code_differs_stops_running_it():
    # Regression (issue 17 item 10a): the warning said step() runs instead, but a bound-method
    # `is` test never held, so the generated code went on updating from the third step.
    class Broken(C.RuleUpdate):
        def source(self, plan):
            lines, consts, checks = super().source(plan)
            consts["u_broken"] = self.opt.params[0]
            return lines + ["u_broken.data[0, 0] += 1e-3"], consts, checks

        def generate(self, plan, source=None):
            return C._function("update", "", *(source or self.source(plan))[:2])
    data = batches(8)
    pe, pc = make_params(), make_params()
    eager = eager_run(mlp_loss, pe, data, lambda p: _Opt(p).step)
    with pytest.warns(C.CompileWarning, match="differs from the optimizer"):
        *compiled, step = compiled_run(mlp_loss, pc, data, lambda p: Broken(_Opt(p)))
    assert_same(eager, compiled, pe, pc)


def test_a_rule_the_code_generator_cannot_run_runs_step_with_a_warning(monkeypatch):
    data = batches(6)
    pe, pc = make_params(), make_params()
    oe, oc = _Opt(pe, momentum=0.9), _Opt(pc, momentum=0.9)

    def refuse(self, plan):
        raise ValueError("no code for this rule")
    monkeypatch.setattr(C.RuleUpdate, "source", refuse)
    eager = eager_run(mlp_loss, pe, data, lambda _: oe.step)
    with pytest.warns(C.CompileWarning, match="SGD's update rule has no generated code "
                                              r"\(ValueError: no code for this rule\)"):
        *compiled, step = compiled_run(mlp_loss, pc, data, lambda _: C.RuleUpdate(oc))
    assert_same(eager, compiled, pe, pc)


def test_switching_adam_to_decoupled_decay_between_steps_picks_the_new_variant():
    data = batches(8)
    pe, pc = make_params(), make_params()
    oe, oc = _Opt(pe, "adam", weight_decay=0.1), _Opt(pc, "adam", weight_decay=0.1)
    updates_side_by_side(pe, pc, oe, C.RuleUpdate(oc), oc, data,
                         lambda i, opt: setattr(opt, "decoupled_weight_decay", i >= 4))


def test_replaced_parameter_arrays_are_recorded_again():
    calls = []
    data = batches(8)
    pe, pc = make_params(), make_params()
    fe, fc = mlp_loss(pe), mlp_loss(pc)
    step = C.CompiledStep(lambda x, t: calls.append(1) or fc(x, t), pc, sgd(pc))
    update = sgd(pe)
    for i, (x, t) in enumerate(data):
        if i == 4:
            pe[0].data, pc[0].data = pe[0].data * 0.5, pc[0].data * 0.5
        for p in pe:
            p.grad = None
        fe(x, t).backward()
        update()
        step(x, t)
    assert len(calls) == 2
    assert [bits(p.data) for p in pe] == [bits(p.data) for p in pc]


def test_another_watcher_sees_every_operation_of_a_compiled_step():
    class Count(engine.Watcher):
        n = 0

        def forward(self, op, inputs, attrs, out):
            self.n += 1
    params = make_params()
    step = C.CompiledStep(mlp_loss(params), params, sgd(params))
    data = batches(4)
    for x, t in data[:3]:
        step(x, t)
    with engine.watching(Count()) as w:
        step(*data[3])
    assert w.n == 4  # linear, tanh, linear, cross_entropy


def test_an_input_used_as_an_index_runs_eagerly():
    def make(params):
        def fn(x, t, rows):
            return mlp_loss(params)(Tensor(x)[rows], t[rows])
        return fn
    rng = np.random.default_rng(4)
    data = [(x, t, rng.integers(0, 8, 5)) for x, t in batches(3)]
    eager_with_warning(make, data, "op attribute")


def test_a_tensor_with_a_graph_from_outside_the_step_runs_eagerly():
    outside = Tensor(np.ones(3), requires_grad=True) * 2.0  # recorded before the step

    def make(params):
        return lambda x, t: mlp_loss(params)(x, t) + outside.sum()
    eager_with_warning(make, batches(2), "outside the step")


def test_parameters_whose_arrays_keep_being_replaced_run_eagerly():
    params = make_params()
    step = C.CompiledStep(mlp_loss(params), params, sgd(params))
    with pytest.warns(C.CompileWarning, match="keep being replaced"):
        for x, t in batches(12):
            step(x, t)
            params[0].data = params[0].data.copy()


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["cross_entropy", "bce_with_logits"])
def test_fused_losses_replay_every_reduction(loss, reduction):
    def make(params):
        def fn(x, t):
            z = Tensor(x).linear(params[0], params[1]).tanh().linear(params[2], params[3])
            out = getattr(z, loss)(t, reduction=reduction)
            return out.mean() if reduction == "none" else out
        return fn
    data = [(x, (t > 0.5).astype(float)) for x, t in batches(5)]
    compare(make, data)


# ---------------------------------------------------------------- arrays by what made them
def where_step(w):
    return lambda x: where(Tensor(x) > 0, Tensor(x) * w, 0.).sum()


def run_both(make_fn, make_params_, data, update=sgd):
    """Eager and compiled runs of make_fn from equal parameters: (eager, compiled, step)."""
    pe, pc = make_params_(), make_params_()
    eager = eager_run(make_fn, pe, data, update)
    with warnings.catch_warnings():
        warnings.simplefilter("error", C.CompileWarning)
        *compiled, step = compiled_run(make_fn, pc, data, update)
    assert_same(eager, compiled, pe, pc)
    return step


def test_a_mask_made_from_the_data_is_replayed_not_frozen():
    # Regression (issue 17 item 10b): two calls whose masks agreed froze the mask; the third
    # call gave -0.7 instead of eager's 1.0.
    data = [(np.array([1.0, -1.0]),), (np.array([2.0, -2.0]),), (np.array([-1.0, 1.0]),)]
    step = run_both(lambda p: where_step(p[0]), lambda: [Tensor([0.3, 1.0], requires_grad=True)],
                    data, update=None)
    assert isinstance(next(iter(step.plans.values())), C._Plan)
    w = Tensor([0.3, 1.0], requires_grad=True)
    step = C.CompiledStep(where_step(w), [w])
    assert [step(*x) for x in data] == [0.3, 0.6, 1.0]


@pytest.mark.parametrize("masked", [
    lambda x, p: where(Tensor(x) > p[0][:1, :].sum(), Tensor(x), -Tensor(x)),  # mask from a param
    lambda x, p: Tensor(x) * (Tensor(x) <= Tensor(x)[:, :1]),  # mask lifted into a product
    lambda x, p: where(Tensor(x).abs() - 0.5, Tensor(x), 1.0),  # a float condition, nonzero
    lambda x, p: Tensor(x)[[0, 2, 2]],  # a literal list index
    lambda x, p: Tensor(x) + p[0].detach()[:, 0],  # a parameter's array, detached
])
def test_masks_and_constants_made_with_tensor_operations_replay(masked):
    def make(params):
        return lambda x, t: mlp_loss(params)(masked(x, params), t)
    run_both(make, make_params, batches(6, rows=3))


def test_a_mask_made_from_the_data_as_an_index_runs_eagerly():
    def make(params):
        return lambda x, t: mlp_loss(params)(Tensor(x)[Tensor(x)[:, 0] > -9], t)
    eager_with_warning(make, batches(4), "shape of its result")


# ---------------------------------------------------------------- frozen parameters
@pytest.mark.parametrize("kind,flat", [("sgd", False), ("sgd", True), ("adam", False)])
@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1}, {"momentum": 0.9}])
def test_a_frozen_tensor_in_params_is_a_constant_that_never_moves(kind, flat, options):
    if kind == "adam":
        options = {k: v for k, v in options.items() if k != "momentum"}
    data = batches(6)
    pe, pc = make_params(), make_params()
    oe, oc = _Opt(pe, kind, **options), _Opt(pc, kind, **options)
    for p in (pe[0], pc[0]):
        p.requires_grad = False  # frozen, and still in the parameter list
    frozen = bits(pc[0].data)
    update = C.RuleUpdate(oc, flat=flat)
    eager = eager_run(mlp_loss, pe, data, lambda _: oe.step)
    with warnings.catch_warnings():
        warnings.simplefilter("error", C.CompileWarning)
        *compiled, step = compiled_run(mlp_loss, pc, data, lambda _: update)
    assert_same(eager, compiled, pe, pc)
    assert bits(pc[0].data) == frozen and pc[0].grad is None
    assert all(g[0] is None for g in compiled[1])
    assert isinstance(next(iter(step.plans.values())), C._Plan)


@pytest.mark.filterwarnings("error::autograd.compile.CompileWarning")
def test_freezing_and_unfreezing_between_steps_records_again_with_eager_bits():
    data = batches(12)
    pe, pc = make_params(), make_params()
    oe, oc = _Opt(pe, momentum=0.9), _Opt(pc, momentum=0.9)
    step = C.CompiledStep(mlp_loss(pc), pc, C.RuleUpdate(oc, flat=True))
    fn = mlp_loss(pe)
    for i, (x, t) in enumerate(data):
        frozen = i % 4 >= 2  # two steps frozen, two not, three times
        pe[2].requires_grad = pc[2].requires_grad = not frozen
        before = bits(pc[2].data)
        for p in pe:
            p.grad = None
        fn(x, t).backward()
        oe.step()
        step(x, t)
        assert (bits(pc[2].data) == before) is frozen
        assert [bits(p.data) for p in pe] == [bits(p.data) for p in pc]
    assert all(isinstance(p, C._Plan) for p in step.plans.values())


@pytest.mark.filterwarnings("error::autograd.compile.CompileWarning")
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shapes", [((5, 4), (4, 1), (2, 5, 1)), ((5, 4), (4, 3), (2, 1, 3)),
                                    ((3, 5, 4), (4, 2), (2, 3, 1, 2)), ((5, 4), (4, 1), (5, 1))])
def test_linear_with_a_bias_that_adds_dimensions_replays_without_a_warning(dtype, shapes):
    # Regression (issue 17 item 10): the x-gradient kernel assumed g had x @ w's shape and fell
    # back with "please report this".
    xs, ws, bs = shapes

    def params():
        rng = np.random.default_rng(0)
        return [Tensor(rng.normal(size=ws).astype(dtype), requires_grad=True),
                Tensor(rng.normal(size=bs).astype(dtype), requires_grad=True)]

    def make(p):
        return lambda x: (Tensor(x).linear(p[0], p[1]).tanh() ** 2).sum()
    rng = np.random.default_rng(1)
    data = [(rng.normal(size=xs).astype(dtype),) for _ in range(5)]
    step = run_both(make, params, data)
    assert isinstance(next(iter(step.plans.values())), C._Plan)


# ---------------------------------------------------------------- kernels at edge values
EDGES = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e-320, 2.5])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "abs"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_kernels_give_their_ops_bits_at_edge_values_after_recording_ordinary_ones(
        activation, dtype):
    # A kernel is checked against its op on the recorded step only: later steps with zeros,
    # infinities or NaN in the data or the upstream gradient must still give the op's bits
    # (a rule that selects rather than multiplies gives 0, not nan, for inf * 0).
    def make(p):
        def fn(x, c):
            h = getattr(Tensor(x).linear(p[0], p[1]), activation)()
            return (h * Tensor(c)).sum() + (Tensor(x) @ p[0] * Tensor(c)).sum()
        return fn

    def params():
        rng = np.random.default_rng(0)
        return [Tensor(rng.normal(size=(4, 4)).astype(dtype), requires_grad=True),
                Tensor(np.zeros(4, dtype), requires_grad=True)]
    rng = np.random.default_rng(2)
    ordinary = [(rng.normal(size=(2, 4)).astype(dtype), rng.normal(size=(2, 4)).astype(dtype))
                for _ in range(2)]
    with np.errstate(all="ignore"):
        edges = [(np.resize(rng.permutation(EDGES), (2, 4)).astype(dtype) * (k == 0),
                  np.resize(rng.permutation(EDGES), (2, 4)).astype(dtype)) for k in range(4)]
        step = run_both(make, params, ordinary + edges, update=None)
    assert isinstance(next(iter(step.plans.values())), C._Plan)


def test_a_mask_written_into_by_numpy_code_runs_eagerly():
    def make(params):
        def fn(x, t):
            mask = Tensor(x) > 0
            h = where(mask, Tensor(x), 0.0)
            mask[0] = x[0] < 0  # numpy writes data into the mask: a replay would not
            return mlp_loss(params)(h + where(mask, Tensor(x), 0.0), t)
        return fn
    eager_with_warning(make, batches(4), "written into by numpy code")


def test_an_update_whose_state_differs_in_type_from_eager_is_caught():
    # Eager SGD once stored a 0-d parameter's momentum buffer as a numpy scalar, whose in-place
    # update is lost; the generated update stores a 0-d array. Both agree on the first two
    # steps (the second eager step ran on the generated array), then diverged silently.
    import nn

    class ScalarBufferSGD(nn.optim.SGD):  # its step() has that old defect; its rule has not
        def step(self):
            for i, p in enumerate(self.params):
                g = p.grad + 0.1 * p.data
                if self.buffers[i] is None:
                    self.buffers[i] = g.copy()[()]  # a numpy scalar for a 0-d parameter
                else:
                    self.buffers[i] *= 0.9
                    self.buffers[i] += g
                p.data -= 0.1 * self.buffers[i]

    def params():
        return [Tensor(1.5, requires_grad=True), Tensor(np.array([0.5]), requires_grad=True)]

    def make(p):
        return lambda x: ((p[0] * Tensor(x)) ** 2 * 0.5 + p[1] * p[0]).sum()
    data = [(np.array(v),) for v in np.linspace(0.5, 2.0, 6)]
    pe, pc = params(), params()
    options = dict(lr=0.1, momentum=0.9, weight_decay=0.1)
    eager = eager_run(make, pe, data, lambda p: ScalarBufferSGD(p, **options).step)
    with pytest.warns(C.CompileWarning, match="differs from the optimizer"):
        *compiled, _ = compiled_run(make, pc, data, lambda p: C.RuleUpdate(
            ScalarBufferSGD(p, **options)))
    assert_same(eager, compiled, pe, pc)


def test_a_step_that_changes_a_tensor_in_place_outside_the_graph_runs_eagerly():
    # A running statistic updated under no_grad inside the step is a side effect a replay would
    # not repeat: the step must run eagerly (with a warning), never drop the update silently.
    def run(compiled):
        w = Tensor([0.5, -1.0], requires_grad=True)
        count = Tensor(np.zeros(2))

        def fn(x):
            statistic = count  # the same Tensor, changed in place
            with no_grad():
                statistic += Tensor(x).mean(axis=0)
            return (Tensor(x) @ w).tanh().sum()

        step = C.CompiledStep(fn, [w], update=None) if compiled else fn
        values = []
        for i in range(4):
            x = np.arange(6.0).reshape(3, 2) * (i + 1) / 7
            if compiled:
                values.append(step(x))
            else:
                w.grad = None
                loss = fn(x)
                loss.backward()
                values.append(loss.item())
        return values, count.data, w.grad

    with pytest.warns(C.CompileWarning, match="changed in place outside the graph"):
        compiled = run(True)
    eager = run(False)
    assert compiled[0] == eager[0]
    np.testing.assert_array_equal(compiled[1], eager[1])
    np.testing.assert_array_equal(compiled[2], eager[2])
