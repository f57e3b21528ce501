"""Optimizers (SGD, Adam, AdamW) and learning-rate schedulers, with PyTorch's names.

`nn.optim.Adam(model.parameters(), lr=1e-3)`; `nn.optim.lr_scheduler.StepLR(optimizer, 10)`.
"""

from . import lr_scheduler
from .optimizers import SGD, Adam, AdamW, Optimizer

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "lr_scheduler"]
