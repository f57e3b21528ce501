"""README.md's "Coming from PyTorch" section: every python snippet runs, in order, in one
namespace (each asserts what the text around it says)."""

import re
from pathlib import Path

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
