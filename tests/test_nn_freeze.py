"""Frozen parameters (issue 17, item 1): a parameter with requires_grad False stays a parameter
of its module (named, saved, loaded, cast), and no optimizer, clipping or fit moves it."""

import copy
import pickle

import numpy as np
import pytest

import nn
from autograd import Tensor
from nn.module import _first_parameter

NAMES = ["layers.0.weight", "layers.0.bias", "layers.2.weight", "layers.2.bias"]


def _model(seed=0):
    rng = np.random.default_rng(seed)
    return nn.Sequential(nn.Linear(2, 3, rng=rng), nn.ReLU(), nn.Linear(3, 1, rng=rng))


def _data(n=16):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n, 2))
    return X, X @ np.array([[1.0], [-2.0]]) + 0.5


def test_the_issue_repro_freezing_before_any_walk_keeps_the_weight():
    m = _model()
    m[0].weight.requires_grad_(False)
    assert [n for n, _ in m.named_parameters()] == NAMES
    assert list(m.state_dict()) == NAMES
    assert m.parameters()[0] is m[0].weight
    fresh = _model(seed=1)
    fresh.load_state_dict(m.state_dict())  # strict: nothing missing
    np.testing.assert_array_equal(fresh[0].weight.data, m[0].weight.data)
    for p in m.parameters():
        p.requires_grad_(True)
    assert m[0].weight.requires_grad


def test_module_requires_grad_freezes_and_unfreezes_everything():
    m = _model()
    assert m.requires_grad_(False) is m
    assert not any(p.requires_grad for p in m.parameters())
    assert [n for n, _ in m.named_parameters()] == NAMES
    assert m.num_parameters() == 2 * 3 + 3 + 3 + 1
    assert m(np.ones((1, 2))).op is None  # nothing requires grad: no graph recorded
    m[2].requires_grad_(True)
    assert [p.requires_grad for p in m.parameters()] == [False, False, True, True]


def test_save_writes_a_frozen_weight_and_load_restores_it(tmp_path):
    m = _model().requires_grad_(False)
    m.save(tmp_path / "frozen.npz")
    with np.load(tmp_path / "frozen.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == sorted(NAMES)
    target = _model(seed=3).requires_grad_(False).load(tmp_path / "frozen.npz")
    for a, b in zip(target.parameters(), m.parameters()):
        np.testing.assert_array_equal(a.data, b.data)


def test_astype_casts_frozen_parameters_and_data_follows_the_frozen_first_layer():
    m = _model()
    m[0].requires_grad_(False)
    m.astype(np.float32)
    assert all(p.dtype == np.float32 for p in m.parameters())
    assert _first_parameter(m) is m[0].weight
    assert m(np.ones((2, 2))).dtype == np.float32


def test_copies_keep_frozen_parameters():
    m = _model()
    m[0].weight.requires_grad_(False)
    for twin in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert [n for n, _ in twin.named_parameters()] == NAMES
        assert not twin[0].weight.requires_grad and twin[0].weight is not m[0].weight


def test_a_cached_activation_and_a_constant_are_still_not_parameters():
    class Cache(nn.Module):
        def __init__(self):
            self.w = Tensor(np.ones(2), requires_grad=True)
            self.constant = Tensor(np.ones(2))

        def forward(self, x):
            self.last = x * self.w  # made by an op: never a parameter
            return self.last

    m = Cache()
    m(np.ones(2))
    m.w.requires_grad_(False)
    assert [n for n, _ in m.named_parameters()] == ["w"]


# ---------------------------------------------------------------- nothing moves a frozen weight
OPTIMIZERS = [
    lambda ps: nn.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    lambda ps: nn.optim.SGD(ps, lr=0.1, weight_decay=0.5),
    lambda ps: nn.optim.Adam(ps, lr=0.1, weight_decay=0.1),
    lambda ps: nn.optim.Adam(ps, lr=0.1, weight_decay=0.1, decoupled_weight_decay=True),
    lambda ps: nn.optim.AdamW(ps, lr=0.1, weight_decay=0.3),
]
IDS = ["SGD-nesterov-decay", "SGD-decay", "Adam-decay", "Adam-decoupled", "AdamW"]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=IDS)
def test_a_weight_frozen_after_backward_keeps_its_bits_and_its_state(make):
    m = _model()
    optimizer = make(m.parameters())
    X, y = _data()
    for step in range(4):
        optimizer.zero_grad()
        ((m(X) - y) ** 2).mean().backward()
        if step == 1:
            m[0].weight.requires_grad_(False)  # its grad from this backward is now stale
            frozen = m[0].weight.data.copy()
        optimizer.step()
    np.testing.assert_array_equal(m[0].weight.data, frozen)
    assert not np.array_equal(m[2].weight.data, _model()[2].weight.data)
    state = getattr(optimizer, "steps", None)
    if state is not None:  # Adam counts steps per parameter: the frozen one stopped at 1
        assert state == [1, 4, 4, 4]


