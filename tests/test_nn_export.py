"""nn.export without PyTorch or ONNX: the trace, its refusals, PyTorch's names and layouts,
loading PyTorch-layout arrays, and the errors that name the missing extra's pip line."""

import subprocess
import sys

import numpy as np
import pytest

import autograd
import nn
from autograd import Tensor
from nn.export import torch_names
from nn.export.names import transposed
from nn.export.trace import BATCH, trace


class PerBatchMean(nn.Module):
    """A mean written with the batch size as a Python number: wrong for any other batch."""

    def __init__(self):
        self.lin = nn.Linear(3, 2)

    def forward(self, x):
        return self.lin(x).sum(axis=0) / x.shape[0]


class InPlace(nn.Module):
    def __init__(self):
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        h = self.lin(x)
        y = h * 2
        h += 1  # y's graph used h's old value: a replay would read the new one
        return y + h


class BatchControlFlow(nn.Module):
    def __init__(self):
        self.lin = nn.Linear(3, 3)

    def forward(self, x):
        return self.lin(x).tanh() if x.shape[0] % 2 else self.lin(x)


def test_trace_records_each_op_with_its_source():
    model = nn.MLP([3, 4, 2], activation="tanh")
    t = trace(model, np.ones((5, 3)))
    assert [n.op.name for n in t.nodes] == ["linear", "tanh", "linear"]
    first = t.nodes[0]
    assert [(r.kind, r.key) for r in first.inputs] == [
        ("input", 0), ("param", "layers.0.weight"), ("param", "layers.0.bias")]
    assert (t.nodes[1].inputs[0].kind, t.nodes[1].inputs[0].key) == ("node", 0)
    assert first.shape == (BATCH, 4)  # the output's first axis follows the batch
    assert np.array_equal(t.values[0], model(np.ones((5, 3))).data)


def test_flatten_reshape_follows_the_batch():
    t = trace(nn.Flatten(), np.ones((4, 2, 3)))
    assert t.nodes[0].attrs["shape"] == (BATCH, 6)


def test_python_number_tied_to_the_batch_size_is_refused():
    with pytest.raises(ValueError, match=r"divide.*the constant 3.*batch"):
        trace(PerBatchMean(), np.ones((3, 3)))
    t = trace(PerBatchMean(), np.ones((3, 3)), dynamic_batch=False)  # fine for this batch only
    assert t.nodes[-1].inputs[1].key == 3


