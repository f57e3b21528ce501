"""nn.export against PyTorch: every primitive, every nn layer and whole models carried across.

For each model, `to_torch` traces a batch of ROWS rows, then npgrad and the torch module run a
batch of OTHER_ROWS (the batch axis must be dynamic) and must agree on outputs and on the
gradients of a fixed weighting of the output with respect to the input and every parameter
(1e-12 in float64). Weights go npgrad -> torch -> npgrad bit-identically, and back from plain
torch layers (`from_torch`). Needs the `torch` extra; skipped without it.
"""

import copy
from pathlib import Path

import numpy as np
import pytest
from export_cases import (
    OP_CASES,
    OTHER_ROWS,
    ROWS,
    Masked,
    SkipNet,
    layer_input,
    layer_models,
    op_inputs,
    op_model,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd
import nn
from autograd import Tensor, ops

torch = pytest.importorskip("torch")

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 2e-5, np.float64: 1e-12}


def ours(model, inputs, weights):
    """npgrad's output, and the gradients of sum(output * weights): input first, then params."""
    tensors = [Tensor(a, requires_grad=i == 0) for i, a in enumerate(inputs)]
    model.zero_grad()
    out = model(*tensors)
    (out * weights).sum().backward()
    return out.data, [tensors[0].grad] + [p.grad if p.grad is not None else np.zeros(p.shape)
                                          for _, p in model.named_parameters()]


def theirs(gm, model, inputs, weights):
    """The torch module's output and gradients, parameters in npgrad's order and layout."""
    tensors = [torch.tensor(a, requires_grad=i == 0) for i, a in enumerate(inputs)]
    out = gm(*tensors)
    (out * torch.from_numpy(weights)).sum().backward()
    params = dict(gm.named_parameters())
    names = nn.export.torch_names(model)
    flipped = nn.export.names.transposed(model)
    grads = [tensors[0].grad.numpy()]
    for name, _ in model.named_parameters():
        g = params[names[name]].grad
        g = np.zeros(params[names[name]].shape) if g is None else g.numpy()
        grads.append(g.T if name in flipped else g)
    return out.detach().numpy(), grads


def assert_close(a, b, dtype, what):
    tol = TOL[dtype]
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol, err_msg=what)


def compare(model, inputs, dtype, gm):
    out = model(*[Tensor(a) for a in inputs]).data
    weights = np.random.default_rng(5).normal(size=out.shape).astype(dtype)
    ours_out, ours_grads = ours(model, inputs, weights)
    theirs_out, theirs_grads = theirs(gm, model, inputs, weights)
    assert theirs_out.dtype == ours_out.dtype == dtype
    assert_close(theirs_out, ours_out, dtype, "output")
    for i, (a, b) in enumerate(zip(theirs_grads, ours_grads)):
        assert_close(a, b, dtype, f"gradient {i}")


def test_every_op_has_a_case():
    assert sorted(OP_CASES) == sorted(op.name for op in ops.OPS)
    from nn.export.torch_graph import TORCH_OPS
    assert sorted(TORCH_OPS) == sorted(op.name for op in ops.OPS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_op_outputs_and_gradients_match(name, dtype):
    model, dynamic = op_model(name, dtype)
    gm = nn.export.to_torch(model, op_inputs(name, dtype, ROWS), dynamic_batch=dynamic)
    compare(model, op_inputs(name, dtype, OTHER_ROWS if dynamic else ROWS, seed=1), dtype, gm)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(layer_models(np.float64)))
def test_layer_round_trip(name, dtype):
    model, width = layer_models(dtype)[name]
    before = copy.deepcopy(model.state_dict())
    gm = nn.export.to_torch(model, layer_input(width, dtype, ROWS))
    exported = copy.deepcopy(model.state_dict())
    for k, a in before.items():  # the export leaves the weights as they were
        assert np.array_equal(exported[k], a), k
    # (a training BatchNorm then updates its running statistics in npgrad's forward passes)
    compare(model, (layer_input(width, dtype, OTHER_ROWS, seed=2),), dtype, gm)
    # npgrad -> torch -> npgrad: bit-identical weights and buffers, in the model's dtypes
    fresh = copy.deepcopy(model)
    for _, t in fresh._named_tensors():  # parameters and buffers
        t.data[...] = 0
    nn.export.load_torch_state_dict(fresh, gm.state_dict())
    for (k, a), b in zip(exported.items(), fresh.state_dict().values()):
        assert a.dtype == b.dtype and np.array_equal(a, b), k
        assert a.dtype == dtype or k.endswith("num_batches_tracked"), k


