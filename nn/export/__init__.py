"""Hand-off to PyTorch and ONNX: a model's function and weights carried across, both ways.

    torch_model = nn.export.to_torch(model, X[:8])           # a torch.fx.GraphModule
    nn.export.load_torch_state_dict(model, torch_model.state_dict())
    model = nn.export.from_torch(torch.nn.Sequential(...))   # plain torch layers -> npgrad
    nn.export.to_onnx(model, X[:8], "model.onnx")            # opset 18, a dynamic batch axis

`to_torch` and `to_onnx` trace one forward pass on the example input (the engine's watcher hook
records every primitive; see `trace`) and build a graph from it, so every Module exports,
user-defined ones included, as long as its ops have a row in `torch_graph.TORCH_OPS` /
`onnx_graph.ONNX_OPS` (an op without one raises, naming it). What the trace cannot hold it
refuses: control flow or numbers that change with the batch size, in-place operations. Values
computed outside Tensor operations (numpy masks, `where` conditions, integer indices) are
constants of the graph, except an integer lookup of an input (an Embedding's); an input read
only through numpy raises. Axis 0 of every input is the batch axis. The model's parameters and
buffers are restored after the trace (a training BatchNorm updates its running statistics).
PyTorch layers come back module by module (`from_torch`: one row per layer in `FROM_TORCH`).
torch and onnx are imported only inside these functions: npgrad's core needs neither.
"""

from ..module import IncompatibleKeys
from .names import torch_names, transposed
from .trace import trace

ONNX_OPSET = 18

__all__ = ["to_torch", "from_torch", "load_torch_state_dict", "to_onnx", "torch_names",
           "ONNX_OPSET"]


def _require(module: str, extra: str):
    """Import optional `module`, or raise naming the pip line that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"nn.export needs {module}, which is not installed: "
                          f'pip install "npgrad[{extra}]"') from None


def to_torch(model, example_input, dynamic_batch: bool = True):
    """A `torch.fx.GraphModule` computing what `model` computes, with its weights copied.

    Built from one traced forward pass on `example_input` (an array, or a tuple of arrays for
    several inputs; axis 0 is the batch). Parameters are `nn.Parameter`s in PyTorch's names and
    layouts (a Linear weight (out, in); a Sequential's layers named by index), frozen ones with
    requires_grad False, buffers as buffers; its `state_dict()` loads back with
    `load_torch_state_dict`. With `dynamic_batch` (default) the trace is checked to hold for any
    batch size; `dynamic_batch=False` accepts constants tied to this example's batch. The module
    is checked against npgrad's output on the example before it is returned. Dropout is traced
    as the model is: call `model.eval()` first for inference.
    """
    _require("torch", "torch")
    from . import torch_graph

    recorded = trace(model, example_input, dynamic_batch)
    gm = torch_graph.build(recorded, model)
    torch_graph.check(gm, recorded, example_input)
    return gm


def from_torch(torch_module, dtype=None):
    """An npgrad model of PyTorch layers npgrad has (one row each in `torch_layers.FROM_TORCH`:
    containers, Linear, activations, normalisation, Embedding, recurrent, conv and pooling
    layers), with their weights and buffers, in the same train/eval mode; other modules raise,
    naming their class.

    For any other architecture, write it in npgrad and load the weights with
    `load_torch_state_dict(model, torch_module.state_dict())`.
    """
    _require("torch", "torch")
    from .torch_layers import convert

    return convert(torch_module, dtype)


def load_torch_state_dict(model, state_dict: dict, strict: bool = True) -> IncompatibleKeys:
    """Copy a PyTorch state dict (torch tensors or arrays, PyTorch's names and layouts) into
    `model`: Linear weights transposed to (in, out), Sequential indices renamed.

    Every key must name a parameter or buffer of the model (unknown keys are listed) and every
    shape must match; missing keys raise too unless `strict=False`. Returns (missing,
    unexpected) in PyTorch's names, as `load_state_dict` does.
    """
    import numpy as np

    names = torch_names(model)
    back = {t: n for n, t in names.items()}
    flipped = transposed(model)
    params = dict(model._named_tensors())
    unexpected = [k for k in state_dict if k not in back]
    missing = [t for t in back if t not in state_dict]
    problems = []
    if unexpected:
        problems.append(f"unknown keys {unexpected} (the model's are {list(back)})")
    if missing and strict:
        problems.append(f"missing keys {missing}")
    state = {}
    for key, value in state_dict.items():
        if key not in back:
            continue
        name = back[key]
        if type(value).__module__.split(".")[0] == "torch":
            value = value.detach().cpu().numpy()
        array = np.asarray(value)
        expected = params[name].shape[::-1] if name in flipped else params[name].shape
        if array.shape != expected:
            layout = " (PyTorch's layout (out, in))" if name in flipped else ""
            problems.append(f"shape mismatch for {key!r}: the model needs {expected}{layout}, "
                            f"the state has {array.shape}")
            continue
        state[name] = array.T if name in flipped else array
    if problems:
        raise ValueError(f"load_torch_state_dict: state does not fit {type(model).__name__}: "
                         + "; ".join(problems))
    model.load_state_dict(state, strict=False)
    return IncompatibleKeys(missing, unexpected)


def to_onnx(model, example_input, path, dynamic_batch: bool = True, check: bool = True):
    """Write `model` as an ONNX file (opset `ONNX_OPSET`) at `path`, traced on `example_input`.

    Inputs, outputs and weights keep the model's dtype (float32 or float64); axis 0 of the
    inputs (and of outputs that follow it) is the dynamic axis "batch" unless
    `dynamic_batch=False`. With `check` and onnxruntime installed, the file is run on the example
    and must reproduce npgrad's output. Returns the onnx ModelProto.
    """
    _require("onnx", "onnx")
    from . import onnx_graph

    recorded = trace(model, example_input, dynamic_batch)
    proto = onnx_graph.build(recorded, model)
    with open(path, "wb") as f:
        f.write(proto.SerializeToString())
    if check:
        onnx_graph.check(path, recorded, example_input)
    return proto
