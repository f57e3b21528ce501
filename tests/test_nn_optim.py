"""nn/optim/optimizers.py: SGD, Adam and AdamW against closed forms, PyTorch's documented
algorithms, and (torch extra) PyTorch itself."""

import numpy as np
import pytest

import nn
from autograd import Tensor

P0 = np.array([1.0, -2.0, 0.5])
C = np.array([0.3, -1.0, 2.0])  # the gradient of the linear loss sum(C * p)


def _run(optimizer, p, steps, loss=lambda p: (p * C).sum()):
    for _ in range(steps):
        optimizer.zero_grad()
        loss(p).backward()
        optimizer.step()
    return p.data


def _param(values=P0, dtype=np.float64):
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


# ---------------------------------------------------------------- closed forms
def test_sgd_constant_gradient():
    p = _param()
    np.testing.assert_allclose(_run(nn.optim.SGD([p], lr=0.1), p, 4), P0 - 4 * 0.1 * C)


def test_sgd_on_a_quadratic_shrinks_geometrically():
    p = _param()
    result = _run(nn.optim.SGD([p], lr=0.25), p, 5, loss=lambda p: 0.5 * (p * p).sum())
    np.testing.assert_allclose(result, P0 * 0.75 ** 5, rtol=1e-14)


def test_sgd_momentum_constant_gradient():
    # buf_s = C (1 + m + ... + m^(s-1)) = C (1 - m^s) / (1 - m)
    lr, m, t = 0.1, 0.9, 5
    p = _param()
    expected = P0 - lr * C * sum((1 - m ** s) / (1 - m) for s in range(1, t + 1))
    np.testing.assert_allclose(_run(nn.optim.SGD([p], lr, momentum=m), p, t), expected)


def test_sgd_nesterov_constant_gradient():
    # each step uses C + m * buf_s
    lr, m, t = 0.1, 0.9, 5
    p = _param()
    expected = P0 - lr * C * sum(1 + m * (1 - m ** s) / (1 - m) for s in range(1, t + 1))
    result = _run(nn.optim.SGD([p], lr, momentum=m, nesterov=True), p, t)
    np.testing.assert_allclose(result, expected)


def test_sgd_weight_decay_alone_shrinks_geometrically():
    # A zero loss gradient leaves g = weight_decay * p, so p_t = p0 (1 - lr wd)^t.
    p = _param()
    result = _run(nn.optim.SGD([p], lr=0.1, weight_decay=0.5), p, 6, loss=lambda p: (p * 0).sum())
    np.testing.assert_allclose(result, P0 * (1 - 0.05) ** 6, rtol=1e-14)


@pytest.mark.parametrize("eps", [1e-8, 0.1])
def test_adam_constant_gradient_moves_lr_per_step(eps):
    # With a constant gradient the bias-corrected moments are exactly C and C^2.
    p = _param()
    result = _run(nn.optim.Adam([p], lr=0.01, eps=eps), p, 7)
    np.testing.assert_allclose(result, P0 - 7 * 0.01 * C / (np.abs(C) + eps), rtol=1e-12)


