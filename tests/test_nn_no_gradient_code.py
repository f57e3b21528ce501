"""nn/ holds no gradient code: no backward functions, derivative formulas or primitive table.

Layers, losses and the MLP are compositions of Tensor methods; the engine differentiates them.
"""

import ast
import re
from pathlib import Path

import pytest

NN = Path(__file__).resolve().parent.parent / "nn"
SOURCES = sorted(NN.glob("**/*.py"))
FORBIDDEN = re.compile(r"_backward|def backward|vjp\(|prime\(|autograd\.ops|autograd import ops")


def test_nn_has_sources():
    expected = {"__init__.py", "module.py", "layers.py", "optimizers.py", "lr_scheduler.py"}
    assert {p.name for p in SOURCES} >= expected


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_gradient_code_patterns(path):
    hits = [f"{path.name}:{n}: {line.strip()}"
            for n, line in enumerate(path.read_text().splitlines(), start=1)
            if FORBIDDEN.search(line)]
    assert hits == []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_module_imports_the_primitive_table(path):
    imported = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            imported += [module] + [f"{module}.{alias.name}" for alias in node.names]
    assert not [name for name in imported if name.startswith(("autograd.ops", "autograd.engine"))
                or name in ("ops", "engine")]
