"""nn.export.to_onnx against onnxruntime: every primitive, every nn layer and whole models.

Each model is traced on a batch of ROWS rows and the file then runs in onnxruntime on a batch of
OTHER_ROWS (the batch axis is dynamic), in float32 and float64, and must give npgrad's outputs
(1e-5 and 1e-12). Needs the `onnx` extra (onnx and onnxruntime); skipped without it.
"""

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

import nn
from autograd import Tensor, ops

onnx = pytest.importorskip("onnx")
onnxruntime = pytest.importorskip("onnxruntime")

DTYPES = [np.float32, np.float64]
TOL = {np.float32: 1e-5, np.float64: 1e-12}
# onnxruntime has these kernels in float32 only: the float64 exports are written but refused by
# to_onnx's check, which names the kernel.
NO_FLOAT64_KERNEL = {"tan": "Tan", "sinh": "Sinh", "cosh": "Cosh", "arcsin": "Asin",
                     "arccos": "Acos", "arctan": "Atan",
                     "arcsinh": "Asinh", "arccosh": "Acosh", "arctanh": "Atanh",
                     "arctan2": "Atan", "conv": "Conv"}
CONV_LAYERS = {"Conv1d", "Conv2d", "AvgPool2d", "CNN"}  # (AvgPool2d: a conv of a constant kernel)


def run(path, inputs):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: a for i, a in zip(session.get_inputs(), inputs)}
    return session.run(None, feeds)[0]


def assert_matches(model, path, inputs, dtype):
    expected = model(*[Tensor(a) for a in inputs]).data
    result = run(path, inputs)
    assert result.dtype == dtype and result.shape == expected.shape
    tol = TOL[dtype]
    np.testing.assert_allclose(result, expected, rtol=tol, atol=tol)


def refused_in_float64(kernel):
    return pytest.raises(RuntimeError, match=f"cannot run .* in float64.*{kernel}")


def test_every_op_has_a_row():
    """Each op maps to ONNX or is declared in NOT_IN_ONNX (test_op_outputs_match checks each of
    those raises, naming the op)."""
    from nn.export.onnx_graph import NOT_IN_ONNX, ONNX_OPS
    assert sorted(ONNX_OPS) == sorted(op.name for op in ops.OPS)
    assert NOT_IN_ONNX <= set(ONNX_OPS)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_op_outputs_match(name, dtype, tmp_path):
    from nn.export.onnx_graph import NOT_IN_ONNX
    model, dynamic = op_model(name, dtype)
    path = tmp_path / f"{name}.onnx"
    if name in NOT_IN_ONNX:
        with pytest.raises(NotImplementedError, match=f"op {name!r} has no ONNX mapping"):
            nn.export.to_onnx(model, op_inputs(name, dtype, ROWS), path, dynamic_batch=dynamic)
        return
    if dtype == np.float64 and name in NO_FLOAT64_KERNEL:
        with refused_in_float64(NO_FLOAT64_KERNEL[name]):
            nn.export.to_onnx(model, op_inputs(name, dtype, ROWS), path, dynamic_batch=dynamic)
        assert path.exists()
        return
    nn.export.to_onnx(model, op_inputs(name, dtype, ROWS), path, dynamic_batch=dynamic)
    assert_matches(model, path, op_inputs(name, dtype, OTHER_ROWS if dynamic else ROWS, 1), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(layer_models(np.float64)))
