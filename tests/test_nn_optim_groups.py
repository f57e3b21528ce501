"""nn/optim/optimizer.py and the newer options of nn/optim/optimizers.py, without torch: param
groups, state dicts (a resumed run is bit-identical), zero_grad(set_to_none=), SGD dampening,
Adam amsgrad, maximize, RMSprop, Adagrad, against closed forms; the compiled step with them."""


import numpy as np
import pytest

import nn
from autograd import Tensor

P0 = np.array([1.0, -2.0, 0.5])
C = np.array([0.3, -1.0, 2.0])  # the gradient of the linear loss sum(C * p)


def _param(values=P0):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


def _run(optimizer, ps, steps, loss=None):
    loss = loss or (lambda ps: sum((p * C).sum() for p in ps))
    for _ in range(steps):
        optimizer.zero_grad()
        loss(ps).backward()
        optimizer.step()


# ---------------------------------------------------------------- param groups
def test_groups_take_the_constructors_options_unless_they_give_their_own():
    a, b = _param(), _param()
    opt = nn.optim.SGD([{"params": [a], "lr": 0.1}, {"params": [b]}], lr=0.01, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    assert [g["momentum"] for g in opt.param_groups] == [0.9, 0.9]
    assert opt.param_groups[0]["params"] == [a] and opt.params == [a, b]
    assert set(opt.param_groups[1]) == {"params", "lr", "momentum", "dampening",
                                        "weight_decay", "nesterov", "maximize"}
    assert opt.defaults["lr"] == 0.01


def test_each_group_moves_at_its_own_rate():
    a, b = _param(), _param()
    opt = nn.optim.SGD([{"params": [a], "lr": 0.1}, {"params": b, "lr": 0.01}])
    _run(opt, [a, b], 4)
    np.testing.assert_allclose(a.data, P0 - 4 * 0.1 * C, rtol=1e-15)
    np.testing.assert_allclose(b.data, P0 - 4 * 0.01 * C, rtol=1e-15)


def test_an_option_read_as_an_attribute_is_every_groups():
    a, b = _param(), _param()
    opt = nn.optim.Adam([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam.lr: the 2 param groups have different values "
                                         r"\[0.1, 0.5\]; read optimizer.param_groups\[i\]"):
        _ = opt.lr
    assert opt.betas == (0.9, 0.999)
    opt.lr = 0.2  # sets every group
    assert opt.lr == 0.2 and [g["lr"] for g in opt.param_groups] == [0.2, 0.2]


def test_add_param_group_and_its_errors():
    a, b = _param(), _param()
    opt = nn.optim.Adam([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.01})
    assert opt.params == [a, b] and len(opt.m) == 2 and opt.param_groups[1]["lr"] == 0.01
    with pytest.raises(ValueError, match="a parameter appears in more than one param group"):
        opt.add_param_group({"params": [a]})
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['momentum'\] in a param group"):
        nn.optim.Adam([{"params": [a], "momentum": 0.9}])
    with pytest.raises(TypeError, match="expected a dict with a 'params' key"):
        opt.add_param_group({"lr": 0.1})
    with pytest.raises(ValueError, match="Adam: lr must be a finite number >= 0, got -1"):
        nn.optim.Adam([{"params": [_param()], "lr": -1}])
    with pytest.raises(ValueError, match="got an empty parameter list"):
        nn.optim.SGD([{"params": []}], lr=0.1)


def test_sgd_in_npgrads_old_argument_order_raises_instead_of_reading_nesterov_as_dampening():
    with pytest.raises(ValueError, match="pass nesterov= by keyword"):
        nn.optim.SGD([_param()], 0.1, 0.9, True)
    with pytest.raises(ValueError, match="SGD: nesterov=True needs momentum > 0 and dampening 0"):
        nn.optim.SGD([_param()], 0.1, 0.9, 0.5, nesterov=True)


def test_frozen_and_gradless_parameters_are_skipped_in_every_group():
    a, b, c = _param(), _param(), _param()
    opt = nn.optim.Adagrad([{"params": [a, b]}, {"params": [c], "lr": 1.0}])
    b.requires_grad_(False)
    (a * C).sum().backward()
    b.grad = C.copy()  # a stale gradient on a frozen parameter
    opt.step()
    assert np.array_equal(b.data, P0) and np.array_equal(c.data, P0)
    assert opt.steps == [1, 0, 0] and not np.array_equal(a.data, P0)


@pytest.mark.parametrize("owner", ["optimizer", "module"])
def test_zero_grad_set_to_none_false_gives_zeros_where_there_were_gradients(owner):
    model = nn.Linear(3, 2)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    model(np.ones((1, 3))).sum().backward()
    model.bias.grad = None
    (opt if owner == "optimizer" else model).zero_grad(set_to_none=False)
    assert np.array_equal(model.weight.grad, np.zeros((3, 2))) and model.bias.grad is None
    model(np.ones((1, 3))).sum().backward()  # accumulates onto the zeros: the plain gradient
    assert np.array_equal(model.weight.grad, np.ones((3, 2)))
    (opt if owner == "optimizer" else model).zero_grad()
    assert model.weight.grad is None


# ---------------------------------------------------------------- closed forms
def test_sgd_dampening_constant_gradient():
    # buf_1 = C, buf_t = m buf_(t-1) + (1 - d) C
    lr, m, d, t = 0.1, 0.9, 0.4, 6
    buf, total = C.copy(), C.copy()
    for _ in range(t - 1):
        buf = m * buf + (1 - d) * C
        total = total + buf
    p = _param()
    _run(nn.optim.SGD([p], lr, momentum=m, dampening=d), [p], t)
    np.testing.assert_allclose(p.data, P0 - lr * total, rtol=1e-14)


def test_adam_amsgrad_divides_by_the_largest_second_moment():
    # Gradients 2C then C with b2 = 0.5: v_1 = 2 C^2 > v_2 = 1.5 C^2, so step 2 divides by v_1.
    lr, b1, b2 = 0.1, 0.5, 0.5
    grads = iter([2 * C, C])
    p = _param()
    opt = nn.optim.Adam([p], lr, betas=(b1, b2), eps=0.0, amsgrad=True)
    _run(opt, [p], 2, loss=lambda ps: (ps[0] * next(grads)).sum())
    m1, m2 = (1 - b1) * 2 * C, b1 * (1 - b1) * 2 * C + (1 - b1) * C
    v1 = (1 - b2) * 4 * C * C
    first = P0 - lr * (m1 / (1 - b1)) / np.sqrt(v1 / (1 - b2))
    expected = first - lr * (m2 / (1 - b1 ** 2)) / np.sqrt(v1 / (1 - b2 ** 2))
    np.testing.assert_allclose(p.data, expected, rtol=1e-14)
    np.testing.assert_array_equal(opt.max_v[0], v1)


@pytest.mark.parametrize("make", [
    lambda ps: nn.optim.SGD(ps, 0.1, momentum=0.9, dampening=0.1, weight_decay=0.1),
    lambda ps: nn.optim.Adam(ps, 0.1, amsgrad=True, weight_decay=0.1),
    lambda ps: nn.optim.AdamW(ps, 0.1),
    lambda ps: nn.optim.RMSprop(ps, 0.1, momentum=0.5, centered=True, weight_decay=0.1),
    lambda ps: nn.optim.Adagrad(ps, 0.1, lr_decay=0.1, weight_decay=0.1),
])
def test_maximize_is_descent_on_the_negated_loss_bit_for_bit(make):
    loss = lambda ps: (ps[0] * ps[0] * C).sum() + ps[0].tanh().sum()
    p, q = _param(), _param()
    up, down = make([p]), make([q])
    for group in up.param_groups:
        group["maximize"] = True
    _run(up, [p], 7, loss=lambda ps: loss(ps))
    _run(down, [q], 7, loss=lambda ps: -loss(ps))
    assert np.array_equal(p.data, q.data)


def test_rmsprop_constant_gradient():
    # s_t = (1 - alpha^t) C^2, p -= lr C / (sqrt(s_t) + eps)
    lr, alpha, eps, t = 0.01, 0.9, 1e-3, 5
    p = _param()
    _run(nn.optim.RMSprop([p], lr, alpha=alpha, eps=eps), [p], t)
    steps = [C / (np.sqrt((1 - alpha ** s) * C * C) + eps) for s in range(1, t + 1)]
    np.testing.assert_allclose(p.data, P0 - lr * sum(steps), rtol=1e-14)


def test_rmsprop_centered_with_momentum_constant_gradient():
    # a_t = (1 - alpha^t) C; s_t - a_t^2 = ((1 - alpha^t) - (1 - alpha^t)^2) C^2
    lr, alpha, m, eps, t = 0.01, 0.5, 0.3, 1e-2, 4
    p = _param()
    _run(nn.optim.RMSprop([p], lr, alpha=alpha, eps=eps, momentum=m, centered=True), [p], t)
    buf, total = np.zeros(3), np.zeros(3)
    for s in range(1, t + 1):
        k = 1 - alpha ** s
        buf = m * buf + C / (np.sqrt((k - k * k) * C * C) + eps)
        total += buf
    np.testing.assert_allclose(p.data, P0 - lr * total, rtol=1e-13)


def test_adagrad_constant_gradient_with_lr_decay():
    # s_t = s_0 + t C^2; p -= lr / (1 + (t - 1) decay) * C / (sqrt(s_t) + eps)
    lr, decay, s0, eps, t = 0.5, 0.2, 0.25, 1e-10, 5
    p = _param()
    _run(nn.optim.Adagrad([p], lr, lr_decay=decay, initial_accumulator_value=s0, eps=eps), [p], t)
    steps = [lr / (1 + (s - 1) * decay) * C / (np.sqrt(s0 + s * C * C) + eps)
             for s in range(1, t + 1)]
    np.testing.assert_allclose(p.data, P0 - sum(steps), rtol=1e-14)


@pytest.mark.parametrize("make, message", [
    (lambda p: nn.optim.RMSprop(p, alpha=-0.1), "RMSprop: alpha must be a finite number >= 0"),
    (lambda p: nn.optim.RMSprop(p, momentum=-1), "RMSprop: momentum must be a finite"),
    (lambda p: nn.optim.Adagrad(p, lr_decay=-1), "Adagrad: lr_decay must be a finite"),
    (lambda p: nn.optim.Adagrad(p, initial_accumulator_value=-1), "initial_accumulator_value"),
    (lambda p: nn.optim.SGD(p, 0.1, dampening=-0.5), "SGD: dampening must be a finite"),
])
def test_invalid_new_options_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make([_param()])


# ---------------------------------------------------------------- state dicts
OPTIMIZERS = [
    lambda ps: nn.optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.01}], 0.05,
                            momentum=0.9, dampening=0.2),
    lambda ps: nn.optim.SGD(ps, 0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: nn.optim.Adam([{"params": ps[:1], "amsgrad": True}, {"params": ps[1:]}], 0.05),
    lambda ps: nn.optim.AdamW(ps, 0.05, betas=(0.8, 0.9)),
    lambda ps: nn.optim.RMSprop(ps, 0.01, momentum=0.5, centered=True),
    lambda ps: nn.optim.Adagrad([{"params": ps[:1], "lr_decay": 0.1}, {"params": ps[1:]}]),
]


