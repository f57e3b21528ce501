"""nn/optim/optimizers.py: every optimizer's step() against a plain numpy transcription of its
formula, bit for bit, for every option, in float64 and float32, on 0-d, 1-element and 2-D
parameters, with a parameter that misses its gradient on some steps and a frozen one.

The references are written the straightforward way (one numpy expression per line of the
formula); the optimizers state their updates as data (`update_rule`), so these tests hold the
formulas fixed whatever runs them.
"""

import math

import numpy as np
import pytest

import nn
from autograd import Tensor

SHAPES = [(), (1,), (3, 2)]
STEPS = 7


def _direction(p, g, o):
    """The gradient as every optimizer here first turns it: negated to maximize, plus the
    coupled weight decay."""
    if o["maximize"]:
        g = -g
    if o["weight_decay"]:
        g = g + o["weight_decay"] * p
    return np.asarray(g)


def _ref_sgd(p, g, state, o):
    g = _direction(p, g, o)
    if o["momentum"]:
        buf = state.get("buf")
        if buf is None:
            buf = state["buf"] = g.copy()
        else:
            buf *= o["momentum"]
            buf += (1 - o["dampening"]) * g if o["dampening"] else g
        g = g + o["momentum"] * buf if o["nesterov"] else buf
    p -= o["lr"] * g


def _ref_adam(p, g, state, o):
    if o["maximize"]:
        g = -g
    decoupled = o["decoupled_weight_decay"]
    if o["weight_decay"] and not decoupled:
        g = g + o["weight_decay"] * p
    g = np.asarray(g)
    lr, eps, (b1, b2) = o["lr"], o["eps"], o["betas"]
    if decoupled and o["weight_decay"]:
        p *= 1 - lr * o["weight_decay"]
    m = state.setdefault("m", np.zeros_like(p))
    v = state.setdefault("v", np.zeros_like(p))
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * (g * g)
    if o["amsgrad"]:
        top = state.setdefault("max_v", np.zeros_like(v))
        v = np.maximum(top, v, out=top)
    state["t"] = t = state.get("t", 0) + 1
    denom = np.sqrt(v)
    denom /= math.sqrt(1 - b2 ** t)
    denom += eps
    p -= (lr / (1 - b1 ** t)) * (m / denom)


def _ref_rmsprop(p, g, state, o):
    g = _direction(p, g, o)
    alpha = o["alpha"]
    state["t"] = state.get("t", 0) + 1
    square = state.setdefault("square", np.zeros_like(p))
    square *= alpha
    square += (1 - alpha) * (g * g)
    if o["centered"]:
        mean = state.setdefault("mean", np.zeros_like(g))
        mean *= alpha
        mean += (1 - alpha) * g
        denom = np.sqrt(square - mean * mean)
    else:
        denom = np.sqrt(square)
    denom += o["eps"]
    if o["momentum"]:
        buf = state.setdefault("buf", np.zeros_like(g))
        buf *= o["momentum"]
        buf += g / denom
        p -= o["lr"] * buf
    else:
        p -= o["lr"] * (g / denom)


def _ref_adagrad(p, g, state, o):
    g = _direction(p, g, o)
    state["t"] = t = state.get("t", 0) + 1
    rate = o["lr"] / (1 + (t - 1) * o["lr_decay"])
    total = state.setdefault("sum", np.full_like(p, o["initial_accumulator_value"]))
    total += g * g
    denom = np.sqrt(total)
    denom += o["eps"]
    p -= rate * (g / denom)


REFERENCES = {"SGD": _ref_sgd, "Adam": _ref_adam, "AdamW": _ref_adam, "RMSprop": _ref_rmsprop,
              "Adagrad": _ref_adagrad}

CONFIGS = [
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"momentum": 0.8, "dampening": 0.3, "weight_decay": 0.1}),
    ("SGD", {"momentum": 0.5, "nesterov": True, "weight_decay": 0.2, "maximize": True}),
    ("SGD", {"weight_decay": 0.1}), ("SGD", {"maximize": True}),
    ("Adam", {}), ("Adam", {"weight_decay": 0.1}), ("Adam", {"amsgrad": True}),
    ("Adam", {"betas": (0.5, 0.6), "eps": 1e-3, "maximize": True, "weight_decay": 0.01}),
    ("Adam", {"decoupled_weight_decay": True, "weight_decay": 0.1}),
    ("AdamW", {}), ("AdamW", {"amsgrad": True, "maximize": True}), ("AdamW", {"weight_decay": 0}),
    ("RMSprop", {}), ("RMSprop", {"centered": True}), ("RMSprop", {"momentum": 0.9}),
    ("RMSprop", {"momentum": 0.5, "centered": True, "weight_decay": 0.1, "maximize": True}),
    ("Adagrad", {}), ("Adagrad", {"lr_decay": 0.1, "initial_accumulator_value": 0.5}),
    ("Adagrad", {"weight_decay": 0.1, "maximize": True, "eps": 1e-3}),
]


