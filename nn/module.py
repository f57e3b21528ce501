"""What a module is: a `forward` plus the parameters and sub-modules found in its attributes.

Nothing is registered: `Module` walks its own attributes in definition order, descending into
lists, tuples and dicts, and collects leaf Tensors that require grad (parameters) and Modules
(children). Names are dotted paths (`layers.0.weight`, `blocks.encoder.bias`), the keys of
`state_dict` and `.npz` files.
"""

import zipfile
from collections import namedtuple
from collections.abc import Iterator

import numpy as np

from autograd import Tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


def _members(value, name: str) -> Iterator[tuple[str, object]]:
    """The (name, Module or parameter) pairs held by one attribute value."""
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _members(item, f"{name}.{i}")
    elif isinstance(value, dict):  # named by key, in insertion order
        for key, item in value.items():
            yield from _members(item, f"{name}.{key}")
    elif isinstance(value, Module):
        yield name, value
    elif isinstance(value, Tensor) and value.requires_grad and value.op is None:
        # Only leaves: a cached activation (made by an op) is not a parameter.
        yield name, value


def _first_parameter(module: "Module") -> Tensor | None:
    """The first parameter in `named_parameters()` order, found without building names or
    walking further: the dtype that data passed to the model takes, on every call."""
    stack = [iter(vars(module).values())]
    while stack:
        for value in stack[-1]:
            if not isinstance(value, _HOLDERS):  # numbers, strings, arrays: most attributes
                continue
            if isinstance(value, Tensor):
                if value.requires_grad and value.op is None:
                    return value
            elif isinstance(value, Module):
                stack.append(iter(vars(value).values()))
                break
            elif isinstance(value, (list, tuple)):
                stack.append(iter(value))
                break
            elif isinstance(value, dict):
                stack.append(iter(value.values()))
                break
        else:
            stack.pop()
    return None


def _holds_tensor(items: list) -> bool:
    """True when a (nested) list holds a Tensor: a list of Tensors is structure, not data."""
    return any(isinstance(i, Tensor) or (isinstance(i, list) and _holds_tensor(i)) for i in items)


