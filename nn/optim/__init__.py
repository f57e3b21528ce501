"""Optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) and learning-rate schedulers, with PyTorch's
names, param groups and state dicts.

`nn.optim.Adam(model.parameters(), lr=1e-3)`; `nn.optim.lr_scheduler.StepLR(optimizer, 10)`.
"""

from . import lr_scheduler
from .optimizer import Optimizer
from .optimizers import SGD, Adagrad, Adam, AdamW, RMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "lr_scheduler"]