# ---------------------------------------------------------------- PyTorch's documented algorithms
def _reference_sgd(p, grads, lr, momentum, nesterov, weight_decay):
    buf = None
    for g in grads:
        g = g + weight_decay * p
        if momentum:
            buf = g if buf is None else momentum * buf + g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def _reference_adam(p, grads, lr, betas, eps, weight_decay):
    m = v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * p
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        m_hat, v_hat = m / (1 - betas[0] ** t), v / (1 - betas[1] ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def _apply(optimizer, p, grads):
    for g in grads:
        p.grad = g.copy()
        optimizer.step()
    return p.data


GRADS = list(np.random.default_rng(0).normal(size=(8, 3)))


@pytest.mark.parametrize("momentum, nesterov, weight_decay", [
    (0.0, False, 0.0), (0.9, False, 0.0), (0.9, True, 0.0), (0.5, False, 0.1), (0.8, True, 0.3)])
def test_sgd_matches_the_reference_algorithm(momentum, nesterov, weight_decay):
    p = _param()
    optimizer = nn.optim.SGD([p], 0.05, momentum, nesterov=nesterov,
                            weight_decay=weight_decay)
    np.testing.assert_allclose(
        _apply(optimizer, p, GRADS),
        _reference_sgd(P0, GRADS, 0.05, momentum, nesterov, weight_decay), rtol=1e-13)


@pytest.mark.parametrize("betas, eps, weight_decay", [
    ((0.9, 0.999), 1e-8, 0.0), ((0.8, 0.99), 1e-3, 0.1), ((0.0, 0.5), 1e-8, 0.01)])
def test_adam_matches_the_reference_algorithm(betas, eps, weight_decay):
    p = _param()
    optimizer = nn.optim.Adam([p], 0.01, betas, eps, weight_decay)
    np.testing.assert_allclose(
        _apply(optimizer, p, GRADS),
        _reference_adam(P0, GRADS, 0.01, betas, eps, weight_decay), rtol=1e-12)


# ---------------------------------------------------------------- bookkeeping
@pytest.mark.parametrize("make", [
    lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: nn.optim.Adam(ps, lr=0.1),
])
def test_params_without_grad_are_skipped_and_their_state_waits(make):
    a, b = _param(), _param()
    optimizer = make([a, b])
    for _ in range(3):
        a.grad = C.copy()  # b.grad stays None
        optimizer.step()
    np.testing.assert_array_equal(b.data, P0)
    fresh = _param()
    after_one_step = _apply(make([fresh]), fresh, [C])
    b.grad = C.copy()
    optimizer.step()
    np.testing.assert_allclose(b.data, after_one_step, rtol=1e-14)


def test_step_updates_in_place_and_records_no_graph():
    p = _param()
    array = p.data
    _run(nn.optim.Adam([p]), p, 2)
    assert p.data is array and p.op is None and p.is_leaf


def test_zero_grad_clears_gradients():
    p = _param()
    optimizer = nn.optim.SGD([p], lr=0.1)
    (p * C).sum().backward()
    optimizer.zero_grad()
    assert p.grad is None


def test_duplicate_params_are_updated_once():
    p = _param()
    optimizer = nn.optim.SGD([p, p], lr=0.1)
    p.grad = C.copy()
    optimizer.step()
    np.testing.assert_allclose(p.data, P0 - 0.1 * C)


def test_lr_can_be_changed_between_steps():
    p = _param()
    optimizer = nn.optim.SGD([p], lr=0.1)
    p.grad = C.copy()
    optimizer.step()
    optimizer.lr = 0.0
    optimizer.step()
    np.testing.assert_allclose(p.data, P0 - 0.1 * C)


@pytest.mark.parametrize("make", [
    lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
    lambda ps: nn.optim.Adam(ps, lr=0.1, weight_decay=0.01),
])
def test_float32_parameters_stay_float32(make):
    p = _param(dtype=np.float32)
    result = _run(make([p]), p, 3, loss=lambda p: (p * p).sum())
    assert result.dtype == np.float32 and p.grad.dtype == np.float32


def test_optimizers_accept_a_model_parameters_list():
    model = nn.MLP([2, 3, 1])
    optimizer = nn.optim.Adam(model.parameters())
    assert optimizer.params == model.parameters()


# ---------------------------------------------------------------- bad arguments
@pytest.mark.parametrize("make, message", [
    (lambda p: nn.optim.SGD(p, lr=-0.1), r"SGD: lr must be a finite number >= 0, got -0.1"),
    (lambda p: nn.optim.SGD(p, lr=float("nan")), r"SGD: lr must be a finite number >= 0, got nan"),
    (lambda p: nn.optim.SGD(p, lr="0.1"), r"SGD: lr must be a finite number >= 0, got '0.1'"),
    (lambda p: nn.optim.SGD(p, 0.1, momentum=-1), "SGD: momentum must be a finite number >= 0"),
    (lambda p: nn.optim.SGD(p, 0.1, weight_decay=-1), "SGD: weight_decay must be a finite"),
    (lambda p: nn.optim.SGD(p, 0.1, nesterov=True), "SGD: nesterov=True needs momentum > 0"),
    (lambda p: nn.optim.Adam(p, lr=-1), "Adam: lr must be a finite number >= 0, got -1"),
    (lambda p: nn.optim.Adam(p, eps=-1e-8), "Adam: eps must be a finite number >= 0"),
    (lambda p: nn.optim.Adam(p, weight_decay=-1), "Adam: weight_decay must be a finite"),
    (lambda p: nn.optim.Adam(p, betas=(0.9, 1.0)), r"Adam: betas must be two numbers in \[0, 1\)"),
    (lambda p: nn.optim.Adam(p, betas=(0.9,)), r"Adam: betas must be two numbers in \[0, 1\)"),
])
def test_invalid_hyperparameters_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make([_param()])


def test_invalid_parameter_lists_raise():
    with pytest.raises(ValueError, match="SGD: got an empty parameter list"):
        nn.optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match=r"Adam: parameter 1 is not a Tensor with "
                                         r"requires_grad=True \(got ndarray\)"):
        nn.optim.Adam([_param(), np.zeros(3)])
    with pytest.raises(ValueError, match="parameter 0 is not a Tensor with requires_grad=True"):
        nn.optim.Adam([Tensor(P0)])
    with pytest.raises(TypeError, match="params must be an iterable of Tensors"):
        nn.optim.SGD(_param(), lr=0.1)


