"""npgrad's neural-network library: modules, losses, optimizers and a training loop.

Everything here is built from `autograd.Tensor` operations; none of it knows a derivative.

    model = nn.MLP([2, 16, 1], activation="tanh")
    history = nn.fit(model, nn.BCEWithLogitsLoss(), nn.optim.Adam(model.parameters()), X, y)
"""

from . import data, export, functional, init, optim, utils
from .compile import compile_step
from .containers import ModuleDict, ModuleList
from .conv import AdaptiveAvgPool2d, AvgPool2d, Conv1d, Conv2d, MaxPool1d, MaxPool2d
from .embedding import Embedding
from .init import manual_seed
from .layers import (
    GELU,
    MLP,
    Dropout,
    Flatten,
    Identity,
    LeakyReLU,
    Linear,
    LogSoftmax,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Softplus,
    Tanh,
)
from .losses import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell
from .train import History, accuracy, evaluate, fit

__all__ = [
    "Module", "Linear", "Sigmoid", "ReLU", "Tanh", "LeakyReLU", "Softplus", "GELU", "Identity",
    "Softmax", "Dropout", "Flatten", "Sequential", "MLP",
    "Parameter", "ModuleList", "ModuleDict", "LogSoftmax",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d",
    "MSELoss", "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss",
    "L1Loss", "NLLLoss", "HuberLoss", "SmoothL1Loss",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding",
    "RNN", "GRU", "LSTM", "RNNCell", "GRUCell", "LSTMCell",
    "fit", "evaluate", "accuracy", "History", "manual_seed", "compile_step",
    "functional", "optim", "data", "init", "utils", "export",
]
