"""autograd's modules form layers: each imports only modules below it, with no cycle.

The imports are read from the source (ast), every one of them, including those inside
functions: a lazy import hides a cycle from Python, not from this test. Importing
`autograd.ops.core` imports the package `autograd.ops` too, so that counts as an edge; a
module's own enclosing packages do not (Python imports them before the module runs).
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "autograd"


def modules() -> dict:
    """{dotted module name: (path, is a package's __init__)} for every .py file of autograd."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        out[".".join(parts)] = (path, is_package)
    return out


def imported(name: str, is_package: bool, node, known: dict) -> set:
    """The autograd modules one import statement of module `name` loads."""
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
    else:
        if node.level:
            base = name.split(".")[: None if is_package else -1]
            base = base[: len(base) - node.level + 1]
            module = ".".join(base + ([node.module] if node.module else []))
        else:
            module = node.module or ""
        # `from . import x` loads the module x when there is one, else reads a name of `.`
        targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in known else module
                   for a in node.names]
    out = set()
    for target in targets:
        if target.split(".")[0] != "autograd":
            continue
        while target not in known:  # `import autograd.ops.core.Op` cannot be, but be safe
            target = target.rsplit(".", 1)[0]
        parts = target.split(".")
        for i in range(1, len(parts) + 1):  # a module's packages are loaded before it
            loaded = ".".join(parts[:i])
            if loaded != name and not name.startswith(loaded + "."):
                out.add(loaded)
    return out


def import_graph() -> dict:
    """{module: set of the autograd modules it imports anywhere in its source}."""
    known = modules()
    graph = {}
    for name, (path, is_package) in known.items():
        graph[name] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                graph[name] |= imported(name, is_package, node, known)
    return graph


def find_cycle(graph: dict) -> list | None:
    """One cycle [a, b, ..., a] of the graph, or None (an iterative depth-first search)."""
    state = {}  # absent: unvisited; 1: on the current path; 2: done
    for start in sorted(graph):
        if start in state:
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            step = next(stack[-1], None)
            if step is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(step) == 1:
                return path[path.index(step):] + [step]
            elif step not in state:
                state[step] = 1
                path.append(step)
                stack.append(iter(sorted(graph[step])))
    return None


def test_no_autograd_module_imports_a_module_that_imports_it_back():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_layers_named_in_the_docs_hold():
    graph = import_graph()
    below_tensor = ["autograd.engine", "autograd.ops", "autograd.ops.core", "autograd.masks",
                    "autograd.pytorch_names", "autograd.tensor_math", "autograd.tensor_methods"]
    for name in below_tensor:  # the engine, the op table and Tensor's base classes
        assert "autograd.tensor" not in graph[name], name
    assert "autograd.engine" not in graph["autograd.ops.core"]  # sum_to lives with the ops
    for name in ("autograd.ops", *(m for m in graph if m.startswith("autograd.ops."))):
        assert all(m.startswith("autograd.ops") for m in graph[name]), name


@pytest.mark.parametrize("source, expected", [
    ("from . import engine\n", {"autograd.engine"}),
    ("def f():\n    from .tensor import Tensor\n", {"autograd.tensor"}),
    ("from .ops.core import Op\n", {"autograd.ops", "autograd.ops.core"}),
    ("import autograd.engine\n", {"autograd.engine"}),  # (autograd: its own package)
    ("import numpy as np\n", set()),
])
def test_imports_are_read_everywhere_in_a_module(source, expected):
    known = modules()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found |= imported("autograd.graph", False, node, known)
    assert found == expected


def test_a_cycle_is_found_through_a_lazy_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    cycle = find_cycle(graph)
    assert cycle is not None and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None
