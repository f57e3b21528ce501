"""Optimizers and schedulers against PyTorch's (torch extra): trajectories over 25 steps with
two param groups, every option; state dicts (layout and a resumed run); learning-rate and
momentum sequences of every scheduler, per group. Skipped without torch."""

import numpy as np
import pytest

import nn
from autograd import Tensor

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
P0 = [RNG.normal(size=(3, 2)), RNG.normal(size=(4,))]
TARGET = [RNG.normal(size=(3, 2)), RNG.normal(size=(4,))]
STEPS = 25


def _loss(ps, lib):
    """A smooth, non-quadratic loss of both parameters (so every moment and buffer matters)."""
    (a, b), (ta, tb) = ps, TARGET
    if lib == "torch":
        ta, tb = torch.tensor(ta), torch.tensor(tb)
        return ((a - ta) ** 2).sum() + (b - tb).tanh().pow(2).sum() + (a * a).sum() * 0.1
    return ((a - ta) * (a - ta)).sum() + ((b - tb).tanh() * (b - tb).tanh()).sum() + \
        (a * a).sum() * 0.1


def _groups(ps, lrs, extra):
    return [{"params": [p], "lr": lr, **e} for p, lr, e in zip(ps, lrs, extra)]


OPTIMIZERS = [
    ("SGD", dict(momentum=0.9), ({}, {})),
    ("SGD", dict(momentum=0.9, dampening=0.3, weight_decay=0.05), ({}, {"dampening": 0.0})),
    ("SGD", dict(momentum=0.8, nesterov=True), ({}, {"momentum": 0.5})),
    ("SGD", dict(maximize=True), ({}, {})),
    ("Adam", dict(), ({}, {"betas": (0.8, 0.99)})),
    ("Adam", dict(amsgrad=True, weight_decay=0.1), ({}, {})),
    ("Adam", dict(maximize=True, eps=1e-3), ({}, {"amsgrad": True})),
    ("AdamW", dict(weight_decay=0.3), ({}, {"weight_decay": 0.0})),
    ("AdamW", dict(amsgrad=True), ({}, {})),
    ("RMSprop", dict(), ({}, {"alpha": 0.9})),
    ("RMSprop", dict(momentum=0.7, centered=True), ({}, {"centered": False})),
    ("RMSprop", dict(weight_decay=0.1, maximize=True), ({}, {"momentum": 0.3})),
    ("Adagrad", dict(), ({}, {})),
    ("Adagrad", dict(lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.05),
     ({}, {"eps": 1e-3})),
    ("Adagrad", dict(maximize=True), ({}, {"lr_decay": 0.01})),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(OPTIMIZERS)]


def _pair(name, kwargs, extra, lrs=(0.05, 0.01)):
    ours = [Tensor(p.copy(), requires_grad=True) for p in P0]
    theirs = [torch.tensor(p.copy(), requires_grad=True) for p in P0]
    o = getattr(nn.optim, name)(_groups(ours, lrs, extra), **kwargs)
    t = getattr(torch.optim, name)(_groups(theirs, lrs, extra), **kwargs)
    return ours, o, theirs, t


def _step(ps, opt, lib):
    opt.zero_grad()
    _loss(ps, lib).backward()
    opt.step()


@pytest.mark.parametrize("name, kwargs, extra", OPTIMIZERS, ids=IDS)
def test_trajectories_with_two_groups_match_pytorch(name, kwargs, extra):
    ours, o, theirs, t = _pair(name, kwargs, extra)
    for _ in range(STEPS):
        _step(ours, o, "np")
        _step(theirs, t, "torch")
        for p, q in zip(ours, theirs):
            np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kwargs, extra", OPTIMIZERS, ids=IDS)