class Module:
    """Base class of layers and models: subclasses define `forward`, and `model(x)` calls it.

    Parameters are the leaf Tensors with `requires_grad` found in the attributes, directly or
    inside Modules and lists, tuples and dicts of them; a parameter shared by two layers counts
    once. `model(x)` accepts Tensors as they are, and numpy arrays and (numeric) lists as data
    in the parameters' dtype, so float64 data does not silently upcast a float32 model.
    """

    training = True  # a class default, so subclasses need not call super().__init__()

    def forward(self, *args, **kwargs):
        """The computation, written with Tensor operations; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        for a in args:  # a plain loop: this runs for every layer of every step
            if not isinstance(a, Tensor):
                return self.forward(*self._plain_data_as_tensors(args), **kwargs)
        return self.forward(*args, **kwargs)

    def _plain_data_as_tensors(self, args: tuple) -> list:
        """Arrays and numeric lists among `args` as Tensors in the dtype of the model's first
        parameter (the one its input meets first, in an MLP).

        Other arguments (numbers, flags, lists holding Tensors) reach `forward` unchanged. With
        no parameters, data keeps its own float dtype.
        """
        converted, dtype = [], None
        for a in args:
            if isinstance(a, np.ndarray) or (isinstance(a, list) and not _holds_tensor(a)):
                if dtype is None:
                    first = _first_parameter(self)
                    dtype = first.dtype if first is not None else False
                # (an array already in that dtype skips dtype=: Tensor() checks less, every step)
                fits = isinstance(a, np.ndarray) and a.dtype == dtype
                a = Tensor(a) if fits else Tensor(a, dtype=dtype or None)
            converted.append(a)
        return converted

    # ------------------------------------------------------------ the attribute walk
    def _named_members(self) -> Iterator[tuple[str, object]]:
        for name, value in vars(self).items():
            yield from _members(value, name)

    def _walk(self, prefix: str, seen: set) -> Iterator[tuple[str, object]]:
        """Every parameter and module below self, depth first, each once (keyed on id)."""
        for name, value in self._named_members():
            if id(value) in seen:
                continue
            seen.add(id(value))
            yield prefix + name, value
            if isinstance(value, Module):
                yield from value._walk(prefix + name + ".", seen)

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """(dotted name, parameter) pairs in definition order, shared parameters once."""
        return [(n, v) for n, v in self._walk("", {id(self)}) if not isinstance(v, Module)]

    def parameters(self) -> list[Tensor]:
        """The parameters in definition order, shared parameters once."""
        return [v for _, v in self.named_parameters()]

    def named_modules(self) -> list[tuple[str, "Module"]]:
        """(dotted name, module) pairs for self (name "") and every sub-module below it."""
        return [("", self)] + [(n, v) for n, v in self._walk("", {id(self)})
                               if isinstance(v, Module)]

    def modules(self) -> list["Module"]:
        """Self and every sub-module below it, each once."""
        return [m for _, m in self.named_modules()]

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------ training state
    def zero_grad(self) -> None:
        """Forget every parameter's gradient (sets `.grad` to None)."""
        for p in self.parameters():
            p.grad = None

    def astype(self, dtype) -> "Module":
        """Convert every parameter (and its gradient) to float32 or float64; returns self.

        PyTorch's `model.to(dtype)`. Build the optimizer afterwards, so its state (Adam's
        moments) is made in the new dtype. Tensors that are not parameters are left as they are.
        """
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"{type(self).__name__}.astype: dtype must be float32 or float64, "
                             f"got {dt}")
        for p in self.parameters():
            if p.dtype != dt:
                p.data = p.data.astype(dt)
                if p.grad is not None:
                    p.grad = p.grad.astype(dt)
                p.mark_modified()  # a graph built before holds the old array's values
        return self

    def train(self, mode: bool = True) -> "Module":
        """Set `.training` on self and every sub-module; returns self."""
        for m in self.modules():
            m.training = bool(mode)
        return self

    def eval(self) -> "Module":
        """Evaluation mode, the same as `train(False)`; returns self."""
        return self.train(False)

    # ------------------------------------------------------------ state and files
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter's array, keyed by dotted name."""
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) into the parameters in place, keeping their dtype.

        Missing or unexpected keys raise a ValueError listing them unless `strict=False`;
        shape mismatches and non-numeric arrays always raise. Returns (missing, unexpected).
        """
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        arrays = {}
        for name in (k for k in params if k in state):
            value = state[name]
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.dtype.kind not in "biuf":
                problems.append(f"{name!r} holds {array.dtype} values, not numbers")
            elif array.shape != params[name].shape:
                problems.append(
                    f"shape mismatch for {name!r}: model has {params[name].shape}, "
                    f"state has {array.shape}")
            arrays[name] = array
        if problems:
            raise ValueError(
                f"load_state_dict: state does not fit {type(self).__name__}: " + "; ".join(problems)
            )
        for name, array in arrays.items():
            params[name].data[...] = array
            params[name].mark_modified()  # graphs built before the load must not backward
        return IncompatibleKeys(missing, unexpected)

    def save(self, path) -> None:
        """Write the parameters to `path` as a plain .npz archive of named arrays."""
        with open(path, "wb") as f:  # a file object: numpy would otherwise append ".npz"
            np.savez(f, **self.state_dict())

    def load(self, path, strict: bool = True) -> "Module":
        """Read parameters saved by `save` into this model (no pickle is ever run); returns self."""
        try:
            archive = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"load: {path} is not a valid .npz file of arrays ({err})") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise ValueError(f"load: {path} holds a single array, not an .npz archive of named "
                             "arrays (write one with Module.save)")
        with archive:
            try:
                state = {key: archive[key] for key in archive.files}
            except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
                # Object arrays need pickle, which could run arbitrary code: refuse them.
                raise ValueError(f"load: {path} is not a valid .npz file of numeric arrays "
                                 f"({err})") from None
        self.load_state_dict(state, strict=strict)
        return self

    # ------------------------------------------------------------ printing
    def extra_repr(self) -> str:
        """The text inside this module's parentheses in its repr (arguments worth showing)."""
        return ""

    def __repr__(self) -> str:
        return "\n".join(self._repr_lines({id(self)}))

    def _repr_lines(self, seen: set) -> list[str]:
        count = self.num_parameters()
        noun = "parameter" if count == 1 else "parameters"
        head = f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{head}  # {count:,} {noun}" if count else head]
        for name, child in self._named_members():
            if not isinstance(child, Module):
                continue
            if id(child) in seen:  # shared (or cyclic): print it once
                lines.append(f"  ({name}): {type(child).__name__}(...) shared, shown above")
                continue
            seen.add(id(child))
            body = child._repr_lines(seen)
            lines.append(f"  ({name}): {body[0]}")
            lines.extend("  " + line for line in body[1:])
        return lines


_HOLDERS = (Tensor, Module, list, tuple, dict)  # what can hold a parameter
