"""nn/optim/lr_scheduler.py: every schedule's rates against closed forms, PyTorch's rules, and
(torch extra) PyTorch's own schedulers, step by step."""

import math

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn.optim.lr_scheduler import CosineAnnealingLR, ExponentialLR, ReduceLROnPlateau, StepLR

LR = 0.1


def _optimizer(lr=LR):
    return nn.optim.SGD([Tensor(np.zeros(2), requires_grad=True)], lr=lr)


def _rates(scheduler, epochs):
    """The rate at construction and after each of `epochs` steps."""
    rates = [scheduler.optimizer.lr]
    for _ in range(epochs):
        scheduler.step()
        rates.append(scheduler.optimizer.lr)
        assert scheduler.get_last_lr() == [scheduler.optimizer.lr]
    return rates


# ---------------------------------------------------------------- closed forms
def test_step_lr_closed_form():
    rates = _rates(StepLR(_optimizer(), step_size=3, gamma=0.5), 10)
    np.testing.assert_allclose(rates, [LR * 0.5 ** (e // 3) for e in range(11)], rtol=1e-15)


def test_exponential_lr_closed_form():
    rates = _rates(ExponentialLR(_optimizer(), gamma=0.9), 12)
    np.testing.assert_allclose(rates, [LR * 0.9 ** e for e in range(13)], rtol=1e-14)


@pytest.mark.parametrize("eta_min", [0.0, 0.01])
def test_cosine_annealing_closed_form_down_and_back_up(eta_min):
    t_max = 5
    rates = _rates(CosineAnnealingLR(_optimizer(), T_max=t_max, eta_min=eta_min), 3 * t_max)
    expected = [eta_min + (LR - eta_min) * (1 + math.cos(math.pi * e / t_max)) / 2
                for e in range(3 * t_max + 1)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12, atol=1e-17)
    assert rates[t_max] == pytest.approx(eta_min, abs=1e-17)
    assert rates[2 * t_max] == pytest.approx(LR)


def test_reduce_on_plateau_waits_patience_epochs_then_cuts_and_cools_down():
    optimizer = _optimizer()
    scheduler = ReduceLROnPlateau(optimizer, factor=0.5, patience=2, cooldown=1, min_lr=0.02)
    losses = [1.0, 0.9, 0.9, 0.9, 0.95, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9]
    rates = []
    for loss in losses:
        scheduler.step(loss)
        rates.append(optimizer.lr)
    # Best 0.9 at epoch 2; bad epochs 3, 4, 5 -> cut at the third (> patience); one cooldown
    # epoch (6) does not count; bad 7, 8, 9 -> cut; ... the rate stops at min_lr.
    assert rates == [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.025, 0.02]
    assert scheduler.get_last_lr() == [0.02]


def test_reduce_on_plateau_threshold_modes_and_max_mode():
    optimizer = _optimizer()
    rel = ReduceLROnPlateau(optimizer, patience=0, threshold=0.1)
    rel.step(1.0)
    rel.step(0.95)  # not below 1.0 * (1 - 0.1): a bad epoch, and patience 0 cuts at once
    assert optimizer.lr == pytest.approx(0.01)
    optimizer = _optimizer()
    up = ReduceLROnPlateau(optimizer, mode="max", patience=0, threshold=0.05,
                           threshold_mode="abs")
    up.step(0.5)
    up.step(0.56)  # above 0.5 + 0.05: better
    assert optimizer.lr == LR and up.best == 0.56
    up.step(0.6)  # not above 0.61
    assert optimizer.lr == pytest.approx(0.01)


def test_reduce_on_plateau_accepts_a_tensor_and_rejects_nan():
    scheduler = ReduceLROnPlateau(_optimizer())
    scheduler.step(Tensor(0.5))
    assert scheduler.best == 0.5
    with pytest.raises(ValueError, match="ReduceLROnPlateau.step: the metric is NaN"):
        scheduler.step(float("nan"))


# ---------------------------------------------------------------- behaviour
def test_schedulers_carry_on_from_a_rate_changed_by_hand():
    optimizer = _optimizer()
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    scheduler.step()
    optimizer.lr = 1.0
    scheduler.step()
    assert optimizer.lr == 0.5


def test_state_dict_resumes_a_schedule():
    first = CosineAnnealingLR(_optimizer(), T_max=10)
    _rates(first, 4)
    optimizer = _optimizer(first.optimizer.lr)
    second = CosineAnnealingLR(optimizer, T_max=10)
    second.load_state_dict(first.state_dict())
    assert "optimizer" not in first.state_dict()
    assert _rates(second, 3) == _rates(first, 3)


def test_repr_shows_epoch_and_rate():
    assert repr(StepLR(_optimizer(), 2)) == "StepLR(last_epoch=0, lr=0.1)"


@pytest.mark.parametrize("make, message", [
    (lambda o: StepLR(o, step_size=0), r"StepLR: step_size must be an integer > 0, got 0"),
    (lambda o: StepLR(o, step_size=2.5), r"StepLR: step_size must be an integer > 0, got 2.5"),
    (lambda o: StepLR(o, 2, gamma=-1), r"StepLR: gamma must be a finite number > 0, got -1"),
    (lambda o: ExponentialLR(o, gamma=float("inf")), "ExponentialLR: gamma must be a finite"),
    (lambda o: CosineAnnealingLR(o, T_max=0), "CosineAnnealingLR: T_max must be an integer > 0"),
    (lambda o: CosineAnnealingLR(o, 5, eta_min=-1), "eta_min must be a finite number >= 0"),
    (lambda o: ReduceLROnPlateau(o, mode="low"), "mode must be 'min' or 'max', got 'low'"),
    (lambda o: ReduceLROnPlateau(o, factor=1.0), r"factor must lie in \(0, 1\), got 1.0"),
    (lambda o: ReduceLROnPlateau(o, threshold_mode="x"), "threshold_mode must be 'rel' or"),
    (lambda o: ReduceLROnPlateau(o, patience=-1), "patience must be an integer >= 0"),
])
def test_bad_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make(_optimizer())


def test_a_scheduler_needs_an_npgrad_optimizer():
    with pytest.raises(TypeError, match="StepLR: expected an nn.optim optimizer, got list"):
        StepLR([], step_size=1)


def test_importable_as_in_pytorch():
    from nn.optim.lr_scheduler import StepLR as imported

    assert imported is nn.optim.lr_scheduler.StepLR


# ---------------------------------------------------------------- PyTorch itself (torch extra)
TORCH_CASES = [
    ("StepLR", dict(step_size=4, gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.85)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=3, eta_min=0.004)),
]


@pytest.mark.parametrize("name, kwargs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_rates_match_pytorch_step_by_step(name, kwargs):
    torch = pytest.importorskip("torch")
    ours = getattr(nn.optim.lr_scheduler, name)(_optimizer(), **kwargs)
    optimizer = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=LR)
    theirs = getattr(torch.optim.lr_scheduler, name)(optimizer, **kwargs)
    assert ours.get_last_lr() == theirs.get_last_lr()
    for _ in range(25):
        optimizer.step()
        theirs.step()
        ours.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15, abs=1e-18)


@pytest.mark.parametrize("kwargs", [
    dict(factor=0.5, patience=2, cooldown=1, min_lr=0.02),
    dict(mode="max", factor=0.3, patience=1, threshold=0.05, threshold_mode="abs"),
    dict(patience=0, threshold=0.0, eps=0.05),
])
def test_reduce_on_plateau_matches_pytorch(kwargs):
    torch = pytest.importorskip("torch")
    metrics = np.round(np.random.default_rng(0).uniform(0.4, 0.6, size=40), 2)
    optimizer = _optimizer()
    ours = ReduceLROnPlateau(optimizer, **kwargs)
    torch_optimizer = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=LR)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(torch_optimizer, **kwargs)
    for value in metrics:
        ours.step(value)
        theirs.step(value)
        assert ours.get_last_lr() == theirs.get_last_lr()


