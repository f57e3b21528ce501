"""npgrad's parameter names and layouts beside PyTorch's, in both directions.

Two differences, both structural: npgrad's Sequential keeps its layers in a list attribute
(`layers.0.weight`) where PyTorch's names them by index (`0.weight`), and npgrad's Linear stores
its weight (in_features, out_features) where PyTorch's stores (out_features, in_features). Every
other parameter and buffer keeps its name and layout. Used by `to_torch` (the names and arrays of
the exported module) and by `load_torch_state_dict` (the way back).
"""

import numpy as np

from ..layers import Linear, Sequential


def torch_names(model) -> dict[str, str]:
    """{npgrad name: PyTorch name} for every parameter and buffer of `model`."""
    sequentials = {name for name, m in model.named_modules() if isinstance(m, Sequential)}
    names = {}
    for name, _ in model._named_tensors():
        parts, prefix, kept = name.split("."), "", []
        for i, part in enumerate(parts):
            # A Sequential's `layers` list disappears: its items are the Sequential's children.
            if not (part == "layers" and prefix in sequentials and i + 1 < len(parts)):
                kept.append(part)
            prefix = f"{prefix}.{part}" if prefix else part
        names[name] = ".".join(kept)
    return names


def transposed(model) -> set[str]:
    """The npgrad names of the weights PyTorch stores transposed: every Linear's weight."""
    return {f"{name}.weight" if name else "weight" for name, m in model.named_modules()
            if isinstance(m, Linear)}


def to_torch_layout(name: str, array: np.ndarray, flipped: set) -> np.ndarray:
    """The array of parameter `name` as PyTorch holds it (a fresh, contiguous copy)."""
    # (np.ascontiguousarray would make a 0-d array, a BatchNorm's num_batches_tracked, 1-d)
    return np.array(array.T if name in flipped else array, order="C", copy=True)
