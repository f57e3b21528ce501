"""Plain PyTorch layers as npgrad modules, one row per layer class in `FROM_TORCH`.

A row builds the npgrad layer from the torch layer's settings; the weights then come across
through `load_torch_state_dict` (layouts converted, every key and shape checked), so a row never
copies an array itself. Adding a layer is adding a row.
"""

import numpy as np
import torch

from .. import layers


def _linear(m, dtype):
    return layers.Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype)


def _gelu(m, dtype):
    if m.approximate != "tanh":
        raise ValueError("from_torch: GELU(approximate='none') needs erf, which npgrad's GELU "
                         "does not have; use torch.nn.GELU(approximate='tanh')")
    return layers.GELU("tanh")


def _softplus(m, dtype):
    # PyTorch returns x above beta x > threshold; npgrad's exact form differs by < exp(-20).
    return layers.Softplus(m.beta)


def _softmax(m, dtype):
    if m.dim is None:
        raise ValueError("from_torch: Softmax(dim=None) picks its axis from the input's rank; "
                         "give it a dim")
    return layers.Softmax(m.dim)


def _sequential(m, dtype):
    return layers.Sequential(*(convert_layer(child, dtype) for child in m.children()))


FROM_TORCH = {
    torch.nn.Linear: _linear,
    torch.nn.ReLU: lambda m, dtype: layers.ReLU(),
    torch.nn.Tanh: lambda m, dtype: layers.Tanh(),
    torch.nn.Sigmoid: lambda m, dtype: layers.Sigmoid(),
    torch.nn.LeakyReLU: lambda m, dtype: layers.LeakyReLU(m.negative_slope),
    torch.nn.GELU: _gelu,
    torch.nn.Softplus: _softplus,
    torch.nn.Softmax: _softmax,
    torch.nn.Identity: lambda m, dtype: layers.Identity(),
    torch.nn.Dropout: lambda m, dtype: layers.Dropout(m.p),
    torch.nn.Flatten: lambda m, dtype: layers.Flatten(m.start_dim, m.end_dim),
    torch.nn.Sequential: _sequential,
}


def convert_layer(m, dtype):
    row = FROM_TORCH.get(type(m))
    if row is None:
        raise TypeError(f"from_torch: no npgrad equivalent for {type(m).__name__} (known: "
                        f"{', '.join(c.__name__ for c in FROM_TORCH)}); write the model in "
                        "npgrad and copy the weights with nn.export.load_torch_state_dict(model, "
                        "torch_module.state_dict())")
    return row(m, dtype)


def convert(torch_module, dtype=None):
    """The npgrad model of `torch_module`, weights loaded, in `dtype` (default: the weights')."""
    from . import load_torch_state_dict

    if dtype is None:
        floats = [p.dtype for p in torch_module.parameters() if p.is_floating_point()]
        dtype = torch.empty(0, dtype=floats[0]).numpy().dtype if floats else np.float64
    model = convert_layer(torch_module, np.dtype(dtype))
    load_torch_state_dict(model, torch_module.state_dict())
    model.train(torch_module.training)
    return model
