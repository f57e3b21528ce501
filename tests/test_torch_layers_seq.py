"""Normalisation, embedding and recurrent layers against PyTorch, with the same weights.

Each case builds an npgrad layer, copies its parameters into the PyTorch layer of the same name,
runs both on the same input, and compares outputs, the input's gradient and every parameter's
gradient of a fixed random weighting of the outputs; batch norm also compares its running
statistics over several training steps and its eval() outputs. float64 and float32. Needs the
`torch` extra; skipped without it.
"""

import numpy as np
import pytest

import nn
from autograd import Tensor

torch = pytest.importorskip("torch")

DTYPES = [np.float64, np.float32]
TOL = {np.float64: dict(rtol=1e-9, atol=1e-11), np.float32: dict(rtol=2e-4, atol=2e-5)}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def copy_weights(ours: nn.Module, theirs) -> None:
    """Our parameters into PyTorch's, by name (the names are PyTorch's for these layers)."""
    state = {name: torch.from_numpy(p.data.copy()) for name, p in ours.named_parameters()}
    missing = set(dict(theirs.named_parameters())) - set(state)
    assert not missing, missing
    theirs.load_state_dict(state, strict=False)


def leaves(values):
    """Flatten nested tuples of outputs into a list."""
    if isinstance(values, tuple):
        return [leaf for v in values for leaf in leaves(v)]
    return [values]


def compare(ours: nn.Module, theirs, inputs: list, dtype, grad_inputs=(0,), weights_seed=0):
    """Run both on `inputs` (arrays or tuples of arrays), compare outputs and gradients."""
    tol = TOL[dtype]
    ours_in, theirs_in = [], []
    for i, value in enumerate(inputs):
        if value is None:
            ours_in.append(None)
            theirs_in.append(None)
        elif isinstance(value, tuple):
            ours_in.append(tuple(Tensor(v.astype(dtype), requires_grad=True) for v in value))
            theirs_in.append(tuple(torch.tensor(v.astype(dtype), requires_grad=True)
                                   for v in value))
        elif value.dtype.kind in "iu":  # indices
            ours_in.append(value)
            theirs_in.append(torch.from_numpy(value.astype(np.int64)))
        else:
            ours_in.append(Tensor(value.astype(dtype), requires_grad=i in grad_inputs))
            theirs_in.append(torch.tensor(value.astype(dtype), requires_grad=i in grad_inputs))
    out_ours, out_theirs = leaves(ours(*ours_in)), leaves(theirs(*theirs_in))
    assert len(out_ours) == len(out_theirs)
    rng = np.random.default_rng(weights_seed)
    loss_ours, loss_theirs = 0.0, 0.0
    for a, b in zip(out_ours, out_theirs):
        assert a.dtype == dtype and a.shape == tuple(b.shape)
        np.testing.assert_allclose(a.data, b.detach().numpy(), **tol)
        w = rng.normal(size=a.shape).astype(dtype)
        loss_ours = (a * w).sum() + loss_ours
        loss_theirs = (b * torch.from_numpy(w)).sum() + loss_theirs
    loss_ours.backward()
    loss_theirs.backward()
    for a, b in zip(leaves(tuple(ours_in)), leaves(tuple(theirs_in))):
        if isinstance(a, Tensor) and a.requires_grad:
            np.testing.assert_allclose(a.grad, b.grad.numpy(), **tol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, theirs_params[name].grad.numpy(), **tol,
                                   err_msg=name)
    return out_ours


def normal(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape)


