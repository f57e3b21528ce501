"""What a module is: a `forward` plus the parameters, buffers and sub-modules in its attributes.

`Module` walks its own attributes in definition order, descending into lists, tuples and dicts,
and finds Modules (children), parameters and buffers. A parameter is a leaf Tensor that requires
grad when it is assigned to a module or first found there; it stays one when it is frozen later
(`requires_grad_(False)`), so freezing never drops a weight from `state_dict` or a saved file.
A buffer is a non-trainable Tensor named by `register_buffer` (running statistics, say); a plain
Tensor attribute without grad is neither. Names are dotted paths (`layers.0.weight`), the keys of
`state_dict` and `.npz` files.
"""

import weakref
import zipfile
from collections import namedtuple
from collections.abc import Iterator

import numpy as np

from autograd import Tensor
from autograd.shared_constants import SharedNumber
from autograd.tensor import constant, is_a_tensor

IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

# Every Tensor that has been a module parameter, by id, with a weak reference that removes its
# entry when the Tensor dies (ids are reused). A frozen Tensor is still found here.
_PARAMETERS: dict[int, weakref.ref] = {}


def _forget(key: int, ref: weakref.ref) -> None:
    if _PARAMETERS.get(key) is ref:
        del _PARAMETERS[key]


def _is_parameter(value: Tensor) -> bool:
    """True for a leaf Tensor that requires grad (which becomes a parameter for good) or that
    was one before it was frozen. A Tensor made by an op (a cached activation) never is."""
    if value.op is not None:
        return False
    if value.requires_grad:
        if id(value) not in _PARAMETERS:  # (registered once: this runs on every call)
            _register(value)
        return True
    ref = _PARAMETERS.get(id(value))
    return ref is not None and ref() is value


def _register(value: Tensor) -> None:
    key = id(value)
    if key not in _PARAMETERS:
        _PARAMETERS[key] = weakref.ref(value, lambda ref, key=key: _forget(key, ref))