# ---------------------------------------------------------------- AdamW
@pytest.mark.parametrize("eps", [1e-8, 0.1])
def test_adamw_constant_gradient_closed_form(eps):
    # p_t = a p_(t-1) - lr s with a = 1 - lr wd and s = C / (|C| + eps) (the moments are exact):
    # p_t = a^t p0 - lr s (1 - a^t) / (1 - a).
    lr, wd, t = 0.01, 0.5, 7
    a, s = 1 - lr * wd, C / (np.abs(C) + eps)
    p = _param()
    result = _run(nn.optim.AdamW([p], lr=lr, eps=eps, weight_decay=wd), p, t)
    np.testing.assert_allclose(result, a ** t * P0 - lr * s * (1 - a ** t) / (1 - a), rtol=1e-12)


def test_adamw_decay_alone_shrinks_geometrically_unlike_adams_l2():
    p, q = _param(), _param()
    zero = lambda p: (p * 0).sum()  # noqa: E731
    np.testing.assert_allclose(_run(nn.optim.AdamW([p], lr=0.1), p, 5, zero),
                               P0 * (1 - 0.1 * 0.01) ** 5, rtol=1e-14)
    # Adam's L2 term goes through the moments: each step moves ~lr whatever the decay.
    moved = np.abs(_run(nn.optim.Adam([q], lr=0.1, weight_decay=0.01), q, 1, zero) - P0)
    np.testing.assert_allclose(moved, 0.1, rtol=1e-5)  # eps / |g| >= 2e-6


def _reference_adamw(p, grads, lr, betas, eps, weight_decay):
    m = v = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        p = p * (1 - lr * weight_decay)
        m = betas[0] * m + (1 - betas[0]) * g
        v = betas[1] * v + (1 - betas[1]) * g * g
        p = p - lr * (m / (1 - betas[0] ** t)) / (np.sqrt(v / (1 - betas[1] ** t)) + eps)
    return p


@pytest.mark.parametrize("betas, eps, weight_decay", [
    ((0.9, 0.999), 1e-8, 0.01), ((0.8, 0.99), 1e-3, 0.3), ((0.0, 0.5), 1e-8, 0.0)])
def test_adamw_matches_the_reference_algorithm(betas, eps, weight_decay):
    p = _param()
    optimizer = nn.optim.AdamW([p], 0.01, betas, eps, weight_decay)
    np.testing.assert_allclose(
        _apply(optimizer, p, GRADS),
        _reference_adamw(P0, GRADS, 0.01, betas, eps, weight_decay), rtol=1e-12)


def test_adam_with_decoupled_weight_decay_is_adamw():
    p, q = _param(), _param()
    adam = nn.optim.Adam([p], 0.01, weight_decay=0.2, decoupled_weight_decay=True)
    np.testing.assert_array_equal(_apply(adam, p, GRADS),
                                  _apply(nn.optim.AdamW([q], 0.01, weight_decay=0.2), q, GRADS))


def test_adamw_validates_like_adam():
    with pytest.raises(ValueError, match="AdamW: weight_decay must be a finite number >= 0"):
        nn.optim.AdamW([_param()], weight_decay=-0.1)
    with pytest.raises(ValueError, match=r"AdamW: betas must be two numbers in \[0, 1\)"):
        nn.optim.AdamW([_param()], betas=(1.0, 0.9))


# ---------------------------------------------------------------- PyTorch itself (torch extra)
TORCH_CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.3)),
    ("AdamW", dict(lr=0.05)),
]


@pytest.mark.parametrize("name, kwargs", TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_optimizers_match_pytorch(name, kwargs):
    torch = pytest.importorskip("torch")
    p = _param()
    ours = getattr(nn.optim, name)([p], **kwargs)
    q = torch.tensor(P0, requires_grad=True)
    theirs = getattr(torch.optim, name)([q], **kwargs)
    for g in GRADS:
        p.grad = g.copy()
        ours.step()
        q.grad = torch.tensor(g)
        theirs.step()
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-13, atol=1e-15)


# ---------------------------------------------------------------- modified after use (issue 9)
@pytest.mark.parametrize("make", [
    lambda ps: nn.optim.SGD(ps, lr=0.1),
    lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9),
    lambda ps: nn.optim.Adam(ps),
    lambda ps: nn.optim.AdamW(ps),
], ids=["SGD", "SGD-momentum", "Adam", "AdamW"])
def test_backward_after_a_step_raises_instead_of_using_the_new_weights(make):
    model = nn.MLP([3, 4, 1], activation="tanh", rng=np.random.default_rng(0))
    optimizer = make(model.parameters())
    x = np.ones((2, 3))
    model(x).sum().backward()
    loss = model(x).sum()  # recorded from the current weights
    optimizer.step()       # changes them in place
    with pytest.raises(RuntimeError, match=r"modified in place"):
        loss.backward()
    model.zero_grad()
    model(x).sum().backward()  # a forward after the step is fine
    assert all(p.grad is not None for p in model.parameters())