# ---------------------------------------------------------------- batch norm
BN_CASES = [  # (layer, input shape, keyword arguments)
    ("BatchNorm1d", (6, 3), {}),
    ("BatchNorm1d", (4, 3, 5), {}),
    ("BatchNorm1d", (2, 1), dict(momentum=0.3)),
    ("BatchNorm1d", (5, 4), dict(momentum=None)),
    ("BatchNorm1d", (5, 4), dict(affine=False)),
    ("BatchNorm1d", (5, 4), dict(track_running_stats=False)),
    ("BatchNorm2d", (3, 2, 4, 5), {}),
    ("BatchNorm2d", (1, 3, 2, 2), dict(eps=1e-3)),
    ("BatchNorm2d", (2, 2, 1, 1), dict(momentum=None, affine=False)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name,shape,kwargs", BN_CASES, ids=lambda c: str(c))
def test_batch_norm_training_steps_running_stats_and_eval(name, shape, kwargs, dtype):
    ours = getattr(nn, name)(shape[1], dtype=dtype, **kwargs)
    theirs = getattr(torch.nn, name)(shape[1], dtype=TORCH_DTYPE[dtype], **kwargs)
    if ours.affine:  # not the default ones and zeros, so a swapped scale and shift would show
        ours.weight.data[...] = normal(shape[1], seed=10) + 1
        ours.bias.data[...] = normal(shape[1], seed=11)
        copy_weights(ours, theirs)
    for step in range(4):
        x = normal(*shape, seed=step) * (step + 1) + step  # statistics that move
        compare(ours, theirs, [x], dtype, weights_seed=step)
        ours.zero_grad()
        theirs.zero_grad()
        if ours.track_running_stats:
            tol = TOL[dtype]
            np.testing.assert_allclose(ours.running_mean.data, theirs.running_mean.numpy(), **tol)
            np.testing.assert_allclose(ours.running_var.data, theirs.running_var.numpy(), **tol)
            assert float(ours.num_batches_tracked.data) == theirs.num_batches_tracked.item()
        else:
            assert ours.running_mean is None and theirs.running_mean is None
    ours.eval()
    theirs.eval()
    compare(ours, theirs, [normal(*shape, seed=9) + 3], dtype)
    if ours.track_running_stats:  # batch 1 in eval (else batch statistics: refused by both)
        compare(ours, theirs, [normal(1, *shape[1:], seed=8)], dtype)


def test_batch_norm_functional_matches_torch():
    x = normal(4, 3, 2)
    rm, rv = Tensor(np.zeros(3)), Tensor(np.ones(3))
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    w, b = normal(3, seed=1), normal(3, seed=2)
    ours = nn.functional.batch_norm(Tensor(x), rm, rv, Tensor(w), Tensor(b), training=True,
                                    momentum=0.2)
    theirs = torch.nn.functional.batch_norm(torch.from_numpy(x), trm, trv, torch.from_numpy(w),
                                            torch.from_numpy(b), training=True, momentum=0.2)
    np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rm.data, trm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(rv.data, trv.numpy(), rtol=1e-12)


# ---------------------------------------------------------------- layer norm
LN_CASES = [
    ((4, 5), 5, {}),
    ((2, 3, 4), (3, 4), {}),
    ((1, 1, 6), 6, dict(eps=1e-3)),
    ((3, 4), 4, dict(elementwise_affine=False)),
    ((3, 4), 4, dict(bias=False)),
    ((5,), 5, {}),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape,normalized,kwargs", LN_CASES, ids=lambda c: str(c))
def test_layer_norm(shape, normalized, kwargs, dtype):
    ours = nn.LayerNorm(normalized, dtype=dtype, **kwargs)
    theirs = torch.nn.LayerNorm(normalized, dtype=TORCH_DTYPE[dtype], **kwargs)
    for p in ours.parameters():
        p.data[...] = normal(*p.shape, seed=p.ndim) + 1
    if ours.parameters():
        copy_weights(ours, theirs)
    compare(ours, theirs, [normal(*shape) * 5 + 2], dtype)
    compare(ours.eval(), theirs.eval(), [normal(*shape, seed=1)], dtype)  # no mode difference


# ---------------------------------------------------------------- embedding
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("padding_idx", [None, 0, 3, -1])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (1, 1), (0,)])
def test_embedding(shape, padding_idx, dtype):
    ours = nn.Embedding(5, 3, padding_idx=padding_idx, dtype=dtype)
    theirs = torch.nn.Embedding(5, 3, padding_idx=padding_idx, dtype=TORCH_DTYPE[dtype])
    if padding_idx is not None:  # both start that row at zero
        assert not ours.weight.data[padding_idx].any()
        ours.weight.data[padding_idx] = 7.0  # a row of our own: output, but no gradient
    copy_weights(ours, theirs)
    index = np.random.default_rng(0).integers(0, 5, size=shape)
    if index.size > 2:
        index.flat[:2] = (ours.padding_idx or 0, ours.padding_idx or 0)  # repeats accumulate
    compare(ours, theirs, [index], dtype)


# ---------------------------------------------------------------- recurrent layers
RNN_CASES = [  # (layer, input_size, hidden_size, keyword arguments)
    ("RNN", 3, 4, {}),
    ("RNN", 3, 4, dict(nonlinearity="relu", num_layers=2)),
    ("RNN", 2, 3, dict(bias=False, batch_first=True)),
    ("GRU", 3, 4, {}),
    ("GRU", 3, 5, dict(num_layers=3, batch_first=True)),
    ("GRU", 2, 2, dict(bias=False)),
    ("LSTM", 3, 4, {}),
    ("LSTM", 3, 4, dict(num_layers=2, batch_first=True)),
    ("LSTM", 1, 6, dict(bias=False, num_layers=2)),
]
# (seq, batch) pairs: sequence length 1 and batch 1 included; batch None is an unbatched input.
SHAPES = [(5, 2), (1, 3), (4, 1), (3, None)]


def sequence(layer, seq, batch, input_size, seed=0):
    if batch is None:
        return normal(seq, input_size, seed=seed)
    shape = (batch, seq) if layer.batch_first else (seq, batch)
    return normal(*shape, input_size, seed=seed)


def initial_state(layer, batch, seed):
    shape = (layer.num_layers, layer.hidden_size) if batch is None else \
        (layer.num_layers, batch, layer.hidden_size)
    h = normal(*shape, seed=seed) * 0.5
    if isinstance(layer, nn.LSTM):
        return (h, normal(*shape, seed=seed + 1))
    return h


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("seq,batch", SHAPES, ids=str)
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "initial_state"])
@pytest.mark.parametrize("name,n_in,hidden,kwargs", RNN_CASES, ids=lambda c: str(c))
def test_recurrent_layer(name, n_in, hidden, kwargs, with_state, seq, batch, dtype):
    ours = getattr(nn, name)(n_in, hidden, dtype=dtype, **kwargs)
    theirs = getattr(torch.nn, name)(n_in, hidden, dtype=TORCH_DTYPE[dtype], **kwargs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    copy_weights(ours, theirs)
    x = sequence(ours, seq, batch, n_in)
    state = initial_state(ours, batch, seed=5) if with_state else None
    out = compare(ours, theirs, [x, state], dtype)
    expected_h = (ours.num_layers, hidden) if batch is None else (ours.num_layers, batch, hidden)
    assert out[1].shape == expected_h


CELL_CASES = [
    ("RNNCell", {}),
    ("RNNCell", dict(nonlinearity="relu", bias=False)),
    ("GRUCell", {}),
    ("GRUCell", dict(bias=False)),
    ("LSTMCell", {}),
    ("LSTMCell", dict(bias=False)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("batch", [3, 1, None], ids=str)
@pytest.mark.parametrize("with_state", [False, True], ids=["zero_state", "initial_state"])
@pytest.mark.parametrize("name,kwargs", CELL_CASES, ids=lambda c: str(c))
def test_cell(name, kwargs, with_state, batch, dtype):
    ours = getattr(nn, name)(3, 4, dtype=dtype, **kwargs)
    theirs = getattr(torch.nn, name)(3, 4, dtype=TORCH_DTYPE[dtype], **kwargs)
    copy_weights(ours, theirs)
    shape = (3,) if batch is None else (batch, 3)
    state_shape = (4,) if batch is None else (batch, 4)
    state = None
    if with_state:
        state = normal(*state_shape, seed=2)
        if name == "LSTMCell":
            state = (state, normal(*state_shape, seed=3))
    compare(ours, theirs, [normal(*shape), state], dtype)


def test_default_initialisation_has_torchs_ranges():
    # U(-1/sqrt(H), 1/sqrt(H)) for every recurrent weight and bias; N(0, 1) embeddings.
    nn.manual_seed(0)
    lstm = nn.LSTM(10, 16, num_layers=2)
    for name, p in lstm.named_parameters():
        assert np.abs(p.data).max() <= 0.25 and np.abs(p.data).max() > 0.24, name
    weight = nn.Embedding(1000, 50).weight.data
    assert abs(weight.mean()) < 0.01 and abs(weight.std() - 1) < 0.01
    ref = torch.nn.LSTM(10, 16, num_layers=2)
    assert {n: tuple(p.shape) for n, p in lstm.named_parameters()} == \
        {n: tuple(p.shape) for n, p in ref.named_parameters()}


def test_pytorch_state_dicts_load_into_the_same_layers():
    # The names, shapes and order of parameters and buffers are PyTorch's: a trained PyTorch
    # model's state_dict loads as it is (num_batches_tracked, int64 there, becomes a float).
    torch.manual_seed(0)
    theirs = torch.nn.ModuleDict({"bn": torch.nn.BatchNorm1d(3), "lstm": torch.nn.LSTM(3, 4, 2),
                                  "emb": torch.nn.Embedding(5, 3, padding_idx=1)}).double()
    for _ in range(3):
        theirs["bn"](torch.randn(6, 3, dtype=torch.float64) * 2 + 1)
    ours = nn.Sequential(nn.BatchNorm1d(3), nn.LSTM(3, 4, 2), nn.Embedding(5, 3, padding_idx=1))
    prefix = {"bn": "layers.0", "lstm": "layers.1", "emb": "layers.2"}
    state = {f"{prefix[k.split('.')[0]]}.{k.split('.', 1)[1]}": v.numpy()
             for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict())
    ours.load_state_dict(state)
    ours.eval()
    theirs.eval()
    x = normal(2, 3)
    np.testing.assert_allclose(ours.layers[0](x).data,
                               theirs["bn"](torch.from_numpy(x)).detach().numpy(), rtol=1e-12)
    seq = normal(5, 2, 3)
    np.testing.assert_allclose(ours.layers[1](seq)[0].data,
                               theirs["lstm"](torch.from_numpy(seq))[0].detach().numpy(),
                               rtol=1e-12)
    assert float(ours.layers[0].num_batches_tracked.data) == 3
