"""README.md's "numpy programs" section against the code: its example runs and its gradient
matches central differences, every function its table gives a gradient goes through a rule,
the "no gradient" row gives constants or plain arrays, and each call of the "refused" row is
refused with a message naming the spellings the row gives, which compute numpy's values."""

import re
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor, numpy_api

README = Path(__file__).resolve().parent.parent / "README.md"
TITLE = "numpy programs"


def section() -> str:
    text = README.read_text()
    start = text.index(f"\n## {TITLE}\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def row(family: str) -> list[str]:
    """The numpy names (`np.x`, `np.linalg.x`) in the table row of `family`."""
    line = next(line for line in section().splitlines() if line.startswith(f"| {family} |"))
    return re.findall(r"`(np\.[\w.]+)`", line)


def resolve(name: str):
    value = np
    for part in name.split(".")[1:]:
        value = getattr(value, part)
    return value


def test_the_example_runs_and_its_gradient_matches_central_differences():
    (snippet,) = re.findall(r"```python\n(.*?)```", section(), re.S)
    namespace = {"__name__": "readme"}
    exec(compile(snippet, "README.md (numpy programs)", "exec"), namespace)
    nlml, value, gradient = namespace["nlml"], namespace["value"], namespace["gradient"]
    assert isinstance(gradient, np.ndarray) and gradient.shape == (3,)
    assert float(value) == pytest.approx(float(nlml(np.zeros(3))), rel=1e-12)
    eps = 1e-6
    numeric = [(nlml(e) - nlml(-e)) / (2 * eps) for e in np.eye(3) * eps]
    np.testing.assert_allclose(gradient, numeric, rtol=1e-6, atol=1e-6)


def test_the_example_is_a_gaussian_log_likelihood():
    stats = pytest.importorskip("scipy.stats")
    namespace = {"__name__": "readme"}
    exec(re.findall(r"```python\n(.*?)```", section(), re.S)[0], namespace)
    x, y, p = namespace["x"], namespace["y"], np.array([0.2, -0.3, -1.0])
    cov = (np.exp(p[1] - 0.5 * (x[:, None] - x) ** 2 / np.exp(2 * p[0]))
           + np.exp(p[2]) * np.eye(len(x)))
    expected = -stats.multivariate_normal(np.zeros(len(x)), cov).logpdf(y)
    constant = 0.5 * len(x) * np.log(2 * np.pi)
    assert float(namespace["nlml"](p)) + constant == pytest.approx(expected, rel=1e-10)


RULES = set(numpy_api.FUNCTIONS) | set(numpy_api.UFUNCS)
GRADIENT_ROWS = ["arithmetic", "elementwise", "two arguments", "reductions", "contractions",
                 "linear algebra", "shapes", "building and rearranging"]


@pytest.mark.parametrize("family", GRADIENT_ROWS)
def test_every_function_of_a_gradient_row_has_a_rule(family):
    names = row(family)
    assert names, f"the README's row {family!r} names no numpy function"
    missing = [name for name in names if resolve(name) not in RULES]
    assert not missing, f"README says these have a gradient, but no rule is registered: {missing}"


def test_the_no_gradient_row_gives_constants_or_plain_arrays():
    t = Tensor(np.array([[0.5, -1.5, 2.0], [1.0, 0.0, -0.25]]), requires_grad=True)
    names = row("no gradient")
    assert "np.zeros_like" in names and "np.sign" in names
    for name in names:
        result = resolve(name)(t, *([2.0] if name == "np.full_like" else []))
        recorded = isinstance(result, Tensor) and result.requires_grad
        assert not recorded, f"{name} records a gradient, but the README says it has none"


def refused_row() -> list[tuple[str, ...]]:
    """(numpy call, spelling, ...) for each part of the "refused" row, as the README writes them."""
    line = next(line for line in section().splitlines()
                if line.startswith("| refused: no numpy hook |"))
    return [tuple(re.findall(r"`([^`]+)`", part)) for part in line.split("|")[2].split(";")]


def test_the_refused_row_is_refused_naming_the_spellings_that_compute_the_same():
    rows = refused_row()
    assert {row[0] for row in rows} >= {"np.array([a, b])", "np.r_[a, b]", "np.c_[a, b]",
                                        "np.int64(t)"}
    values = {"a": np.array([1.5, -2.0]), "b": np.array([0.5, 3.0]), "t": np.array(2.5)}
    for call, *spellings in rows:
        tensors = {k: Tensor(v, requires_grad=True) for k, v in values.items()}
        with pytest.raises(TypeError, match="drop the graph") as info:
            eval(call, {"np": np}, tensors)
        want = eval(call, {"np": np}, values)
        assert spellings, call
        for spelling in spellings:
            assert spelling in str(info.value), (call, spelling)
            got = eval(spelling, {"np": np}, tensors)
            np.testing.assert_array_equal(getattr(got, "data", got), want)


@pytest.mark.parametrize("build", [lambda a, b: np.array([a, b]), lambda a, b: np.r_[a, b],
                                   lambda a, b: np.int64(a)], ids=["array", "r_", "int64"])
def test_numpy_calls_that_would_drop_the_graph_are_refused(build):
    a, b = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    with pytest.raises(TypeError, match="drop the graph"):
        build(a, b)
