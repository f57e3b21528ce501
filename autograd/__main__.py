"""Draw a script's computation graph without a notebook: `python -m autograd script.py [args]`.

Runs the script as `__main__`, remembers the last tensor it called `backward()` on, and writes
that graph (values, gradients and the first non-finite node included) with `save_graph`, top to
bottom within draw_graph's width limit, parameters named after the script's modules.
"""

import argparse
import os
import runpy
import sys

from .graph import MAX_WIDTH
from .graph_files import save_graph
from .tensor import Tensor


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograd",
        description="Run SCRIPT and draw the graph of the last backward() it called.",
    )
    parser.add_argument("--out", default="graph.svg", help="output file: .svg, .png, .pdf or .gv")
    parser.add_argument("--rankdir", default="TB", choices=("TB", "LR", "BT", "RL"),
                        help="TB (top down, the default) or LR (left to right)")
    parser.add_argument("--max-width", type=float, default=MAX_WIDTH,
                        help=f"inches (96 px each) the drawing may take, {MAX_WIDTH:g} by "
                             "default; 0 keeps its natural size")
    parser.add_argument("--max-nodes", type=int, default=500)
    parser.add_argument("script", help="a Python script that calls backward()")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the script")
    options = parser.parse_args(argv)

    roots, modules = [], []
    original = Tensor.backward

    def remembering_backward(self, gradient=None, **options):
        roots[:] = [self]
        # The caller's modules: a model local to the script's main() is gone once it returns.
        caller = sys._getframe(1)
        modules[:] = _modules(caller.f_locals) + _modules(caller.f_globals)
        # retain_grads=True keeps the gradients for the picture
        return original(self, gradient, **{**options, "retain_grads": True})

    Tensor.backward = remembering_backward
    saved_argv, saved_path = sys.argv, sys.path[:]
    sys.argv = [options.script, *options.args]
    # As `python script.py` does: the script's own folder comes first, for its local imports.
    sys.path.insert(0, os.path.dirname(os.path.abspath(options.script)))
    try:
        script_globals = runpy.run_path(options.script, run_name="__main__")
    finally:
        Tensor.backward = original
        sys.argv, sys.path[:] = saved_argv, saved_path
    if not roots:
        print(f"python -m autograd: {options.script} never called backward(): nothing to draw",
              file=sys.stderr)
        return 1
    params = _parameter_names(_modules(script_globals) + modules)
    path = save_graph(roots[0], options.out, params=params, show_values=True,
                      rankdir=options.rankdir, max_nodes=options.max_nodes,
                      max_width=options.max_width or None)
    print(f"wrote {path}")
    return 0


def _modules(namespace):
    """(variable, value) for the values of a namespace that look like an nn.Module (autograd
    does not import nn: it duck-types on named_parameters)."""
    return [(var, value) for var, value in list(namespace.items())
            if not isinstance(value, type) and callable(getattr(value, "named_parameters", None))]


def _parameter_names(modules):
    """name -> parameter, each parameter named once, by the module holding the most parameters
    (the whole model rather than its `model[0]`); a name two models share is prefixed with the
    variable holding the second (`decoder.layers.0.weight`)."""
    found = []
    for var, module in modules:
        try:
            found.append((var, list(module.named_parameters())))
        except Exception:  # a look-alike whose named_parameters() needs arguments or fails
            continue
    names, seen = {}, set()
    for var, items in sorted(found, key=lambda found: len(found[1]), reverse=True):
        for name, t in items:
            if isinstance(t, Tensor) and id(t) not in seen:
                seen.add(id(t))
                names[name if name not in names else f"{var}.{name}"] = t
    return names


if __name__ == "__main__":
    sys.exit(main())