def test_the_optimizer_takes_frozen_module_parameters_but_refuses_a_plain_constant():
    m = _model().requires_grad_(False)
    optimizer = nn.optim.SGD(m.parameters(), lr=0.1)
    m.requires_grad_(True)  # unfrozen later: trains
    X, y = _data()
    before = m[0].weight.data.copy()
    ((m(X) - y) ** 2).mean().backward()
    optimizer.step()
    assert not np.array_equal(m[0].weight.data, before)
    with pytest.raises(ValueError, match="parameter 0 is not a Tensor with requires_grad=True"):
        nn.optim.SGD([Tensor(np.ones(2))], lr=0.1)


def test_clipping_ignores_a_frozen_weights_stale_grad():
    m = _model()
    X, y = _data()
    ((m(X) - y) ** 2).mean().backward()
    stale = m[0].weight.grad.copy()
    m[0].weight.requires_grad_(False)
    live = [p.grad for p in m.parameters()[1:]]
    expected = np.sqrt(sum((g ** 2).sum() for g in live))
    total = nn.clip_grad.clip_grad_norm_(m, max_norm=1e-3)
    np.testing.assert_allclose(total, expected, rtol=1e-14)
    nn.clip_grad.clip_grad_value_(m, 1e-9)
    np.testing.assert_array_equal(m[0].weight.grad, stale)


def test_freeze_train_save_load_unfreeze_round_trip(tmp_path):
    m = _model()
    m[0].requires_grad_(False)
    first = [p.data.copy() for p in m[0].parameters()]
    last = m[2].weight.data.copy()
    X, y = _data()
    nn.fit(m, nn.MSELoss(), nn.optim.Adam(m.parameters(), lr=0.05, weight_decay=0.1), X, y,
           epochs=5, batch_size=4, clip_grad_norm=1.0, patience=2, monitor="loss",
           progress=False, rng=np.random.default_rng(0))
    for p, before in zip(m[0].parameters(), first):
        np.testing.assert_array_equal(p.data, before)  # bit-unchanged
    assert not np.array_equal(m[2].weight.data, last)
    m.save(tmp_path / "tuned.npz")
    loaded = _model(seed=9).load(tmp_path / "tuned.npz")  # strict: the frozen layer is there
    for a, b in zip(loaded.parameters(), m.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    loaded.requires_grad_(True)
    nn.fit(loaded, nn.MSELoss(), nn.optim.SGD(loaded.parameters(), lr=0.05), X, y, epochs=2,
           progress=False)
    assert not np.array_equal(loaded[0].weight.data, first[0])


# ---------------------------------------------------------------- PyTorch (torch extra)
def test_fine_tuning_the_last_layer_matches_pytorch():
    torch = pytest.importorskip("torch")
    m = _model()
    m[0].requires_grad_(False)
    theirs = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1))
    theirs = theirs.double()
    with torch.no_grad():
        for i in (0, 2):  # npgrad's Linear stores (in, out); PyTorch's (out, in)
            theirs[i].weight.copy_(torch.tensor(m[i].weight.data.T))
            theirs[i].bias.copy_(torch.tensor(m[i].bias.data))
    theirs[0].requires_grad_(False)
    ours_opt = nn.optim.SGD(m.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
    their_opt = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9, weight_decay=0.01)
    X, y = _data()
    for _ in range(20):
        ours_opt.zero_grad()
        ((m(X) - y) ** 2).mean().backward()
        ours_opt.step()
        their_opt.zero_grad()
        ((theirs(torch.tensor(X)) - torch.tensor(y)) ** 2).mean().backward()
        their_opt.step()
    for i in (0, 2):
        np.testing.assert_allclose(m[i].weight.data, theirs[i].weight.detach().numpy().T,
                                   rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(m[i].bias.data, theirs[i].bias.detach().numpy(),
                                   rtol=1e-12, atol=1e-12)
    assert m[0].weight.grad is None
