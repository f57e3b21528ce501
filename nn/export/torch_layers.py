"""Plain PyTorch layers as npgrad modules, one row per layer class in `FROM_TORCH`.

A row builds the npgrad layer from the torch layer's settings; the weights then come across
through `load_torch_state_dict` (layouts converted, every key and shape checked), so a row never
copies an array itself. Adding a layer is adding a row.
"""

import numpy as np
import torch

from .. import containers, conv, embedding, layers, normalization, recurrent


def _linear(m, dtype):
    return layers.Linear(m.in_features, m.out_features, bias=m.bias is not None, dtype=dtype)


def _batch_norm(cls):
    def row(m, dtype):
        return cls(m.num_features, m.eps, m.momentum, m.affine, m.track_running_stats, dtype)
    return row


def _layer_norm(m, dtype):
    return normalization.LayerNorm(m.normalized_shape, m.eps, m.elementwise_affine,
                                   m.bias is not None, dtype)


def _embedding(m, dtype):
    if m.max_norm is not None or m.scale_grad_by_freq or m.sparse:
        raise ValueError("from_torch: Embedding with max_norm, scale_grad_by_freq or sparse has "
                         "no npgrad equivalent")
    return embedding.Embedding(m.num_embeddings, m.embedding_dim, m.padding_idx, dtype=dtype)


def _recurrent(cls):
    def row(m, dtype):
        if getattr(m, "proj_size", 0):
            raise ValueError("from_torch: LSTM with proj_size has no npgrad equivalent")
        extra = {"nonlinearity": m.nonlinearity} if cls is recurrent.RNN else {}
        return cls(m.input_size, m.hidden_size, m.num_layers, bias=m.bias,
                   batch_first=m.batch_first, dropout=m.dropout, bidirectional=m.bidirectional,
                   dtype=dtype, **extra)
    return row


def _cell(cls):
    def row(m, dtype):
        extra = {"nonlinearity": m.nonlinearity} if cls is recurrent.RNNCell else {}
        return cls(m.input_size, m.hidden_size, m.bias, dtype=dtype, **extra)
    return row


def _conv(cls):
    def row(m, dtype):
        return cls(m.in_channels, m.out_channels, m.kernel_size, m.stride, m.padding, m.dilation,
                   m.groups, m.bias is not None, m.padding_mode, dtype=dtype)
    return row


def _max_pool(cls):
    def row(m, dtype):
        return cls(m.kernel_size, m.stride, m.padding, m.dilation, m.return_indices, m.ceil_mode)
    return row


def _avg_pool(m, dtype):
    return conv.AvgPool2d(m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad,
                          m.divisor_override)


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
    torch.nn.GELU: lambda m, dtype: layers.GELU(m.approximate),
    torch.nn.Softplus: _softplus,
    torch.nn.Softmax: _softmax,
    torch.nn.Identity: lambda m, dtype: layers.Identity(),
    torch.nn.Dropout: lambda m, dtype: layers.Dropout(m.p),
    torch.nn.Flatten: lambda m, dtype: layers.Flatten(m.start_dim, m.end_dim),
    torch.nn.LogSoftmax: lambda m, dtype: layers.LogSoftmax(m.dim),
    torch.nn.Sequential: _sequential,
    torch.nn.ModuleList: lambda m, dtype: containers.ModuleList(
        convert_layer(child, dtype) for child in m),
    torch.nn.ModuleDict: lambda m, dtype: containers.ModuleDict(
        {key: convert_layer(child, dtype) for key, child in m.items()}),
    torch.nn.BatchNorm1d: _batch_norm(normalization.BatchNorm1d),
    torch.nn.BatchNorm2d: _batch_norm(normalization.BatchNorm2d),
    torch.nn.LayerNorm: _layer_norm,
    torch.nn.Embedding: _embedding,
    torch.nn.RNN: _recurrent(recurrent.RNN),
    torch.nn.GRU: _recurrent(recurrent.GRU),
    torch.nn.LSTM: _recurrent(recurrent.LSTM),
    torch.nn.RNNCell: _cell(recurrent.RNNCell),
    torch.nn.GRUCell: _cell(recurrent.GRUCell),
    torch.nn.LSTMCell: _cell(recurrent.LSTMCell),
    torch.nn.Conv1d: _conv(conv.Conv1d),
    torch.nn.Conv2d: _conv(conv.Conv2d),
    torch.nn.MaxPool1d: _max_pool(conv.MaxPool1d),
    torch.nn.MaxPool2d: _max_pool(conv.MaxPool2d),
    torch.nn.AvgPool2d: _avg_pool,
    torch.nn.AdaptiveAvgPool2d: lambda m, dtype: conv.AdaptiveAvgPool2d(m.output_size),
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
