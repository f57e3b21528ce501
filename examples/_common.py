"""What the seed examples share: their command line, their output folder, and their pictures.

Every example takes `--quick` (fewer epochs, as CI runs it; also NPGRAD_QUICK=1) and `--out DIR`
(default out/<name>/). Figures are drawn with matplotlib's Agg backend, so no display is needed,
and graphs are written as SVG, or as graphviz source with a hint when `dot` is missing.
"""

import argparse
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # before pyplot is imported: files only, never a window

import matplotlib.pyplot as plt  # noqa: E402

from autograd import save_graph  # noqa: E402

QUICK_ENV = "NPGRAD_QUICK"
DOT_HINT = "install graphviz (apt-get install graphviz) to get the SVG"


def parse_args(doc: str, argv: list[str] | None = None) -> argparse.Namespace:
    """The command line every example shares: --quick and --out."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--quick", action="store_true", default=os.environ.get(QUICK_ENV) == "1",
                        help=f"fewer epochs, as the tests run it (or set {QUICK_ENV}=1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the pictures (default: out/<example name>/)")
    return parser.parse_args(argv)


def output_dir(name: str, out: str | Path | None = None) -> Path:
    """`out`, or out/<name>/, created if needed."""
    path = Path("out") / name if out is None else Path(out)
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_graph_or_source(root, path: Path, **kwargs) -> Path:
    """Write root's computation graph to `path` (SVG); without `dot`, the .gv source and a hint."""
    try:
        save_graph(root, path, **kwargs)
    except RuntimeError as err:  # save_graph's message when graphviz's `dot` is missing
        source = save_graph(root, path.with_suffix(".gv"), **kwargs)
        print(f"{err}\nwrote {source} instead: {DOT_HINT}, then run\n"
              f"  dot -Tsvg {source} -o {path}")
        return source
    print(f"wrote {path}")
    return path


def plot_curves(curves: dict[str, list[float]], path: Path, title: str, xlabel: str = "epoch",
                ylabel: str = "loss", logx: bool = False, logy: bool = False) -> Path:
    """One line per named curve against 1, 2, 3, ..., saved as a small PNG."""
    fig, ax = plt.subplots(figsize=(5, 3.2))
    for label, values in curves.items():
        ax.plot(range(1, len(values) + 1), values, label=label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")
    if len(curves) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure as a compact PNG and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    print(f"wrote {path}")
    return path