def test_layer_outputs_match(name, dtype, tmp_path):
    model, width = layer_models(dtype)[name]
    path = tmp_path / "model.onnx"
    if dtype == np.float64 and name in CONV_LAYERS:
        with refused_in_float64("Conv"):
            nn.export.to_onnx(model, layer_input(width, dtype, ROWS), path)
        return
    proto = nn.export.to_onnx(model, layer_input(width, dtype, ROWS), path)
    assert proto.opset_import[0].version == nn.export.ONNX_OPSET == 18
    first = proto.graph.input[0].type.tensor_type.shape.dim[0]
    assert first.dim_param == "batch"  # the dynamic axis
    for rows in (OTHER_ROWS, 2 if name.endswith("-train") else 1):  # (batch statistics)
        assert_matches(model, path, (layer_input(width, dtype, rows, seed=2),), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_custom_network_and_masked_loss(dtype, tmp_path):
    net = SkipNet(8, 6, 4).astype(dtype)
    x = np.random.default_rng(0).normal(size=(6, 8)).astype(dtype)
    nn.export.to_onnx(net, x[:2], tmp_path / "net.onnx")
    assert_matches(net, tmp_path / "net.onnx", (x,), dtype)
    model = Masked(net, np.array([2, -1, 0, 3, -1, 1]))  # mask tied to these 6 rows
    nn.export.to_onnx(model, x, tmp_path / "loss.onnx", dynamic_batch=False)
    assert_matches(model, tmp_path / "loss.onnx", (x,), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_erf_over_its_whole_range(dtype, tmp_path):
    """float64 Erf is a series (onnxruntime has no kernel): the exact GELU built on it is within
    1e-14 of npgrad's over the whole range, tails, zeros, huge and infinite inputs included.
    (Absolutely: in the left tail, 1 + erf(x) cancels, where npgrad's erfc(-x) does not.)"""
    x = np.concatenate([np.linspace(-7, 7, 2801), [0.0, -0.0, 1e-300, -1e-8, 5.99, 6.0, 6.5,
                                                   1e300, -np.inf, np.inf]]).astype(dtype)
    model = nn.Sequential(nn.GELU())
    with np.errstate(invalid="ignore"):  # gelu(-inf) is -inf * 0: nan in both
        nn.export.to_onnx(model, x[None], tmp_path / "gelu.onnx")
        expected = model(x[None]).data
    result = run(tmp_path / "gelu.onnx", [x[None]])
    tol = 1e-14 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(result, expected, rtol=tol, atol=tol)


def test_extreme_inputs_stay_finite(tmp_path):
    """Softplus, bce and logsumexp at logits of +-1000 in both runtimes."""
    model = nn.Sequential(nn.Softplus(), nn.Softmax())
    x = np.array([[-1000.0, -30.0, 0.0, 30.0, 1000.0]])
    nn.export.to_onnx(model, x, tmp_path / "m.onnx")
    assert_matches(model, tmp_path / "m.onnx", (np.repeat(x, 3, axis=0),), np.float64)


def test_unsupported_op_is_named(monkeypatch, tmp_path):
    from nn.export import onnx_graph
    monkeypatch.delitem(onnx_graph.ONNX_OPS, "gelu")
    with pytest.raises(NotImplementedError, match="'gelu'"):
        nn.export.to_onnx(nn.MLP([2, 3, 1], activation="gelu"), np.ones((2, 2)),
                          tmp_path / "m.onnx")


def test_wrong_mapping_is_caught_not_written_silently(monkeypatch, tmp_path):
    from nn.export import onnx_graph
    monkeypatch.setitem(onnx_graph.ONNX_OPS, "relu", onnx_graph.ONNX_OPS["abs"])
    with pytest.raises(RuntimeError, match="differs from npgrad"):
        nn.export.to_onnx(nn.ReLU(), np.array([[1.0, -2.0], [-3.0, 0.5]]), tmp_path / "m.onnx")


def test_a_kernel_missing_in_float64_is_named(monkeypatch, tmp_path):
    """onnxruntime has no float64 Erf (the exact GELU's function): the error says so."""
    from nn.export import onnx_graph
    monkeypatch.setitem(onnx_graph.ONNX_OPS, "relu", lambda b, node, x: b.add("Erf", x))
    with pytest.raises(RuntimeError, match="cannot run .* in float64.*Erf"):
        nn.export.to_onnx(nn.ReLU(), np.ones((2, 2)), tmp_path / "m.onnx")


@pytest.mark.parametrize("dtype", DTYPES)
def test_embedding_gathers_the_input_rows(dtype, tmp_path):
    emb = nn.Embedding(10, 4, rng=np.random.default_rng(0), dtype=dtype)
    nn.export.to_onnx(emb, np.array([[1, 2, 2], [0, 9, 3]]), tmp_path / "emb.onnx")
    indices = np.random.default_rng(4).integers(0, 10, size=(OTHER_ROWS, 3))
    result = run(tmp_path / "emb.onnx", [indices.astype(np.float64)])  # (the trace's dtype)
    assert np.array_equal(result, emb(indices).data)


def test_lstm_outputs_and_state(tmp_path):
    lstm = nn.LSTM(3, 2, batch_first=True, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(4, 5, 3)).astype(np.float32)
    nn.export.to_onnx(lstm, x[:2], tmp_path / "lstm.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "lstm.onnx"),
                                           providers=["CPUExecutionProvider"])
    output, h, c = session.run(None, {"x": x})
    ours, (our_h, our_c) = lstm(x)
    for a, b in ((output, ours), (h, our_h), (c, our_c)):
        np.testing.assert_allclose(a, b.data, rtol=1e-5, atol=1e-5)
