"""benchmarks/bench_functions.py: its functions compile, their compiled results have the eager
bits, and its bit check can fail. Never how fast anything is."""

import importlib.util
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_functions.py"


def load_script():
    spec = importlib.util.spec_from_file_location("bench_functions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_function_compiles_with_the_eager_bits():
    bench = load_script()
    made = bench.functions()
    assert set(made) == {"scipy_minimize value_and_grad", "scipy_minimize hessp",
                         "gaussian_process value_and_grad"}
    for eager, fast, arguments in made.values():
        for a in arguments:
            assert bench.same_bits(eager(*a), fast(*a))
        assert fast.compiled and not eager.compiled
        assert bench.per_call(fast, arguments, 3) > 0


def test_the_bit_check_can_fail():
    bench = load_script()
    assert bench.same_bits((1.0, np.ones(2)), (1.0, np.ones(2)))
    assert not bench.same_bits((1.0, np.ones(2)), (1.0, np.array([1.0, np.nextafter(1, 2)])))
    assert not bench.same_bits(np.float32(1), np.float64(1))