class Parameter(Tensor):
    """A Tensor that is a module parameter, PyTorch's `nn.Parameter(data, requires_grad=True)`.

    A copy of `data` that requires grad (or, with requires_grad=False, a frozen parameter that
    stays one). Assigning it to a module registers it, as with any leaf Tensor requiring grad:
    `self.w = nn.Parameter(np.zeros(3))`. Operations on it give plain Tensors.
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        super().__init__(np.empty(0) if data is None else data, requires_grad=True)
        _register(self)
        self.requires_grad = bool(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


def _note(value, name: str) -> None:
    """Make the parameters held by `value` parameters for good (see `_is_parameter`)."""
    if isinstance(value, _HOLDERS):
        for _ in _members(value, name):
            pass


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
    elif isinstance(value, Tensor) and _is_parameter(value):
        yield name, value


def _as_buffer(name: str, value) -> Tensor | None:
    """`value` as a buffer's Tensor: None stays None, a Tensor without grad is kept as it is,
    anything array-like becomes a new Tensor."""
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.requires_grad:
            raise ValueError(f"register_buffer: buffer {name!r} must not require grad (a buffer is "
                             "never trained); pass tensor.detach(), or keep it as a parameter")
        if isinstance(value, SharedNumber):  # load_state_dict and updates write into buffers
            raise ValueError(f"register_buffer: buffer {name!r} is a Python number's constant, "
                             "shared by every operation using it and read-only; pass "
                             "Tensor(value) instead")
        return value
    if isinstance(value, Module):
        raise TypeError(f"register_buffer: buffer {name!r} must be array-like, got a Module")
    return Tensor(value)


def _first_parameter(module: "Module") -> Tensor | None:
    """The first parameter in `named_parameters()` order, found without building names or
    walking further: the dtype that data passed to the model takes, on every call."""
    stack = [iter(vars(module).values())]
    while stack:
        for value in stack[-1]:
            # Exact types first: numbers, strings, arrays are most attributes, and
            # isinstance(v, Tensor) is slow on a miss (see autograd.tensor.is_a_tensor).
            kind = type(value)
            if kind in _PLAIN:
                continue
            if kind is list or kind is tuple:
                stack.append(iter(value))
                break
            if kind is dict:
                stack.append(iter(value.values()))
                break
            if kind is Tensor:
                if _is_parameter(value):
                    return value
                continue
            if isinstance(value, Module) and Tensor not in kind.__mro__:  # (both: a Tensor)
                stack.append(iter(vars(value).values()))
                break
            # the general tests, in the general order: subclasses of the types above
            if not isinstance(value, _HOLDERS):
                continue
            if isinstance(value, Tensor):
                if _is_parameter(value):
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
    return any(is_a_tensor(i) or (isinstance(i, list) and _holds_tensor(i)) for i in items)


class Module:
    """Base class of layers and models: subclasses define `forward`, and `model(x)` calls it.

    Parameters are the leaf Tensors with `requires_grad` found in the attributes, directly or
    inside Modules and lists, tuples and dicts of them, and stay parameters when frozen later; a
    parameter shared by two layers counts once. Buffers are the Tensors named by
    `register_buffer`: saved and loaded with the parameters, never trained. `model(x)` accepts
    Tensors as they are, and numpy arrays and (numeric) lists as data in the parameters' dtype,
    so float64 data does not silently upcast a float32 model.
    """

    training = True  # a class default, so subclasses need not call super().__init__()
    _buffer_names: frozenset = frozenset()  # replaced per instance by register_buffer

    def __setattr__(self, name: str, value) -> None:
        # The one hook on assignment: a Tensor requiring grad becomes a parameter here, so
        # freezing it before any walk (`m[0].weight.requires_grad_(False)`) keeps it one.
        if name in self._buffer_names:
            value = _as_buffer(name, value)
        else:
            _note(value, name)
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        object.__delattr__(self, name)
        if name in self._buffer_names:
            object.__setattr__(self, "_buffer_names", self._buffer_names - {name})

    def __getstate__(self) -> dict:
        # copy.deepcopy and pickle make new Tensors: name the frozen parameters among them, so
        # the copies are registered as parameters too (see __setstate__).
        state = dict(vars(self))
        frozen = [v for _, v in self._named_members()
                  if isinstance(v, Tensor) and not v.requires_grad]
        if frozen:
            state["_frozen_parameters"] = frozen
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        for tensor in state.pop("_frozen_parameters", ()):
            _register(tensor)
        vars(self).update(state)

    def register_buffer(self, name: str, value) -> None:
        """Keep `value` (array-like, a Tensor without grad, or None) as the non-trainable Tensor
        attribute `name`: in `buffers()` and `state_dict()`, saved, loaded and cast with the
        parameters, never in `parameters()`. Assigning to `name` later replaces the buffer."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"register_buffer: name must be an identifier, got {name!r}")
        if name in vars(self) and name not in self._buffer_names:
            raise KeyError(f"register_buffer: attribute {name!r} already exists and is not a "
                           "buffer")
        object.__setattr__(self, "_buffer_names", self._buffer_names | {name})
        setattr(self, name, value)

    def forward(self, *args, **kwargs):
        """The computation, written with Tensor operations; subclasses define it."""
        raise NotImplementedError(f"{type(self).__name__} does not define forward()")

    def __call__(self, *args, **kwargs):
        for a in args:  # a plain loop: this runs for every layer of every step
            if type(a) is not Tensor and not is_a_tensor(a):
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
                    dtype = first.data.dtype if first is not None else False
                if type(a) is np.ndarray and a.dtype is dtype:
                    a = constant(a)  # what Tensor(a) makes of it, without its checks (every step)
                else:
                    fits = isinstance(a, np.ndarray) and a.dtype == dtype
                    a = Tensor(a) if fits else Tensor(a, dtype=dtype or None)
            converted.append(a)
        return converted

    # ------------------------------------------------------------ the attribute walk
    def _named_members(self) -> Iterator[tuple[str, object]]:
        """Children and parameters in definition order, then this module's buffers."""
        buffers = self._buffer_names
        for name, value in vars(self).items():
            if name not in buffers:
                yield from _members(value, name)
        if buffers:
            for name, value in vars(self).items():
                if name in buffers and value is not None:
                    yield name, _BufferOf(value)

    def _walk(self, prefix: str, seen: set) -> Iterator[tuple[str, object]]:
        """Every parameter, buffer (wrapped in _BufferOf) and module below self, depth first,
        each once (keyed on id)."""
        for name, value in self._named_members():
            key = id(value.tensor if isinstance(value, _BufferOf) else value)
            if key in seen:
                continue
            seen.add(key)
            yield prefix + name, value
            if isinstance(value, Module):
                yield from value._walk(prefix + name + ".", seen)

    def _named_tensors(self) -> list[tuple[str, Tensor]]:
        """Parameters and buffers by dotted name, in `state_dict` order."""
        return [(n, v.tensor if isinstance(v, _BufferOf) else v)
                for n, v in self._walk("", {id(self)}) if not isinstance(v, Module)]

    # Each listing is a list that `next()` also reads from the front, as PyTorch's generators:
    # `next(model.parameters())` is the first parameter, and len() and indexing keep working.
    def named_parameters(self) -> "Listing[tuple[str, Tensor]]":
        """(dotted name, parameter) pairs in definition order, shared parameters once; frozen
        parameters (requires_grad False) included."""
        return Listing((n, v) for n, v in self._walk("", {id(self)}) if isinstance(v, Tensor))

    def named_buffers(self) -> "Listing[tuple[str, Tensor]]":
        """(dotted name, buffer) pairs: each module's buffers after its parameters."""
        return Listing((n, v.tensor) for n, v in self._walk("", {id(self)})
                       if isinstance(v, _BufferOf))

    def buffers(self) -> "Listing[Tensor]":
        """The buffers (`register_buffer`), in `named_buffers()` order."""
        return Listing(v for _, v in self.named_buffers())

    def parameters(self) -> "Listing[Tensor]":
        """The parameters in definition order, shared parameters once."""
        return Listing(v for _, v in self.named_parameters())

    def named_modules(self) -> "Listing[tuple[str, Module]]":
        """(dotted name, module) pairs for self (name "") and every sub-module below it."""
        return Listing([("", self)] + [(n, v) for n, v in self._walk("", {id(self)})
                                       if isinstance(v, Module)])

    def modules(self) -> "Listing[Module]":
        """Self and every sub-module below it, each once."""
        return Listing(m for _, m in self.named_modules())

    def named_children(self) -> "Listing[tuple[str, Module]]":
        """(name, module) pairs for the modules directly below self, each once."""
        seen = {id(self)}
        children = []
        for name, value in self._named_members():
            if isinstance(value, Module) and id(value) not in seen:
                seen.add(id(value))
                children.append((name, value))
        return Listing(children)

    def children(self) -> "Listing[Module]":
        """The modules directly below self, each once."""
        return Listing(m for _, m in self.named_children())

    def apply(self, fn) -> "Module":
        """Call `fn(module)` on every sub-module (children first), then on self; returns self.
        `model.apply(init_fn)`, as in PyTorch."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def num_parameters(self) -> int:
        """Total number of scalar parameters."""
        return sum(p.size for p in self.parameters())

    # ------------------------------------------------------------ training state
    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        """Freeze (False) or unfreeze (True) every parameter; returns self. Frozen parameters
        stay parameters (saved, loaded, cast); optimizers and `fit` leave them bit-unchanged."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient (`.grad` None), or set it to zeros
        (`set_to_none=False`, where there is one)."""
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad = np.zeros_like(p.data)

    def astype(self, dtype) -> "Module":
        """Convert every parameter (and its gradient) and buffer to float32 or float64; returns
        self.

        PyTorch's `model.to(dtype)`. Build the optimizer afterwards, so its state (Adam's
        moments) is made in the new dtype. Other Tensor attributes are left as they are.
        """
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise ValueError(f"{type(self).__name__}.astype: dtype must be float32 or float64, "
                             f"got {dt}")
        for _, p in self._named_tensors():
            if p.dtype != dt:
                p.data = p.data.astype(dt)
                if p.grad is not None:
                    p.grad = p.grad.astype(dt)
                p.mark_modified()  # a graph built before holds the old array's values
        return self

    def to(self, dtype) -> "Module":
        """PyTorch's `model.to(dtype)`: `astype(dtype)` for float32 or float64 (numpy's or
        torch's dtype, or its name); "cpu" changes nothing (npgrad runs on numpy). Returns self."""
        if isinstance(dtype, str) and dtype.split(":")[0] in ("cpu", "cuda", "mps"):
            if dtype != "cpu":
                raise ValueError(f"{type(self).__name__}.to: npgrad runs on the CPU (numpy); "
                                 f"there is no device {dtype!r}")
            return self
        if type(dtype).__module__.split(".")[0] == "torch":  # torch.float32 -> "float32"
            dtype = str(dtype).split(".")[-1]
        return self.astype(dtype)

    def double(self) -> "Module":
        """Convert parameters and buffers to float64 (`astype`); returns self."""
        return self.astype(np.float64)

    def float(self) -> "Module":
        """Convert parameters and buffers to float32 (`astype`); returns self."""
        return self.astype(np.float32)

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
        """A copy of every parameter's and buffer's array, keyed by dotted name (per module, its
        parameters then its buffers)."""
        return {name: p.data.copy() for name, p in self._named_tensors()}

    def load_state_dict(self, state: dict, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays (or Tensors) into the parameters and buffers in place, keeping their dtype.

        Missing or unexpected keys raise a ValueError listing them unless `strict=False`;
        shape mismatches and non-numeric arrays always raise. Returns (missing, unexpected).
        A PyTorch state dict (torch tensors, or keys like `0.weight`) always raises, with the
        one-line conversion: PyTorch stores a Linear weight (out, in), npgrad (in, out), so a
        square weight would otherwise load transposed without a word.
        """
        params = dict(self._named_tensors())
        signs = _pytorch_signs(state, params)
        if signs:
            raise ValueError(
                f"load_state_dict: this looks like a PyTorch state dict ({' and '.join(signs)}). "
                "PyTorch stores a Linear weight as (out_features, in_features), npgrad as "
                "(in_features, out_features): a square one would load transposed without an "
                "error. Load it with nn.export.load_torch_state_dict(model, state) (layouts "
                "converted, every key and shape checked), or convert it to numpy arrays in "
                "npgrad's layout first: " + _pytorch_conversion(state, params))
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        problems = []
        if strict and missing:
            problems.append(f"missing keys {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys {unexpected}")
        arrays, transposed = {}, 0
        for name in (k for k in params if k in state):
            value = state[name]
            array = np.asarray(value.data if isinstance(value, Tensor) else value)
            if array.dtype.kind not in "biuf":
                problems.append(f"{name!r} holds {array.dtype} values, not numbers")
            elif array.shape != params[name].shape:
                problems.append(
                    f"shape mismatch for {name!r}: model has {params[name].shape}, "
                    f"state has {array.shape}")
                if array.ndim == 2 and array.shape == params[name].shape[::-1]:
                    transposed += 1
            arrays[name] = array
        if transposed:  # every other 2-D weight of that state is transposed too, square or not
            problems.append(
                "a weight has the model's shape reversed: if the state comes from PyTorch, which "
                "stores a Linear weight (out, in) where npgrad stores (in, out), transpose every "
                "Linear weight (square ones too) before loading (or load the PyTorch state "
                "with nn.export.load_torch_state_dict(model, state)): "
                + _pytorch_conversion(state, params))
        if problems:
            raise ValueError(
                f"load_state_dict: state does not fit {type(self).__name__}: " + "; ".join(problems)
            )
        for name, array in arrays.items():
            params[name].data[...] = array
            params[name].mark_modified()  # graphs built before the load must not backward
        return IncompatibleKeys(missing, unexpected)

    def save(self, path) -> None:
        """Write the parameters and buffers to `path` as a plain .npz archive of named arrays."""
        with open(path, "wb") as f:  # a file object: numpy would otherwise append ".npz"
            np.savez(f, **self.state_dict())

    def load(self, path, strict: bool = True) -> "Module":
        """Read parameters and buffers saved by `save` into this model (no pickle is ever run);
        returns self."""
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


def _pytorch_signs(state: dict, names) -> list[str]:
    """What marks `state` as a PyTorch checkpoint: torch tensors as values, or keys that begin
    with an index (`0.weight`: nn.Sequential's layout; npgrad's Sequential names begin with
    an attribute, `layers.0.weight`) that are not the model's own names (a ModuleList's)."""
    signs = []
    if _torch_values(state):
        signs.append(f"torch tensors as values (e.g. {_torch_values(state)[0]!r})")
    index_keys = [k for k in state
                  if isinstance(k, str) and k.split(".")[0].isdigit() and k not in names]
    if index_keys:
        signs.append(f"keys that begin with an index (e.g. {index_keys[0]!r})")
    return signs


def _torch_values(state: dict) -> list:
    return [k for k, v in state.items() if type(v).__module__.split(".")[0] == "torch"]


def _pytorch_conversion(state: dict, names) -> str:
    """The one-line conversion to npgrad's layout, with the key prefix the model's names need."""
    prefix = ""
    for key in state:
        if isinstance(key, str) and key.split(".")[0].isdigit():
            found = [n[: -len(key)] for n in names if n.endswith("." + key)]
            if found:
                prefix = found[0]
                break
    key = f'"{prefix}" + k' if prefix else "k"
    if _torch_values(state):
        return (f"state = {{{key}: v.detach().numpy().T if v.ndim == 2 else v.detach().numpy() "
                "for k, v in torch_state.items()}")
    return f"state = {{{key}: v.T if v.ndim == 2 else v for k, v in state.items()}}"


class _BufferOf:
    """Marks a buffer's Tensor in the walk, apart from parameters."""

    __slots__ = ("tensor",)

    def __init__(self, tensor: Tensor):
        self.tensor = tensor


_HOLDERS = (Tensor, Module, list, tuple, dict)  # what can hold a parameter
_PLAIN = {int, float, str, bool, type(None), np.ndarray}  # what cannot


class Listing(list):
    """A list that is also read from the front by `next()`, like PyTorch's generators:
    `next(model.parameters())` gives the first parameter, a second call the next one."""

    def __next__(self):
        i = self.__dict__.get("_next", 0)
        if i >= len(self):
            raise StopIteration
        self._next = i + 1
        return self[i]
