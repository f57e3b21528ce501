"""Module containers named as PyTorch names them: ModuleList ("0", "1", ...) and ModuleDict (by
key), so `self.blocks = nn.ModuleList([...])` gives parameters `blocks.0.weight`, ...

Neither has a forward: a model's forward loops over them. (Sequential, which has one, lives in
layers.py and keeps npgrad's `layers.0.weight` names; see its docstring.)
"""

from collections.abc import Iterable, Iterator

from .module import Module, _note


def _check_module(where: str, value) -> Module:
    if not isinstance(value, Module):
        raise TypeError(f"{where}: expected a Module, got {type(value).__name__}")
    return value


class ModuleList(Module):
    """A list of modules whose parameters are found by the model holding it: indexable (a slice
    gives a ModuleList), sized, iterable, with append, extend and insert."""

    def __init__(self, modules: Iterable[Module] | None = None):
        self._modules = []
        if modules is not None:
            self.extend(modules)

    def _named_members(self):
        for i, module in enumerate(self._modules):
            yield str(i), module

    def append(self, module: Module) -> "ModuleList":
        """Add `module` at the end; returns self."""
        self._modules.append(_check_module("ModuleList.append", module))
        _note(module, "")
        return self

    def extend(self, modules: Iterable[Module]) -> "ModuleList":
        """Add each of `modules` at the end; returns self."""
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put `module` before position `index`."""
        self._modules.insert(index, _check_module("ModuleList.insert", module))
        _note(module, "")

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(self._modules[index])
        return self._modules[index]

    def __setitem__(self, index: int, module: Module) -> None:
        self._modules[index] = _check_module("ModuleList", module)
        _note(module, "")

    def __delitem__(self, index) -> None:
        del self._modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules)

    def __iadd__(self, modules: Iterable[Module]) -> "ModuleList":
        return self.extend(modules)


class ModuleDict(Module):
    """A dict of modules by name (strings without dots), in insertion order: `d["head"]`,
    `in`, `len`, iteration over keys, keys(), values(), items(), update(), pop()."""

    def __init__(self, modules=None):
        self._modules = {}
        if modules is not None:
            self.update(modules)

    def _named_members(self):
        yield from self._modules.items()

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise KeyError(f"ModuleDict: keys must be non-empty strings without '.', got {key!r}")
        self._modules[key] = _check_module(f"ModuleDict[{key!r}]", module)
        _note(module, key)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __contains__(self, key) -> bool:
        return key in self._modules

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        """Add (name, module) pairs from a dict or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key: str) -> Module:
        """Remove the module `key` and return it."""
        return self._modules.pop(key)

    def clear(self) -> None:
        self._modules.clear()