# ---------------------------------------------------------------- newer schedules, every group
def _two_groups(lrs=(0.1, 0.02), **kwargs):
    ps = [Tensor(np.zeros(2), requires_grad=True) for _ in lrs]
    return nn.optim.SGD([{"params": [p], "lr": lr} for p, lr in zip(ps, lrs)], **kwargs)


def _group_rates(scheduler, epochs):
    rates = [scheduler.get_last_lr()]
    for _ in range(epochs):
        scheduler.step()
        rates.append(scheduler.get_last_lr())
        assert rates[-1] == [g["lr"] for g in scheduler.optimizer.param_groups]
    return np.array(rates)


def test_multi_step_lr_closed_form_with_a_repeated_milestone():
    rates = _group_rates(nn.optim.lr_scheduler.MultiStepLR(_two_groups(), [2, 5, 5], 0.5), 8)
    cuts = [sum(m <= e for m in (2, 5, 5)) for e in range(9)]
    np.testing.assert_allclose(rates, [[0.1 * 0.5 ** c, 0.02 * 0.5 ** c] for c in cuts],
                               rtol=1e-15)


def test_linear_lr_closed_form():
    s, f, t = 0.25, 0.75, 4
    rates = _group_rates(nn.optim.lr_scheduler.LinearLR(_two_groups(), s, f, t), 7)
    factors = [s + (f - s) * min(e, t) / t for e in range(8)]
    np.testing.assert_allclose(rates, [[0.1 * k, 0.02 * k] for k in factors], rtol=1e-14)