# ---------------------------------------------------------------- 0-d and 1-element (issue 17)
SMALL_CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, weight_decay=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.1)),
    ("Adam", dict(lr=0.1, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1)),
    ("Adam", dict(lr=0.1, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.1, weight_decay=0.3)),
]
SMALL_IDS = [f"{name}-{'-'.join(kwargs)}" for name, kwargs in SMALL_CASES]


def _scalar_reference(name, kwargs, p, steps):
    """The optimizer's documented update in Python floats, on the loss p**2 / 2 (grad p)."""
    lr, wd = kwargs["lr"], kwargs.get("weight_decay", 0.0)
    momentum, nesterov = kwargs.get("momentum", 0.0), kwargs.get("nesterov", False)
    b1, b2 = kwargs.get("betas", (0.9, 0.999))
    eps = kwargs.get("eps", 1e-8)
    decoupled = name == "AdamW" or kwargs.get("decoupled_weight_decay", False)
    if name == "AdamW":
        wd = kwargs.get("weight_decay", 1e-2)
    buf, m, v = None, 0.0, 0.0
    for t in range(1, steps + 1):
        g = p if decoupled else p + wd * p
        if name == "SGD":
            if momentum:
                buf = g if buf is None else momentum * buf + g
                g = g + momentum * buf if nesterov else buf
            p = p - lr * g
        else:
            if decoupled:
                p = p * (1 - lr * wd)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            p = p - lr * (m / (1 - b1 ** t)) / ((v / (1 - b2 ** t)) ** 0.5 + eps)
    return p


@pytest.mark.parametrize("shape", [(), (1,), (1, 1)], ids=["0-d", "1", "1x1"])
@pytest.mark.parametrize("name, kwargs", SMALL_CASES, ids=SMALL_IDS)
def test_every_optimizer_on_0d_and_1_element_parameters(name, kwargs, shape):
    # The issue's repro is SGD(momentum=0.9, weight_decay=0.1) on a 0-d p: its momentum buffer
    # was a numpy scalar, so `buf *= momentum` updated a copy and p ended at 0.5428, not 0.2448.
    p = Tensor(np.full(shape, 1.5), requires_grad=True)
    optimizer = getattr(nn.optim, name)([p], **kwargs)
    for _ in range(4):
        optimizer.zero_grad()
        (p * p / 2).sum().backward()
        optimizer.step()
    assert p.data.shape == shape and isinstance(p.data, np.ndarray)
    np.testing.assert_allclose(p.data, _scalar_reference(name, kwargs, 1.5, 4), rtol=1e-14)


@pytest.mark.parametrize("name, kwargs", SMALL_CASES, ids=SMALL_IDS)
def test_every_optimizer_on_a_0d_float32_parameter_stays_float32(name, kwargs):
    p = Tensor(np.float32(1.5), requires_grad=True)
    optimizer = getattr(nn.optim, name)([p], **kwargs)
    for _ in range(4):
        optimizer.zero_grad()
        (p * p / 2).backward()
        optimizer.step()
    assert p.data.dtype == np.float32 and p.data.shape == ()
    np.testing.assert_allclose(p.data, _scalar_reference(name, kwargs, 1.5, 4), rtol=2e-6)


def test_sgd_momentum_with_decay_on_0d_is_the_issues_value():
    p = Tensor(1.5, requires_grad=True)
    optimizer = nn.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.1)
    for _ in range(4):
        optimizer.zero_grad()
        (p ** 2 / 2).backward()
        optimizer.step()
    np.testing.assert_allclose(p.data, 0.244772565, rtol=1e-12)  # PyTorch's 0.2448


@pytest.mark.parametrize("shape", [(), (1,)], ids=["0-d", "1"])
@pytest.mark.parametrize("name, kwargs", SMALL_CASES, ids=SMALL_IDS)
def test_every_optimizer_on_0d_and_1_element_matches_pytorch(name, kwargs, shape):
    torch = pytest.importorskip("torch")
    p = Tensor(np.full(shape, 1.5), requires_grad=True)
    q = torch.full(shape, 1.5, dtype=torch.float64, requires_grad=True)
    ours = getattr(nn.optim, name)([p], **kwargs)
    theirs = getattr(torch.optim, name)([q], **kwargs)
    for _ in range(6):
        ours.zero_grad()
        (p * p / 2).sum().backward()
        ours.step()
        theirs.zero_grad()
        (q * q / 2).sum().backward()
        theirs.step()
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-13, atol=1e-15)
