"""The `reads(...)` declaration of every op row, tested against the VJPs themselves.

backward refuses a graph only when a VJP it runs reads an array changed in place since the node
was recorded, so each VJP's declaration must name every array it reads. Each VJP of each op runs
here with the arrays it does not declare replaced by poison (nan, or garbage of the same shape
and dtype): its result must not change. Each declared array, poisoned alone, must change it (a
declaration that names too much would refuse valid programs). Both on ndarrays (backward) and
on Tensors without saved arrays (backward with create_graph=True).
"""

import functools

import numpy as np
import pytest
from op_cases import BY_NAME, make_inputs

from autograd import Tensor, ops
from autograd.ops import Op, Variadic, reads
from autograd.tensor import constant

# Inputs where a VJP reads an array only at an edge: pow's exponent gradient reads y only where
# x = 0 (0 for y >= 0, -inf below).
EDGES = {"power": ([0.0, 1.5, 0.0, 2.0], [2.0, 1.0, -1.0, 0.0])}


def _nodes(case):
    inputs = [make_inputs(case)]
    if case.op.name in EDGES:
        inputs.append([Tensor(x, requires_grad=True) for x in EDGES[case.op.name]])
    for x in inputs:
        with np.errstate(divide="ignore"):  # 0 ** -1 = inf is the point of the edge
            out = case.fn(*x)
        assert out.op is case.op
        yield out


def _poisons(array, seed):
    rng = np.random.default_rng(seed)
    garbage = rng.normal(size=array.shape) * 1e3 + 7
    return [np.full_like(array, np.nan), garbage.astype(array.dtype)]


def _run(node, i, g, arrays, create_graph):
    """VJP i of `node` on `arrays` = [out, *inputs]; for create_graph on Tensors, no saves."""
    op, attrs = node.op, node.attrs
    vjp = op.vjps[i] if isinstance(op.vjps, tuple) else functools.partial(op.vjps.rule, index=i)
    if create_graph:
        attrs = {k: v for k, v in attrs.items() if k not in op.saves}
        out, *inputs = [constant(a) for a in arrays]
        return np.asarray(vjp(constant(g), out, *inputs, **attrs).data)
    return np.asarray(vjp(g, arrays[0], *arrays[1:], **attrs))


def _vjp_cases(case):
    for node in _nodes(case):
        g = np.random.default_rng(7).normal(size=node.shape)
        arrays = [node.data] + [p.data for p in node.parents]
        for create_graph in (False, True):
            for i in range(len(node.parents)):
                read = node.op.read_by(i, len(node.parents), create_graph)
                yield node, g, arrays, create_graph, i, {j + 1 for j in read}  # 0: out


@BY_NAME
def test_a_vjp_reads_nothing_it_does_not_declare(case):
    for node, g, arrays, create_graph, i, read in _vjp_cases(case):
        expected = _run(node, i, g, arrays, create_graph)
        for seed in range(2):
            poisoned = [a if k in read else _poisons(a, seed)[seed] for k, a in enumerate(arrays)]
            got = _run(node, i, g, poisoned, create_graph)
            np.testing.assert_array_equal(
                got, expected, err_msg=f"{node.op.name}: VJP {i} (create_graph={create_graph}) "
                f"reads more than its declaration {node.op.reads}")


@BY_NAME
def test_a_vjp_reads_everything_it_declares(case):
    changed = {}  # (create_graph, VJP, array) -> whether poisoning it changed the result
    for node, g, arrays, create_graph, i, read in _vjp_cases(case):
        expected = _run(node, i, g, arrays, create_graph)
        for k in read:
            for seed in range(2):
                poisoned = list(arrays)
                poisoned[k] = _poisons(arrays[k], seed)[seed]
                with np.errstate(all="ignore"):
                    got = _run(node, i, g, poisoned, create_graph)
                key = (create_graph, i, "out" if k == 0 else f"input {k - 1}")
                differs = not np.array_equal(got, expected, equal_nan=True)
                changed[key] = changed.get(key, False) or differs
    unread = [key for key, differs in changed.items() if not differs]
    assert not unread, f"{case.op.name}: declared, never read (create_graph, VJP, what): {unread}"


def test_every_op_row_declares_what_each_vjp_reads():
    for op in ops.OPS:
        count = 1 if isinstance(op.vjps, Variadic) else len(op.vjps)
        assert len(op.reads) == count and all(isinstance(r, reads) for r in op.reads), op.name


def test_an_op_row_without_a_declaration_is_refused_where_it_is_written():
    with pytest.raises(TypeError, match=r"Op 'square': VJP 1 declares no reads\(\.\.\.\)"):
        Op("square", np.multiply, lambda g, out, x, y: g * y, "dx = g * y", reads("y"),
           lambda g, out, x, y: g * x, "dy = g * x")


@pytest.mark.parametrize("declaration, message", [
    (reads("z"), r"\['z'\] name no array of the VJP \(it has \['out', 'x'\]\)"),
    (reads("slope"), r"\['slope'\] name no array"),  # an attribute, not an array
    (reads(probs="x"), r"'probs' is not saved by this op"),
])
def test_a_declaration_naming_no_array_is_refused(declaration, message):
    with pytest.raises(TypeError, match=message):
        Op("leaky", np.abs, lambda g, out, x, slope=0.1: g * slope, "dx = g", declaration)


def test_a_variadic_op_names_all_its_inputs_by_its_star_parameter():
    op = Op("weighted_sum", lambda *xs: sum(xs), Variadic(lambda g, out, *xs, index: g), "dx_i = g",
            reads("xs", "out"))
    assert op.read_by(1, 3) == (-1, 0, 1, 2)
    assert op.read_by(0, 1, create_graph=True) == (-1, 0)
