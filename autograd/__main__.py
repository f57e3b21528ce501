"""Draw a script's computation graph without a notebook: `python -m autograd script.py [args]`.

Runs the script as `__main__`, remembers the last tensor it called `backward()` on, and writes
that graph (values, gradients and the first non-finite node included) with `save_graph`.
"""

import argparse
import os
import runpy
import sys

from .graph import save_graph
from .tensor import Tensor


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograd",
        description="Run SCRIPT and draw the graph of the last backward() it called.",
    )
    parser.add_argument("--out", default="graph.svg", help="output file: .svg, .png, .pdf or .gv")
    parser.add_argument("--rankdir", default="LR", help="LR (left to right) or TB (top down)")
    parser.add_argument("--max-nodes", type=int, default=500)
    parser.add_argument("script", help="a Python script that calls backward()")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    options = parser.parse_args(argv)

    roots = []
    original = Tensor.backward

    def remembering_backward(self, grad=None, retain_grads=False, create_graph=False):
        roots[:] = [self]
        # retain_grads=True keeps the gradients for the picture
        return original(self, grad, retain_grads=True, create_graph=create_graph)

    Tensor.backward = remembering_backward
    saved_argv, saved_path = sys.argv, sys.path[:]
    sys.argv = [options.script, *options.args]
    # As `python script.py` does: the script's own folder comes first, for its local imports.
    sys.path.insert(0, os.path.dirname(os.path.abspath(options.script)))
    try:
        runpy.run_path(options.script, run_name="__main__")
    finally:
        Tensor.backward = original
        sys.argv, sys.path[:] = saved_argv, saved_path
    if not roots:
        print(f"python -m autograd: {options.script} never called backward(): nothing to draw",
              file=sys.stderr)
        return 1
    path = save_graph(roots[0], options.out, show_values=True, rankdir=options.rankdir,
                      max_nodes=options.max_nodes)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