def test_state_dict_uses_pytorch_names_and_layouts():
    model = nn.MLP([3, 5, 2])
    gm = nn.export.to_torch(model, np.ones((2, 3)))
    reference = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(),
                                    torch.nn.Linear(5, 2)).double()
    assert {k: v.shape for k, v in gm.state_dict().items()} == {
        k: v.shape for k, v in reference.state_dict().items()}
    reference.load_state_dict(gm.state_dict())  # PyTorch's own loader accepts it
    x = torch.randn(4, 3, dtype=torch.float64)
    torch.testing.assert_close(reference(x), gm(x), rtol=1e-12, atol=1e-12)


def test_frozen_parameters_and_buffers_cross_over():
    model = nn.MLP([3, 4, 2])
    model.layers[0].requires_grad_(False)
    model.register_buffer("scale", np.array([2.0, 3.0]))
    model.forward = lambda x: nn.MLP.forward(model, x) * model.scale
    gm = nn.export.to_torch(model, np.ones((2, 3)))
    assert not gm.get_parameter("0.weight").requires_grad
    assert gm.get_parameter("2.weight").requires_grad
    assert torch.equal(gm.get_buffer("scale"), torch.tensor([2.0, 3.0], dtype=torch.float64))
    assert set(gm.state_dict()) == {"0.weight", "0.bias", "2.weight", "2.bias", "scale"}
    compare(model, (np.random.default_rng(0).normal(size=(6, 3)),), np.float64, gm)


@pytest.mark.parametrize("dtype", DTYPES)
def test_custom_network_masked_loss(dtype):
    """The example's SkipNet with its masked loss (mask and one-hot rows are trace constants)."""
    net = SkipNet(8, 6, 4).astype(dtype)
    labels = np.array([2, -1, 0, 3, -1, 1])
    model = Masked(net, labels)
    x = np.random.default_rng(0).normal(size=(6, 8)).astype(dtype)
    with pytest.raises(ValueError, match="batch"):
        nn.export.to_torch(model, x)  # the mask is tied to these 6 rows
    gm = nn.export.to_torch(model, x, dynamic_batch=False)
    compare(model, (x,), dtype, gm)


def test_custom_network_gradients_under_a_torch_masked_loss():
    """The exported SkipNet (any batch size) under the masked loss written in torch: the loss
    and every parameter's gradient are npgrad's."""
    net = SkipNet(8, 6, 4)
    x = np.random.default_rng(0).normal(size=(6, 8))
    gm = nn.export.to_torch(net, x[:3])
    labels = np.array([2, -1, 0, 3, -1, 1])
    loss = Masked(net, labels)(Tensor(x))
    net.zero_grad()
    loss.backward()
    logits = gm(torch.from_numpy(x))
    known = torch.from_numpy(labels >= 0)
    rows = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels).clamp(min=0),
                                             reduction="none")
    theirs = torch.where(known, rows, 0.0).sum() / known.sum()
    theirs.backward()
    assert abs(theirs.item() - loss.item()) <= 1e-12 * abs(loss.item())
    for name, p in net.named_parameters():
        g = gm.get_parameter(name).grad.numpy()
        np.testing.assert_allclose(g.T if name.endswith("weight") else g, p.grad, rtol=1e-12,
                                   atol=1e-12, err_msg=name)


