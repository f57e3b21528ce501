"""README.md's "Coming from PyTorch" section: every python snippet runs, in order, in one
namespace (each asserts what the text around it says)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def _section_snippets(title: str) -> list[str]:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end if end != -1 else None], re.S)


def test_the_section_has_snippets():
    assert len(_section_snippets("Coming from PyTorch")) >= 3


def test_every_snippet_runs():
    namespace = {"__name__": "readme"}
    for i, snippet in enumerate(_section_snippets("Coming from PyTorch")):
        exec(compile(snippet, f"README.md (Coming from PyTorch, snippet {i})", "exec"),
             namespace)


def test_the_comparison_habit_works_as_the_section_says():
    import numpy as np

    from autograd import Tensor

    a = Tensor(np.array([-1.0, 0.5, 2.0]), requires_grad=True)
    logits = Tensor(np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 4.0]]))
    y = np.array([0, 1, 1])
    accuracy = (logits.argmax(1) == y).float().mean()
    assert isinstance(accuracy, Tensor) and accuracy.dtype == np.float32
    assert accuracy.item() == np.float32(2 / 3) and not accuracy.requires_grad
    mask = (a > 0).float()
    assert mask.dtype == np.float32 and mask.data.tolist() == [0.0, 1.0, 1.0]
    assert (a > 0).double().dtype == np.float64
    # still numpy arrays: masks, indices and numpy results that are plain arrays again
    assert isinstance(a > 0, np.ndarray) and type((a > 0) * 2.0) is np.ndarray
    assert repr(a > 0) == "array([False,  True,  True])"
    assert (a[a > 0]).data.tolist() == [0.5, 2.0]
    assert (a * (a > 0)).data.tolist() == [0.0, 0.5, 2.0]
    pred = np.array([0, 1, 2])  # plain numpy on both sides: numpy's own, no .float()
    with pytest.raises(AttributeError, match="'numpy.ndarray' object has no attribute 'float'"):
        (pred == y).float()
    assert (pred == y).mean() == 2 / 3
