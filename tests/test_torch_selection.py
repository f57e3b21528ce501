"""Selections against PyTorch where an infinite gradient meets a rule that zeroes it (issue 17).

Inputs full of zeros and ties go through an op that zeroes part of the gradient (relu, clip
with number or Tensor bounds, where, maximum/minimum, max/min, abs), then through sqrt, whose
gradient at 0 is infinite: npgrad must give PyTorch's gradients (0 where the rule selects 0,
never 0 * inf = nan), also at second order. Where PyTorch itself multiplies a mask (abs at 0,
max/min for the elements that are not the maximum) it gives nan, and npgrad the selected 0.
Needs the `torch` extra (`pip install -e ".[torch]"`); skipped without it.
"""

import numpy as np
import pytest

from autograd import Tensor, grad
from autograd.functions import maximum, minimum, where

torch = pytest.importorskip("torch")

SEEDS = range(20)


def sample(seed, shape=(4, 5)):
    rng = np.random.default_rng(seed)
    return rng.choice([-2.0, -1.0, -0.5, 0.0, 0.0, 0.5, 1.0, 2.0], size=shape)


def bounds(seed):
    rng = np.random.default_rng(seed + 100)
    lo = rng.choice([0.0, 0.5, 1.0], size=5)  # ties with x, and lo > hi in places
    hi = rng.choice([0.0, 0.5, 1.0, 2.0], size=(4, 1))
    return lo, hi


# name: (npgrad fn, torch fn) on (x, lo, hi); every output is >= 0, so sqrt applies
CASES = {
    "relu": (lambda x, lo, hi: x.relu(), lambda x, lo, hi: x.relu()),
    "clip": (lambda x, lo, hi: x.clip(0.0, 1.0), lambda x, lo, hi: x.clamp(0.0, 1.0)),
    "clip lo": (lambda x, lo, hi: x.clip(0.0), lambda x, lo, hi: x.clamp(min=0.0)),
    "clip tensors": (lambda x, lo, hi: x.clip(lo, hi), torch.clamp),
    "clip tensor lo": (lambda x, lo, hi: x.clip(lo), lambda x, lo, hi: x.clamp(min=lo)),
    "clip tensor hi": (lambda x, lo, hi: x.clip(None, hi) + 2.0,
                       lambda x, lo, hi: x.clamp(max=hi) + 2.0),
    "where": (lambda x, lo, hi: where(x > 0, x, lo), lambda x, lo, hi: torch.where(x > 0, x, lo)),
    "maximum": (lambda x, lo, hi: maximum(x, lo), lambda x, lo, hi: torch.maximum(x, lo)),
    "minimum": (lambda x, lo, hi: minimum(-x, -lo) * -1.0,
                lambda x, lo, hi: torch.minimum(-x, -lo) * -1.0),
}
# PyTorch multiplies a mask in these: nan where npgrad selects 0
MASKED = {
    "abs": (lambda x, lo, hi: x.abs(), lambda x, lo, hi: x.abs()),
    # (samples are at most 2 and at least -2: sqrt's gradient is inf where a row reaches them)
    "max": (lambda x, lo, hi: 2.0 - x.max(axis=1), lambda x, lo, hi: 2.0 - x.amax(dim=1)),
    "min": (lambda x, lo, hi: x.min(axis=0) + 2.0, lambda x, lo, hi: x.amin(dim=0) + 2.0),
}


def gradients(fn, torch_fn, seed, order):
    x = sample(seed)
    lo, hi = bounds(seed)
    ours = [Tensor(a, requires_grad=True) for a in (x, lo, hi)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, lo, hi)]
    with np.errstate(divide="ignore", invalid="ignore"):
        if order == 1:
            fn(*ours).sqrt().sum().backward()
        else:
            (first,) = grad((fn(*ours) ** 1.3).sum(), ours[0], create_graph=True)
            first.sum().backward()
    if order == 1:
        torch_fn(*theirs).sqrt().sum().backward()
    else:
        (first,) = torch.autograd.grad((torch_fn(*theirs) ** 1.3).sum(), theirs[0],
                                       create_graph=True)
        first.sum().backward()
    pairs = []
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            pairs.append((np.zeros_like(a.data) if a.grad is None else a.grad, b.grad.numpy()))
    return pairs


@pytest.mark.parametrize("order", [1, 2])
@pytest.mark.parametrize("name", list(CASES))
def test_gradients_through_sqrt_match_pytorch(name, order):
    for seed in SEEDS:
        for ours, theirs in gradients(*CASES[name], seed, order):
            np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=0,
                                       err_msg=f"{name}, seed {seed}")


@pytest.mark.parametrize("name", list(MASKED))
def test_where_pytorch_multiplies_a_mask_npgrad_selects_zero(name):
    nans = 0
    for seed in SEEDS:
        for ours, theirs in gradients(*MASKED[name], seed, 1):
            nans += np.isnan(theirs).sum()
            assert not np.isnan(ours).any()
            np.testing.assert_array_equal(ours, np.where(np.isnan(theirs), 0.0, theirs))
    assert nans  # the samples do reach the case where the two differ