def test_lambda_lr_per_group_and_state_dict_leaves_the_functions_out():
    scheduler = nn.optim.lr_scheduler.LambdaLR(_two_groups(), [lambda e: 1 / (e + 1),
                                                               lambda e: 2.0 ** e])
    rates = _group_rates(scheduler, 4)
    np.testing.assert_allclose(rates, [[0.1 / (e + 1), 0.02 * 2.0 ** e] for e in range(5)])
    assert "lr_lambdas" not in scheduler.state_dict()
    with pytest.raises(ValueError, match=r"LambdaLR: expected 2 lr_lambdas \(one per param "
                                         r"group\), got 3"):
        nn.optim.lr_scheduler.LambdaLR(_two_groups(), [abs, abs, abs])


def test_one_cycle_lr_starts_peaks_and_ends_where_its_arguments_say():
    optimizer = _two_groups(momentum=0.5)
    scheduler = nn.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[1.0, 0.1], total_steps=21,
                                                 pct_start=0.5, div_factor=10,
                                                 final_div_factor=100)
    rates = _group_rates(scheduler, 20)
    np.testing.assert_allclose(rates[0], [0.1, 0.01])  # max_lr / div_factor
    peak = int(0.5 * 21) - 1  # the first phase ends at pct_start * total_steps - 1 = 9.5
    assert rates[:, 0].argmax() in (peak, peak + 1) and rates[:, 0].max() <= 1.0
    np.testing.assert_allclose(rates[-1], [1e-3, 1e-4], rtol=1e-12)  # initial / final_div
    assert optimizer.param_groups[0]["momentum"] == pytest.approx(0.95)  # back to max_momentum
    scheduler.step()  # step 21 is still allowed (PyTorch's rule), past the schedule's end
    with pytest.raises(ValueError, match="OneCycleLR: stepped 22 times, past total_steps=21"):
        scheduler.step()


def test_one_cycle_needs_momentum_or_betas_to_cycle():
    optimizer = nn.optim.Adagrad([Tensor(np.zeros(2), requires_grad=True)])
    with pytest.raises(ValueError, match="cycle_momentum=True needs an optimizer with momentum"):
        nn.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=10)
    nn.optim.lr_scheduler.OneCycleLR(optimizer, 0.1, total_steps=10, cycle_momentum=False)
    with pytest.raises(ValueError, match="give total_steps, or epochs and steps_per_epoch"):
        nn.optim.lr_scheduler.OneCycleLR(optimizer, 0.1)


def test_sequential_lr_switches_at_milestones_and_restarts_from_the_initial_rate():
    optimizer = _two_groups()
    lib = nn.optim.lr_scheduler
    warmup = lib.LinearLR(optimizer, start_factor=0.5, total_iters=2)
    decay = lib.ExponentialLR(optimizer, gamma=0.5)
    scheduler = lib.SequentialLR(optimizer, [warmup, decay], milestones=[3])
    rates = _group_rates(scheduler, 6)[:, 0]
    np.testing.assert_allclose(rates, [0.05, 0.075, 0.1, 0.1, 0.05, 0.025, 0.0125], rtol=1e-14)
    state = scheduler.state_dict()
    assert len(state["_schedulers"]) == 2 and "optimizer" not in state
    with pytest.raises(ValueError, match="expected 1 milestones for 2 schedulers, got 0"):
        lib.SequentialLR(optimizer, [warmup, decay], milestones=[])


def test_sequential_lr_state_dict_resumes():
    lib = nn.optim.lr_scheduler

    def make():
        o = _two_groups()
        return lib.SequentialLR(o, [lib.LinearLR(o, 0.5, total_iters=3), lib.StepLR(o, 2)], [4])

    first = make()
    _group_rates(first, 5)
    second = make()
    for group, saved in zip(second.optimizer.param_groups, first.optimizer.param_groups):
        group["lr"] = saved["lr"]
    second.load_state_dict(first.state_dict())
    np.testing.assert_array_equal(_group_rates(second, 6), _group_rates(first, 6))


def test_reduce_on_plateau_cuts_every_group_to_its_own_floor():
    optimizer = _two_groups()
    scheduler = ReduceLROnPlateau(optimizer, factor=0.1, patience=0, min_lr=[0.005, 0.0])
    for value in (1.0, 2.0, 3.0):
        scheduler.step(value)
    assert scheduler.get_last_lr() == pytest.approx([0.005, 0.02 * 0.01])