def test_numpy_mask_tied_to_the_batch_is_refused():
    class Masked(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(3, 1)

        def forward(self, x):
            return autograd.where(x.data[:, :1] > 0, self.lin(x), 0.0)

    with pytest.raises(ValueError, match="batch"):
        trace(Masked(), np.ones((4, 3)))


def test_in_place_changes_are_refused():
    with pytest.raises(ValueError, match="in place"):
        trace(InPlace(), np.ones((2, 3)))


def test_control_flow_on_the_batch_size_is_refused():
    with pytest.raises(ValueError, match="control flow"):
        trace(BatchControlFlow(), np.ones((2, 3)))


def test_empty_and_0d_examples_are_refused():
    with pytest.raises(ValueError, match="no rows"):
        trace(nn.Linear(3, 2), np.ones((0, 3)))
    with pytest.raises(ValueError, match="0-d"):
        trace(nn.Tanh(), np.float64(1.0))


def test_non_tensor_output_is_refused():
    class Numbers(nn.Module):
        def forward(self, x):
            return 3

    with pytest.raises(TypeError, match="int"):
        trace(Numbers(), np.ones((2, 2)))


def test_float_data_takes_the_model_dtype():
    model = nn.Linear(3, 2, dtype=np.float32)
    t = trace(model, np.ones((2, 3)))  # float64 data, as model(x) would convert it
    assert t.input_dtypes == [np.float32] and t.values[0].dtype == np.float32


def test_torch_names_drop_sequential_lists_only():
    class Net(nn.Module):
        def __init__(self):
            self.body = nn.MLP([2, 3, 3])
            self.blocks = [nn.Linear(3, 3), nn.Linear(3, 1)]  # a plain list keeps its name

        def forward(self, x):
            return self.blocks[1](self.blocks[0](self.body(x)))

    names = torch_names(Net())
    assert names == {"body.layers.0.weight": "body.0.weight", "body.layers.0.bias": "body.0.bias",
                     "body.layers.2.weight": "body.2.weight", "body.layers.2.bias": "body.2.bias",
                     "blocks.0.weight": "blocks.0.weight", "blocks.0.bias": "blocks.0.bias",
                     "blocks.1.weight": "blocks.1.weight", "blocks.1.bias": "blocks.1.bias"}
    assert transposed(Net()) == {"body.layers.0.weight", "body.layers.2.weight",
                                 "blocks.0.weight", "blocks.1.weight"}
    assert torch_names(nn.Linear(2, 2)) == {"weight": "weight", "bias": "bias"}


def test_load_torch_state_dict_from_numpy_arrays():
    model = nn.MLP([2, 2, 1])
    w0 = np.array([[1.0, 2.0], [3.0, 4.0]])  # PyTorch's (out, in): square, so only the layout
    state = {"0.weight": w0, "0.bias": np.array([0.5, -0.5]),
             "2.weight": np.array([[1.0, -1.0]]), "2.bias": np.array([0.25])}
    result = nn.export.load_torch_state_dict(model, state)
    assert result == ([], [])
    assert np.array_equal(model.layers[0].weight.data, w0.T)
    x = np.array([[1.0, 1.0]])
    expected = np.maximum(x @ w0.T + [0.5, -0.5], 0) @ np.array([[1.0], [-1.0]]) + 0.25
    assert np.array_equal(model(x).data, expected)


def test_load_torch_state_dict_changes_nothing_on_error():
    model = nn.MLP([2, 2, 1])
    before = model.state_dict()
    state = {"0.weight": np.ones((2, 2)), "0.bias": np.ones(2), "2.weight": np.ones((2, 1)),
             "2.bias": np.ones(1), "3.weight": np.ones(1)}
    with pytest.raises(ValueError) as info:
        nn.export.load_torch_state_dict(model, state)
    assert "unknown keys ['3.weight']" in str(info.value)
    assert "'2.weight'" in str(info.value) and "(1, 2)" in str(info.value)
    for k, v in model.state_dict().items():
        assert np.array_equal(v, before[k])


def test_plain_load_state_dict_of_pytorch_keys_names_load_torch_state_dict():
    model = nn.MLP([2, 2, 1])
    state = {"0.weight": np.ones((2, 2)), "0.bias": np.ones(2), "2.weight": np.ones((1, 2)),
             "2.bias": np.ones(1)}
    with pytest.raises(ValueError, match="nn.export.load_torch_state_dict"):
        model.load_state_dict(state)


@pytest.mark.parametrize("module, extra, call", [
    ("torch", "torch", lambda: nn.export.to_torch(nn.Linear(2, 2), np.ones((1, 2)))),
    ("torch", "torch", lambda: nn.export.from_torch(object())),
    ("onnx", "onnx", lambda: nn.export.to_onnx(nn.Linear(2, 2), np.ones((1, 2)), "unused.onnx")),
])
def test_missing_extra_names_its_pip_line(monkeypatch, module, extra, call):
    monkeypatch.setitem(sys.modules, module, None)  # import raises ImportError
    with pytest.raises(ImportError, match=rf'pip install "npgrad\[{extra}\]"'):
        call()


def test_importing_nn_imports_neither_torch_nor_onnx():
    code = ("import sys, nn, nn.export; "
            "print(sorted(m for m in ('torch', 'onnx', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_trace_leaves_no_graph_and_no_gradients():
    model = nn.MLP([2, 3, 1])
    trace(model, np.ones((2, 2)))
    assert all(p.grad is None for p in model.parameters())
    assert Tensor(np.ones(2), requires_grad=True).requires_grad  # grad mode came back


class Recurrent(nn.Module):
    """A zero initial state built with numpy, of the batch's size: a filled constant."""

    def __init__(self):
        self.cell = nn.RNNCell(3, 2)

    def forward(self, x):
        return self.cell(x, Tensor(np.zeros((x.shape[0], 2))))


def test_a_batch_sized_constant_of_one_value_becomes_a_fill():
    recorded = trace(Recurrent(), np.ones((4, 3)))
    fills = [r for node in recorded.nodes for r in node.inputs if r.kind == "fill"]
    assert [(float(v), shape) for v, shape in (r.key for r in fills)] == [(0.0, (BATCH, 2))]


def test_a_batch_sized_constant_of_several_values_is_refused():
    class Ramp(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(x) + np.arange(x.shape[0] * 3.0).reshape(-1, 3)

    with pytest.raises(ValueError, match="input 1: a constant of shape"):
        trace(Ramp(), np.ones((4, 3)))


def test_reshape_to_a_multiple_of_the_batch_follows_it():
    from nn.export.trace import Batches
    recorded = trace(nn.AvgPool2d(2), np.ones((3, 2, 4, 4)))
    assert recorded.nodes[0].attrs["shape"][0] == Batches(2)  # (N * C, 1, H, W)


def test_nested_outputs_keep_their_structure():
    recorded = trace(nn.LSTM(3, 2, batch_first=True), np.ones((4, 5, 3)))
    assert recorded.structure == (None, (None, None)) and len(recorded.outputs) == 3


def test_an_input_read_only_through_numpy_is_refused():
    class Frozen(nn.Module):
        def __init__(self):
            self.lin = nn.Linear(3, 3)

        def forward(self, x):
            return self.lin(Tensor(np.tanh(x.data)))  # x's values would be frozen in

    with pytest.raises(ValueError, match="input 0 .* is read by no Tensor operation"):
        trace(Frozen(), np.ones((4, 3)), dynamic_batch=False)


def test_an_embedding_lookup_reads_its_input():
    from nn.export.trace import InputIndex
    recorded = trace(nn.Embedding(10, 3), np.array([[1, 2], [3, 3], [0, 9]]))
    assert recorded.nodes[0].attrs["index"] == InputIndex(0)


def test_an_embedding_with_padding_idx_is_refused():
    with pytest.raises(NotImplementedError, match="Embedding 'Embedding' has a padding_idx"):
        trace(nn.Embedding(10, 3, padding_idx=0), np.array([[1, 2], [3, 3]]))


@pytest.mark.parametrize("cls", [nn.BatchNorm1d, nn.BatchNorm2d])
def test_tracing_a_training_batch_norm_is_refused_and_leaves_its_buffers(cls):
    layer = cls(2)
    x = np.random.default_rng(0).normal(size=(4, 2) if cls is nn.BatchNorm1d else (4, 2, 3, 3))
    before = {k: v.copy() for k, v in layer.state_dict().items()}
    with pytest.raises(ValueError, match=rf"running_mean|{cls.__name__}.*model\.eval\(\)"):
        trace(layer, x)  # its running statistics would not update in the exported graph
    for k, v in layer.state_dict().items():
        assert np.array_equal(v, before[k]), k
    trace(layer.eval(), x)


def test_an_eval_batch_norm_graph_reads_its_buffers():
    layer = nn.BatchNorm1d(2).eval()
    recorded = trace(layer, np.ones((4, 2)))
    read = {r.key for n in recorded.nodes for r in n.inputs if r.kind == "param"}
    assert {"running_mean", "running_var", "weight", "bias"} <= read


@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss()])
def test_a_loss_whose_target_is_read_as_data_is_refused(loss):
    """nn's losses read the target through numpy: traced for one batch it would be frozen in."""
    x = np.random.default_rng(0).normal(size=(4, 3))
    target = np.abs(x) / np.abs(x).sum(axis=1, keepdims=True)
    with pytest.raises(ValueError, match="input 1 .* is read by no Tensor operation"):
        trace(loss, (x, target), dynamic_batch=False)
