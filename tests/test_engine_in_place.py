"""Recorded in-place operators on intermediates: `h += e` must mean what `h = h + e` means.

A recorded in-place op gives the tensor a new node; nodes recorded before it still reach its
old self (engine.as_recorded), and backward refuses only when a VJP it runs reads an array that
changed. Random programs mixing `op=` on intermediates with ordinary ops must then give the
gradients (first and second order) of the same program written with rebinding.
"""

import numpy as np
import pytest

from autograd import Tensor, grad
from autograd.engine import toposort

BINARY = [lambda x, y: x * y, lambda x, y: x + y, lambda x, y: x - y,
          lambda x, y: (x * 0.5).tanh() * y]
UNARY = [lambda x: x.relu(), lambda x: x.tanh(), lambda x: x * 3.0, lambda x: x * x,
         lambda x: (x * 0.1).exp(), lambda x: -x, lambda x: x.sigmoid()]
IN_PLACE = ["+=", "-=", "*="]


def run(program, leaves, in_place):
    """Run `program` (a list of steps) on `leaves`; in-place steps as `op=` or as rebinding."""
    values = list(leaves)
    for kind, i, j, k in program:
        if kind == "new":
            values.append(BINARY[k](values[i], values[j]) if k < len(BINARY)
                          else UNARY[k - len(BINARY)](values[i]))
        else:
            target, other = values[i], UNARY[k](values[j])
            if in_place:
                if kind == "+=":
                    target += other
                elif kind == "-=":
                    target -= other
                else:
                    target *= other
                values[i] = target
            else:
                values[i] = {"+=": target + other, "-=": target - other,
                             "*=": target * other}[kind]
    weights = np.random.default_rng(len(program)).normal(size=(len(values), 3))
    return sum((v * w).sum() for v, w in zip(values, weights))


def random_program(rng, n_leaves=2, steps=10):
    program, count = [], n_leaves
    for _ in range(steps):
        if count > n_leaves and rng.uniform() < 0.4:  # op= on an intermediate, never a leaf
            i = int(rng.integers(n_leaves, count))
            program.append((IN_PLACE[rng.integers(3)], i, int(rng.integers(count)),
                            int(rng.integers(len(UNARY)))))
        else:
            program.append(("new", int(rng.integers(count)), int(rng.integers(count)),
                            int(rng.integers(len(BINARY) + len(UNARY)))))
            count += 1
    return program


def leaves(seed):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.normal(size=3), requires_grad=True) for _ in range(2)]


@pytest.mark.parametrize("seed", range(200))
def test_in_place_programs_have_the_gradients_of_their_rebinding_twins(seed):
    program = random_program(np.random.default_rng(seed))
    ours, twin = leaves(seed), leaves(seed)
    run(program, ours, in_place=True).backward()
    run(program, twin, in_place=False).backward()
    for a, b in zip(ours, twin):
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(40))
def test_and_their_second_derivatives(seed):
    program = random_program(np.random.default_rng(seed), steps=6)
    results = []
    for in_place in (True, False):
        xs = leaves(seed)
        first = grad(run(program, xs, in_place), xs, create_graph=True)
        sum((g * g).sum() for g in first).backward()
        results.append([np.zeros(3) if x.grad is None else x.grad for x in xs])  # None: linear
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_micrograds_pattern_reaches_the_old_value_and_sorts_without_a_cycle():
    a = Tensor([2.0], requires_grad=True)
    d = a * a
    d += 3 * d  # 3 * d was recorded from d's old self: d = 4 a^2
    d.backward()
    np.testing.assert_allclose(a.grad, [16.0])  # 8a
    old, three_d = d.parents  # d's new node: add(snapshot of the old d, 3 * d)
    assert three_d.parents[1] is d  # as recorded: the Tensor d, whose node is now the add
    assert toposort(d) == [a, old, three_d, d]  # old d before 3 * d, and no cycle through d