def test_ddp_example_continues_npgrad_training(monkeypatch, tmp_path):
    """examples/outgrow_to_pytorch.py at its quick size: 2 processes (gloo), a few epochs."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import outgrow_to_pytorch

    result = outgrow_to_pytorch.main(quick=True, out=tmp_path)
    first, second = result["ddp_losses"]
    assert result["identical"] and first == second  # both processes: same weights, same curve
    assert abs(first[0] - result["npgrad_loss"]) <= 1e-12 * result["npgrad_loss"]
    assert first[-1] < first[0] - 0.01  # the loss went on down from npgrad's last one
    assert abs(result["final_loss"] - first[-1]) <= 1e-12 * first[-1]  # weights came back
    if result["onnx_accuracy"] is not None:
        assert result["onnx_accuracy"] == result["npgrad_accuracy"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_from_torch_plain_layers(dtype):
    torch.manual_seed(0)
    tm = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(6, 5), torch.nn.GELU("tanh"),
                             torch.nn.Dropout(0.1), torch.nn.Linear(5, 5), torch.nn.LeakyReLU(0.2),
                             torch.nn.Linear(5, 3, bias=False), torch.nn.Softmax(-1))
    tm = tm.to(torch.float32 if dtype == np.float32 else torch.float64).eval()
    model = nn.export.from_torch(tm)
    assert not model.training
    assert [type(m).__name__ for m in model] == ["Flatten", "Linear", "GELU", "Dropout", "Linear",
                                                 "LeakyReLU", "Linear", "Softmax"]
    x = np.random.default_rng(0).normal(size=(4, 2, 3)).astype(dtype)
    with torch.no_grad():
        expected = tm(torch.from_numpy(x)).numpy()
    assert_close(model(x).data, expected, dtype, "from_torch output")
    back = nn.export.to_torch(model, x).state_dict()
    for k, v in tm.state_dict().items():
        assert torch.equal(back[k], v), k  # torch -> npgrad -> torch: bit-identical


def _lstm_output(module):
    class Output(torch.nn.Module):  # the output sequence of a recurrent layer
        def __init__(self):
            super().__init__()
            self.rnn = module

        def forward(self, x):
            return self.rnn(x)[0]
    return Output()


# torch layer -> the input shape after the batch axis
FROM_TORCH_CASES = {
    "BatchNorm1d": (lambda: torch.nn.BatchNorm1d(3), (3,)),
    "BatchNorm1d-3d": (lambda: torch.nn.BatchNorm1d(3, momentum=None), (3, 4)),
    "BatchNorm2d": (lambda: torch.nn.BatchNorm2d(2, eps=1e-3), (2, 3, 3)),
    "LayerNorm": (lambda: torch.nn.LayerNorm((2, 3)), (2, 3)),
    "Conv1d": (lambda: torch.nn.Conv1d(2, 4, 3, stride=2, padding=1, groups=2), (2, 7)),
    "Conv2d-CNN": (lambda: torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.AvgPool2d(2, padding=1), torch.nn.AdaptiveAvgPool2d((2, 1)),
        torch.nn.Flatten(), torch.nn.Linear(4, 3), torch.nn.LogSoftmax(-1)), (1, 6, 6)),
    "MaxPool1d": (lambda: torch.nn.MaxPool1d(3, stride=2, padding=1), (2, 7)),
    "RNN-relu": (lambda: _lstm_output(torch.nn.RNN(3, 2, nonlinearity="relu",
                                                   batch_first=True)), (4, 3)),
    "GRU": (lambda: _lstm_output(torch.nn.GRU(3, 2, num_layers=2, batch_first=True)), (4, 3)),
    "LSTM": (lambda: _lstm_output(torch.nn.LSTM(3, 2, batch_first=True)), (4, 3)),
    "GRUCell": (lambda: torch.nn.GRUCell(3, 2), (3,)),
    "ModuleList": (lambda: torch.nn.Sequential(torch.nn.ModuleList([torch.nn.Linear(3, 3)])[0],
                                               torch.nn.GELU()), (3,)),
}


@pytest.mark.parametrize("train", [False, True])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FROM_TORCH_CASES))
def test_from_torch_layers(name, dtype, train):
    make, shape = FROM_TORCH_CASES[name]
    torch.manual_seed(0)
    tm = make().to(torch.float32 if dtype == np.float32 else torch.float64)
    for key, value in tm.state_dict().items():  # running statistics away from their defaults
        if "running" in key:
            value.copy_(torch.rand_like(value) + 0.5)
    tm.train(train)
    target = type(tm.rnn) if hasattr(tm, "rnn") else type(tm)
    model = (nn.export.from_torch(tm.rnn) if hasattr(tm, "rnn") else nn.export.from_torch(tm))
    assert type(model).__name__ == target.__name__ and model.training == train
    x = np.random.default_rng(1).normal(size=(5, *shape)).astype(dtype)
    ours = model(x)
    ours = ours[0] if isinstance(ours, tuple) else ours
    theirs = tm(torch.from_numpy(x))  # (a training batch norm updates both sides' statistics)
    assert_close(ours.data, theirs.detach().numpy(), dtype, "from_torch output")
    state = model.state_dict()
    reference = tm.rnn.state_dict() if hasattr(tm, "rnn") else tm.state_dict()
    assert set(nn.export.torch_names(model).values()) == set(reference)
    names = nn.export.torch_names(model)
    flipped = nn.export.names.transposed(model)
    for ours_name, torch_name in names.items():  # running statistics after one step included
        a = state[ours_name].T if ours_name in flipped else state[ours_name]
        assert_close(a, reference[torch_name].numpy(), dtype, torch_name)


def test_from_torch_unknown_layer_names_it():
    with pytest.raises(TypeError, match="PReLU.*load_torch_state_dict"):
        nn.export.from_torch(torch.nn.Sequential(torch.nn.PReLU()))
    with pytest.raises(ValueError, match="proj_size"):
        nn.export.from_torch(torch.nn.LSTM(3, 4, proj_size=2))


def test_load_torch_state_dict_checks_every_key_and_shape():
    model = nn.MLP([3, 3, 2])
    tm = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    nn.export.load_torch_state_dict(model, tm.state_dict())
    # the square weight arrives transposed into npgrad's (in, out) layout
    assert np.array_equal(model.layers[0].weight.data, tm[0].weight.detach().numpy().T)
    extra = dict(tm.state_dict(), **{"4.weight": torch.zeros(2, 2)})
    with pytest.raises(ValueError, match=r"unknown keys \['4.weight'\]"):
        nn.export.load_torch_state_dict(model, extra)
    missing = {k: v for k, v in tm.state_dict().items() if k != "2.bias"}
    with pytest.raises(ValueError, match=r"missing keys \['2.bias'\]"):
        nn.export.load_torch_state_dict(model, missing)
    assert nn.export.load_torch_state_dict(model, missing, strict=False).missing_keys == ["2.bias"]
    wrong = dict(tm.state_dict(), **{"2.weight": torch.zeros(3, 2)})
    with pytest.raises(ValueError, match=r"'2.weight'.*\(2, 3\).*\(3, 2\)"):
        nn.export.load_torch_state_dict(model, wrong)


def test_plain_load_state_dict_names_load_torch_state_dict():
    model = nn.MLP([3, 3, 2])
    tm = torch.nn.Sequential(torch.nn.Linear(3, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with pytest.raises(ValueError, match="load_torch_state_dict"):
        model.load_state_dict(tm.state_dict())
    numpy_state = {"layers." + k: v.numpy() for k, v in tm.state_dict().items()}
    with pytest.raises(ValueError, match="load_torch_state_dict"):
        model.load_state_dict(numpy_state)  # (2, 3) vs (3, 2): the layout reversed


def test_unsupported_op_is_named(monkeypatch):
    from nn.export import torch_graph
    monkeypatch.delitem(torch_graph.TORCH_OPS, "tanh")
    with pytest.raises(NotImplementedError, match="'tanh'"):
        nn.export.to_torch(nn.MLP([2, 3, 1], activation="tanh"), np.ones((2, 2)))


def test_wrong_mapping_is_caught_not_returned(monkeypatch):
    from nn.export import torch_graph
    monkeypatch.setitem(torch_graph.TORCH_OPS, "tanh", torch_graph.TORCH_OPS["sigmoid"])
    with pytest.raises(RuntimeError, match="differs from npgrad"):
        nn.export.to_torch(nn.MLP([2, 3, 1], activation="tanh"), np.ones((2, 2)))


def test_training_dropout_is_refused():
    model = nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5))  # in training mode: a random mask
    for dynamic in (True, False):
        with pytest.raises(ValueError, match=r"Dropout 'layers.1' is in training mode.*eval"):
            nn.export.to_torch(model, np.ones((4, 3)), dynamic_batch=dynamic)
    assert isinstance(nn.export.to_torch(model.eval(), np.ones((4, 3))), torch.nn.Module)


def test_several_inputs_and_outputs():
    class Two(nn.Module):
        def __init__(self):
            self.a = nn.Linear(2, 3)

        def forward(self, x, y):
            return self.a(x) * y, autograd.concatenate([x, y], axis=1)

    model = Two()
    x, y = np.ones((2, 2)), np.full((2, 3), 2.0)
    gm = nn.export.to_torch(model, (x, y))
    first, second = gm(torch.ones(5, 2, dtype=torch.float64), torch.full((5, 3), 2.0,
                                                                         dtype=torch.float64))
    assert first.shape == (5, 3) and second.shape == (5, 5)


@settings(max_examples=20, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=4),
       activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "gelu", "softplus"]),
       rows=st.integers(1, 4), other=st.integers(1, 9), seed=st.integers(0, 2**16),
       dtype=st.sampled_from(DTYPES))
def test_any_mlp_matches_on_any_batch(sizes, activation, rows, other, seed, dtype):
    rng = np.random.default_rng(seed)
    model = nn.MLP(sizes, activation=activation, rng=rng, dtype=dtype)
    gm = nn.export.to_torch(model, rng.normal(size=(rows, sizes[0])))
    compare(model, (rng.normal(size=(other, sizes[0])).astype(dtype),), dtype, gm)


def test_a_linear_weight_used_elsewhere_too_keeps_one_parameter():
    """Weight tying: the Linear weight also multiplies by hand (npgrad's layout, so W.t())."""

    class Tied(nn.Module):
        def __init__(self):
            self.enc = nn.Linear(3, 4, rng=np.random.default_rng(0))

        def forward(self, x):
            return self.enc(x) @ self.enc.weight.T

    model = Tied()
    gm = nn.export.to_torch(model, np.ones((2, 3)))
    assert [k for k, _ in gm.named_parameters()] == ["enc.weight", "enc.bias"]
    compare(model, (np.random.default_rng(1).normal(size=(5, 3)),), np.float64, gm)


class Lookup(nn.Module):
    """Embedding rows of integer indices (batch, 3), summed and mapped by a Linear."""

    def __init__(self, dtype):
        self.emb = nn.Embedding(10, 4, rng=np.random.default_rng(0), dtype=dtype)
        self.out = nn.Linear(4, 2, rng=np.random.default_rng(1), dtype=dtype)

    def forward(self, indices):
        return self.out(self.emb(indices).sum(axis=1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_looks_up_the_input_it_is_given(dtype):
    model = Lookup(dtype)
    gm = nn.export.to_torch(model, np.array([[1, 2, 2], [0, 9, 3]]))
    indices = np.random.default_rng(4).integers(0, 10, size=(OTHER_ROWS, 3))
    out = model(indices)
    weights = np.random.default_rng(5).normal(size=out.shape).astype(dtype)
    model.zero_grad()
    (out * weights).sum().backward()
    theirs = gm(torch.from_numpy(indices))
    (theirs * torch.from_numpy(weights)).sum().backward()
    assert_close(theirs.detach().numpy(), out.data, dtype, "output")
    assert_close(gm.emb.weight.grad.numpy(), model.emb.weight.grad, dtype, "embedding gradient")
    assert dict(gm.named_parameters()).keys() == {"emb.weight", "out.weight", "out.bias"}


def test_lstm_state_comes_back_nested():
    lstm = nn.LSTM(3, 2, num_layers=2, batch_first=True)
    x = np.random.default_rng(0).normal(size=(4, 5, 3))
    gm = nn.export.to_torch(lstm, x[:2])
    output, (h, c) = gm(torch.from_numpy(x))
    ours, (our_h, our_c) = lstm(x)
    for a, b in ((output, ours), (h, our_h), (c, our_c)):
        assert_close(a.detach().numpy(), b.data, np.float64, "lstm")
    reference = torch.nn.LSTM(3, 2, num_layers=2, batch_first=True).double()
    reference.load_state_dict(gm.state_dict())  # PyTorch's names and layouts as they are
    assert_close(reference(torch.from_numpy(x))[0].detach().numpy(), ours.data, np.float64,
                 "torch.nn.LSTM with the exported weights")


def test_batch_first_false_recurrent_layer_is_refused():
    """Axis 0 is the batch axis: a sequence-first input's loop follows it."""
    with pytest.raises(ValueError, match="control flow depends on the batch size"):
        nn.export.to_torch(nn.GRU(3, 2), np.ones((4, 2, 3)))


def test_a_training_batch_norm_with_running_statistics_is_refused():
    # Its forward pass updates the running statistics in place, which a graph would not repeat:
    # the torch model would keep training with statistics frozen at the export's values.
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh())
    with pytest.raises(ValueError, match=r"layers.1 \(BatchNorm1d\) is changed in place.*"
                                         r"running statistic.*model\.eval\(\)"):
        nn.export.to_torch(model, np.ones((4, 3)))
    assert isinstance(nn.export.to_torch(model.eval(), np.ones((4, 3))), torch.nn.Module)
    untracked = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4, track_running_stats=False))
    assert isinstance(nn.export.to_torch(untracked, np.ones((4, 3))), torch.nn.Module)