def _model_and_data():
    nn.manual_seed(0)
    model = nn.MLP([3, 5, 2], activation="tanh")
    rng = np.random.default_rng(1)
    return model, rng.normal(size=(12, 3)), rng.integers(0, 2, size=12)


def _train(model, opt, X, y, steps):
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.cross_entropy(model(X), y).backward()
        opt.step()


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_a_resumed_run_is_bit_identical_to_an_uninterrupted_one(make):
    model, X, y = _model_and_data()
    opt = make(model.parameters())
    _train(model, opt, X, y, 4)
    weights, state = model.state_dict(), opt.state_dict()
    _train(model, opt, X, y, 6)  # the uninterrupted run; its steps must not change `state`
    resumed, _, _ = _model_and_data()
    resumed.load_state_dict(weights)
    fresh = make(resumed.parameters())
    fresh.load_state_dict(state)
    _train(resumed, fresh, X, y, 6)
    for name, array in model.state_dict().items():
        assert np.array_equal(resumed.state_dict()[name], array), name


def test_state_dict_layout_and_options_restored():
    model, X, y = _model_and_data()
    opt = nn.optim.Adam([{"params": model.parameters()[:2]},
                         {"params": model.parameters()[2:], "lr": 0.5}], lr=0.1)
    _train(model, opt, X, y, 2)
    state = opt.state_dict()
    assert [g["params"] for g in state["param_groups"]] == [[0, 1], [2, 3]]
    assert set(state["state"]) == {0, 1, 2, 3}
    assert set(state["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert state["state"][0]["step"] == 2
    other = nn.optim.Adam(_model_and_data()[0].parameters(), lr=0.3)  # one group: no fit
    with pytest.raises(ValueError, match=r"the saved param groups have \[2, 2\] parameters, this "
                                         r"optimizer's have \[4\]"):
        other.load_state_dict(state)
    again = nn.optim.Adam([{"params": model.parameters()[:2]},
                           {"params": model.parameters()[2:]}], lr=0.3)
    again.load_state_dict(state)
    assert [g["lr"] for g in again.param_groups] == [0.1, 0.5]


def test_load_state_dict_refuses_states_that_do_not_fit():
    p = _param()
    opt = nn.optim.SGD([p], 0.1, momentum=0.9)
    good = {"state": {0: {"momentum_buffer": np.zeros(3)}},
            "param_groups": [{**opt.param_groups[0], "params": [0]}]}
    opt.load_state_dict(good)
    with pytest.raises(ValueError, match=r"state 'momentum_buffer' of parameter 0 has shape "
                                         r"\(2,\), the parameter \(3,\)"):
        opt.load_state_dict({**good, "state": {0: {"momentum_buffer": np.zeros(2)}}})
    with pytest.raises(ValueError, match=r"unknown state \['exp_avg'\] for parameter 0"):
        opt.load_state_dict({**good, "state": {0: {"exp_avg": np.zeros(3)}}})
    with pytest.raises(ValueError, match="expected a dict with 'state' and 'param_groups'"):
        opt.load_state_dict({"param_groups": []})


def test_state_dict_entries_are_copies():
    p = _param()
    opt = nn.optim.SGD([p], 0.1, momentum=0.9)
    _run(opt, [p], 1)
    saved = opt.state_dict()["state"][0]["momentum_buffer"]
    before = saved.copy()
    _run(opt, [p], 2)
    assert np.array_equal(saved, before)


# ---------------------------------------------------------------- fit and compiled steps
def test_fit_schedules_every_group_and_records_each_rate():
    model, X, y = _model_and_data()
    opt = nn.optim.SGD([{"params": model.parameters()[:2], "lr": 0.1},
                        {"params": model.parameters()[2:], "lr": 0.01}])
    scheduler = nn.optim.lr_scheduler.StepLR(opt, 1, gamma=0.5)
    history = nn.fit(model, nn.CrossEntropyLoss(), opt, X, y, epochs=3, scheduler=scheduler,
                     progress=False)
    assert history.lr == [0.1, 0.05, 0.025] and history.lr_1 == [0.01, 0.005, 0.0025]
    assert [g["lr"] for g in opt.param_groups] == [0.0125, 0.00125]


COMPILED = [
    lambda ps: nn.optim.SGD([{"params": ps[:2], "lr": 0.1}, {"params": ps[2:], "lr": 0.01}]),
    lambda ps: nn.optim.Adam([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.1}]),
    lambda ps: nn.optim.SGD([{"params": ps[:2], "momentum": 0.9}, {"params": ps[2:]}], 0.1),
    lambda ps: nn.optim.SGD(ps, 0.1, momentum=0.9, dampening=0.5),
    lambda ps: nn.optim.Adam(ps, 0.01, amsgrad=True),
    lambda ps: nn.optim.SGD(ps, 0.1, maximize=True),
    lambda ps: nn.optim.RMSprop(ps, 0.01, momentum=0.9, centered=True),
    lambda ps: nn.optim.Adagrad(ps, 0.1, lr_decay=0.01),
]


@pytest.mark.filterwarnings("error::autograd.compile.CompileWarning")
@pytest.mark.parametrize("make", COMPILED)
def test_compiled_steps_run_every_option_and_group_as_generated_code_with_eagers_bits(make):
    model, X, y = _model_and_data()
    twin, _, _ = _model_and_data()
    compiled = nn.compile_step(model, nn.CrossEntropyLoss(), make(model.parameters()))
    eager = make(twin.parameters())
    for _ in range(6):
        compiled(X, y)
        _train(twin, eager, X, y, 1)
    (plan,) = compiled.compiled.plans.values()
    assert [entry[0] is not None for entry in plan.updates.values()] == [True]
    for name, array in twin.state_dict().items():
        assert np.array_equal(model.state_dict()[name], array), name
    for name, value in eager.state_dict()["state"].items():
        saved = compiled.optimizer.state_dict()["state"][name]
        assert {k: np.asarray(v).tobytes() for k, v in value.items()} == {
            k: np.asarray(v).tobytes() for k, v in saved.items()}


def test_a_compiled_step_refuses_a_group_added_after_it_was_made():
    # The compiled step clears the gradients of the parameters it was made with only: the new
    # ones would accumulate theirs across steps.
    model, X, y = _model_and_data()
    opt = nn.optim.SGD(model.parameters()[:2], 0.1)
    step = nn.compile_step(model, nn.CrossEntropyLoss(), opt)
    for _ in range(3):
        step(X, y)
    opt.add_param_group({"params": model.parameters()[2:], "lr": 0.5})
    with pytest.raises(RuntimeError, match="parameters changed after the step was compiled"):
        step(X, y)


def test_an_optimizer_written_against_the_older_base_class_still_works():
    class HalfStep(nn.optim.Optimizer):  # Optimizer(params), its own lr attribute and step
        def __init__(self, params, lr):
            super().__init__(params)
            self.lr = lr

        def step(self):
            for _, p, _, g in self._gradients():
                p.data -= 0.5 * self.lr * g

    p = _param()
    opt = HalfStep([p], lr=0.2)
    _run(opt, [p], 3)
    np.testing.assert_allclose(p.data, P0 - 3 * 0.1 * C, rtol=1e-15)
    assert opt.lr == 0.2 and opt.param_groups[0]["lr"] == 0.2
    nn.optim.lr_scheduler.StepLR(opt, 1, 0.5).step()
    assert opt.lr == 0.1