def _options(name, kwargs):
    """Every option of the optimizer, as its group holds them."""
    p = Tensor(np.zeros(1), requires_grad=True)
    return dict(getattr(nn.optim, name)([p], lr=0.05, **kwargs).param_groups[0])


def _grads(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape).astype(dtype) for _ in range(STEPS)]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=lambda v: repr(v))
def test_step_is_its_formula_bit_for_bit(name, kwargs, shape, dtype):
    rng = np.random.default_rng(3)
    starts = [rng.normal(size=shape).astype(dtype) for _ in range(3)]
    params = [Tensor(s.copy(), requires_grad=True) for s in starts]
    opt = getattr(nn.optim, name)(params, lr=0.05, **kwargs)
    params[2].requires_grad = False  # frozen with a stale gradient: it never moves
    options = _options(name, kwargs)
    refs = [s.copy() for s in starts]
    states = [{}, {}, {}]
    grads = [_grads(shape, dtype, seed) for seed in range(3)]
    with np.errstate(invalid="ignore"):  # RMSprop centered may take sqrt of a rounding -0
        for step in range(STEPS):
            options["lr"] = opt.lr = 0.05 / (1 + step)  # a schedule: read at every step
            for k, p in enumerate(params):
                missing = k == 1 and step % 3 == 1  # no gradient: skipped, state waits
                p.grad = None if missing else grads[k][step].copy()
                if not missing and k != 2:
                    REFERENCES[name](refs[k], grads[k][step], states[k], options)
            opt.step()
            for p, r in zip(params, refs):
                assert p.data.dtype == np.dtype(dtype) and p.data.shape == shape
                assert p.data.tobytes() == r.tobytes(), (step, p.data, r)
    assert params[2].data.tobytes() == starts[2].tobytes()


@pytest.mark.parametrize("name, kwargs", CONFIGS, ids=lambda v: repr(v))
def test_groups_with_different_options_each_follow_their_formula(name, kwargs):
    rng = np.random.default_rng(4)
    starts = [rng.normal(size=(2, 3)) for _ in range(2)]
    params = [Tensor(s.copy(), requires_grad=True) for s in starts]
    other = {"lr": 0.3, "weight_decay": 0.05}
    opt = getattr(nn.optim, name)([{"params": params[:1]}, {"params": params[1:], **other}],
                                  lr=0.05, **kwargs)
    options = [_options(name, kwargs), {**_options(name, kwargs), **other}]
    refs, states = [s.copy() for s in starts], [{}, {}]
    for step in range(STEPS):
        for k, p in enumerate(params):
            g = rng.normal(size=(2, 3))
            p.grad = g.copy()
            REFERENCES[name](refs[k], g, states[k], options[k])
        opt.step()
        assert [p.data.tobytes() for p in params] == [r.tobytes() for r in refs], step


@pytest.mark.parametrize("options", [{}, {"maximize": True}, {"weight_decay": 0.1},
                                     {"maximize": True, "weight_decay": 0.1}], ids=repr)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_an_optimizer_with_its_own_step_gets_the_same_direction(options, shape):
    class HalfSGD(nn.optim.SGD):  # writes its step() against `_gradients`
        def step(self):
            for _, p, group, g in self._gradients():
                assert type(g) is np.ndarray
                p.data -= 0.5 * group["lr"] * g
    rng = np.random.default_rng(5)
    start = rng.normal(size=shape)
    p = Tensor(start.copy(), requires_grad=True)
    opt = HalfSGD([p], lr=0.1, **options)
    ref = start.copy()
    for _ in range(3):
        g = rng.normal(size=shape)
        p.grad = g.copy()
        opt.step()
        d = -g if options.get("maximize") else g
        if options.get("weight_decay"):
            d = d + options["weight_decay"] * ref
        ref -= 0.5 * 0.1 * np.asarray(d)
        assert p.data.tobytes() == ref.tobytes()