def test_state_dict_has_pytorchs_layout_and_values(name, kwargs, extra):
    ours, o, theirs, t = _pair(name, kwargs, extra)
    ours[1].grad = None
    for _ in range(3):
        _step(ours, o, "np")
        _step(theirs, t, "torch")
    mine, torchs = o.state_dict(), t.state_dict()
    assert [g["params"] for g in mine["param_groups"]] == \
        [g["params"] for g in torchs["param_groups"]]
    for g, h in zip(mine["param_groups"], torchs["param_groups"]):
        for key in g:
            if key != "params":
                assert g[key] == h[key], key
    assert set(mine["state"]) == set(torchs["state"])
    for i, entry in mine["state"].items():
        theirs_entry = torchs["state"][i]
        assert set(entry) == set(theirs_entry) - {"max_exp_avg_sq"} or set(entry) == set(
            theirs_entry)
        for key, value in entry.items():
            np.testing.assert_allclose(value, theirs_entry[key].numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, kwargs, extra", OPTIMIZERS, ids=IDS)
def test_pytorchs_state_dict_converted_to_numpy_resumes_our_run(name, kwargs, extra):
    ours, o, theirs, t = _pair(name, kwargs, extra)
    for _ in range(4):
        _step(theirs, t, "torch")
    state = t.state_dict()
    converted = {"param_groups": state["param_groups"],
                 "state": {i: {k: (v.numpy() if v.ndim else v.item()) for k, v in e.items()}
                           for i, e in state["state"].items()}}
    for p, q in zip(ours, theirs):
        p.data[...] = q.detach().numpy()
    o.load_state_dict(converted)
    for _ in range(10):
        _step(ours, o, "np")
        _step(theirs, t, "torch")
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- schedulers
def _scheduled(make, n_groups=2, optimizer="SGD", **kwargs):
    lrs = [0.1, 0.02][:n_groups]
    ours = [Tensor(np.zeros(2), requires_grad=True) for _ in lrs]
    theirs = [torch.zeros(2, requires_grad=True) for _ in lrs]
    o = getattr(nn.optim, optimizer)(_groups(ours, lrs, [{}] * n_groups), **kwargs)
    t = getattr(torch.optim, optimizer)(_groups(theirs, lrs, [{}] * n_groups), **kwargs)
    return make(nn.optim.lr_scheduler, o), make(torch.optim.lr_scheduler, t), o, t


SCHEDULES = {
    "MultiStepLR": lambda lib, o: lib.MultiStepLR(o, milestones=[3, 7, 7, 12], gamma=0.5),
    "LinearLR": lambda lib, o: lib.LinearLR(o, start_factor=0.2, end_factor=0.9, total_iters=6),
    "LinearLR-default": lambda lib, o: lib.LinearLR(o),
    "LambdaLR": lambda lib, o: lib.LambdaLR(o, lambda e: 1 / (1 + e) ** 0.5),
    "LambdaLR-per-group": lambda lib, o: lib.LambdaLR(o, [lambda e: 0.9 ** e, lambda e: e + 1]),
    "StepLR": lambda lib, o: lib.StepLR(o, 3, 0.7),
    "ExponentialLR": lambda lib, o: lib.ExponentialLR(o, 0.9),
    "CosineAnnealingLR": lambda lib, o: lib.CosineAnnealingLR(o, 6, eta_min=0.001),
    "OneCycleLR": lambda lib, o: lib.OneCycleLR(o, max_lr=[1.0, 0.5], total_steps=30),
    "OneCycleLR-linear-3phase": lambda lib, o: lib.OneCycleLR(
        o, max_lr=0.3, epochs=5, steps_per_epoch=6, anneal_strategy="linear", three_phase=True,
        pct_start=0.25),
    "SequentialLR": lambda lib, o: lib.SequentialLR(
        o, [lib.LinearLR(o, start_factor=0.1, total_iters=4), lib.ExponentialLR(o, 0.8),
            lib.StepLR(o, 2, 0.5)], milestones=[5, 12]),
    "SequentialLR-cosine": lambda lib, o: lib.SequentialLR(
        o, [lib.LambdaLR(o, lambda e: 0.5), lib.CosineAnnealingLR(o, 8)], milestones=[3]),
}


@pytest.mark.parametrize("name", list(SCHEDULES))
@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_rates_of_every_group_match_pytorch(name, optimizer):
    kwargs = {"momentum": 0.9} if optimizer == "SGD" else {}
    ours, theirs, o, t = _scheduled(SCHEDULES[name], optimizer=optimizer, **kwargs)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-14)
    for _ in range(29):
        t.step()
        theirs.step()
        ours.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-13, abs=1e-16)
        for g, h in zip(o.param_groups, t.param_groups):
            assert g["lr"] == pytest.approx(h["lr"], rel=1e-13, abs=1e-16)
            key = "momentum" if optimizer == "SGD" else "betas"
            assert np.allclose(g[key], h[key], rtol=1e-13)


def test_one_cycle_past_total_steps_raises_like_pytorch():
    ours, theirs, o, t = _scheduled(SCHEDULES["OneCycleLR"])
    for _ in range(30):
        ours.step()
    with pytest.raises(ValueError, match="OneCycleLR: stepped 31 times, past total_steps=30"):
        ours.step()


def test_reduce_on_plateau_cuts_every_group_like_pytorch():
    metrics = [1.0, 0.9, 0.95, 0.96, 0.97, 0.9, 0.99, 1.0, 1.0, 0.5, 0.6, 0.7, 0.8]
    make = lambda lib, o: lib.ReduceLROnPlateau(o, factor=0.5, patience=1, min_lr=[0.02, 0.0])
    ours, theirs, o, t = _scheduled(make)
    for value in metrics:
        ours.step(value)
        theirs.step(value)
        assert ours.get_last_lr() == theirs.get_last_lr()
