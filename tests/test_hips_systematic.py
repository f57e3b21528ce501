"""Ported from HIPS/autograd tests/test_systematic.py, MIT (Copyright (c) 2014 by the Harvard
Intelligent Probabilistic Systems Group), at commit b7b4a5f; with its tests/numpy_utils.py
checks (tests/hips_check.py): every statistic, ufunc and array function on the same shapes,
values against numpy, gradients to second order with HIPS's tolerances.

Every case of HIPS's file runs, none marked as an expected failure. HIPS's test_triu and
test_triu_3d called np.tril; here they call np.triu. test_row_stack runs np.vstack, which
np.row_stack (deprecated in numpy 2) is.
Left out, as they need complex numbers: the complex halves of stat_check, unary_ufunc_check and
binary_ufunc_check (complex scalars and matrices for every function here).
Left out, as numpy 2 removed it: test_msort (np.msort).
"""

import operator as op

import numpy as np
import pytest
from hips_check import (
    binary_ufunc_check,
    binary_ufunc_check_no_same_args,
    combo_check,
    stat_check,
    unary_ufunc_check,
)

npr = np.random.RandomState(0)
R = npr.randn


@pytest.fixture(autouse=True)
def _seed():
    npr.seed(0)  # the arrays a test draws do not depend on which tests ran before it


# Array statistics functions
@pytest.mark.parametrize("fun", [np.max, np.all, np.any, np.mean, np.min, np.sum, np.prod,
                                 np.var, np.std], ids=lambda f: f.__name__)
def test_statistic(fun):
    stat_check(fun, npr)


# Unary ufuncs, with HIPS's limits
UNARY = [
    (np.sin, (-2, 2)), (np.abs, (0.1, 4.0)), (np.absolute, (0.1, 4.0)),
    (np.arccosh, (1.1, 4.0)), (np.arcsinh, (-0.9, 0.9)), (np.arctanh, (-0.9, 0.9)),
    (np.ceil, (-1.5, 1.5)), (np.cos, (-2, 2)), (np.cosh, (-2, 2)), (np.deg2rad, (-2, 2)),
    (lambda x: np.degrees(x) / 50.0, (-2, 2)), (np.exp, (-2, 2)), (np.exp2, (-2, 2)),
    (np.expm1, (-2, 2)), (np.fabs, (-2, 2)), (np.floor, (-1.5, 1.5)), (np.log, (0.2, 2.0)),
    (np.log10, (0.2, 2.0)), (np.log1p, (0.2, 2.0)), (np.log2, (0.2, 2.0)),
    (lambda x: np.rad2deg(x) / 50.0, (-2, 2)), (np.radians, (-2, 2)), (np.sign, (-2, 2)),
    (np.sinh, (-2, 2)), (np.sqrt, (1.0, 3.0)), (np.square, (-2, 2)), (np.tan, (-1.1, 1.1)),
    (np.tanh, (-2, 2)), (np.real, (-2, 2)), (np.imag, (-2, 2)), (np.conj, (-2, 2)),
]
UNARY_IDS = ["sin", "abs", "absolute", "arccosh", "arcsinh", "arctanh", "ceil", "cos", "cosh",
             "deg2rad", "degrees", "exp", "exp2", "expm1", "fabs", "floor", "log", "log10",
             "log1p", "log2", "rad2deg", "radians", "sign", "sinh", "sqrt", "square", "tan",
             "tanh", "real", "imag", "conj"]


@pytest.mark.parametrize(("fun", "lims"), UNARY, ids=UNARY_IDS)
def test_unary(fun, lims):
    unary_ufunc_check(fun, npr, lims=lims)


def test_real_ic():
    unary_ufunc_check(np.real_if_close, npr)


def test_angle():
    unary_ufunc_check(np.angle, npr)


# Binary ufuncs
@pytest.mark.parametrize("fun", [np.add, np.logaddexp, np.logaddexp2, op.mul, op.add, op.sub],
                         ids=["add", "logaddexp", "logaddexp2", "op_mul", "op_add", "op_sub"])
def test_binary(fun):
    binary_ufunc_check(fun, npr)


def test_true_divide():
    binary_ufunc_check(np.true_divide, npr, lims_b=(0.8, 1.2))


def test_true_divide_neg():
    binary_ufunc_check(np.true_divide, npr, lims_b=(-0.3, -2.0))


def test_remainder():
    binary_ufunc_check_no_same_args(np.remainder, npr, lims_a=(-0.9, 0.9), lims_b=(0.7, 1.9))


def test_mod():
    binary_ufunc_check_no_same_args(np.mod, npr, lims_b=(0.8, 2.1))


def test_mod_neg():
    binary_ufunc_check_no_same_args(np.mod, npr, lims_b=(-0.3, -2.0))


def test_op_mod():
    binary_ufunc_check_no_same_args(op.mod, npr, lims_b=(0.3, 2.0))


def test_op_mod_neg():
    binary_ufunc_check_no_same_args(op.mod, npr, lims_b=(-0.3, -2.0))


# Misc
def test_transpose():
    combo_check(np.transpose, [0], [R(2, 3, 4)],
                axes=[None, [0, 1, 2], [0, 2, 1], [2, 0, 1], [2, 1, 0], [1, 0, 2], [1, 2, 0]])


def test_repeat():
    combo_check(np.repeat, [0], [R(2, 3, 4), R(3, 1)], repeats=[0, 1, 2], axis=[None, 0, 1])


def test_diff():
    combo_check(np.diff, [0], [R(5, 5), R(5, 5, 5)], n=[1, 2], axis=[0, 1])
    combo_check(np.diff, [0], [R(1), R(1, 1)], axis=[0])
    combo_check(np.diff, [0], [R(1, 1), R(3, 1)], axis=[1])


def test_tile():
    combo_check(np.tile, [0], [R(2, 1, 3, 1)], reps=[(1, 4, 1, 2)])
    combo_check(np.tile, [0], [R(1, 2)], reps=[(1, 2), (2, 3), (3, 2, 1)])
    combo_check(np.tile, [0], [R(1)], reps=[(2,), 2])


def test_kron():
    combo_check(np.kron, [0, 1], [R(5, 5), R(4, 4)], [R(3, 3), R(2, 2)])


def test_inner():
    combo_check(np.inner, [0, 1], [1.5, R(3), R(2, 3)], [0.3, R(3), R(4, 3)])


def test_dot():
    combo_check(np.dot, [0, 1], [1.5, R(3), R(2, 3), R(2, 2, 3)],
                [0.3, R(3), R(3, 4), R(2, 3, 4)])


def test_matmul():
    combo_check(np.matmul, [0, 1], [R(3), R(2, 3), R(2, 2, 3)], [R(3), R(3, 4), R(2, 3, 4)])


def test_tensordot_1():
    combo_check(np.tensordot, [0, 1], [R(1, 3), R(2, 3, 2)], [R(3), R(3, 1), R(3, 4, 2)],
                axes=[[(1,), (0,)]])


def test_tensordot_2():
    combo_check(np.tensordot, [0, 1], [R(3), R(3, 1), R(3, 4, 2)], [R(1, 3), R(2, 3, 2)],
                axes=[[(0,), (1,)]])


def test_tensordot_3():
    combo_check(np.tensordot, [0, 1], [R(2, 3), R(2, 3, 4)], [R(1, 2, 3), R(2, 2, 3, 4)],
                axes=[[(0, 1), (1, 2)], [(1, 0), (2, 1)]])


def test_tensordot_4():
    combo_check(np.tensordot, [0, 1], [R(2, 2), R(4, 2, 2)], [R(2, 2), R(2, 2, 4)],
                axes=[1, 2])


def test_tensordot_5():
    combo_check(np.tensordot, [0, 1], [R(4)], [R()], axes=[0])


def test_tensordot_6():
    combo_check(np.tensordot, [0, 1], [R(2, 6)], [R(6, 3)], axes=[[[-1], [0]]])


# Custom shapes because the gradient is undefined where the arguments are equal
@pytest.mark.parametrize("fun", [np.maximum, np.fmax, np.minimum, np.fmin],
                         ids=["maximum", "fmax", "minimum", "fmin"])
def test_extremum(fun):
    combo_check(fun, [0, 1], [R(1), R(1, 4), R(3, 4)], [R(1), R(1, 4), R(3, 4)])


def test_sort():
    combo_check(np.sort, [0], [R(1), R(7)])


def test_partition():
    combo_check(np.partition, [0], [R(7), R(14)], kth=[0, 3, 6])


def test_atleast_1d():
    combo_check(np.atleast_1d, [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)])


def test_atleast_2d():
    combo_check(np.atleast_2d, [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5)])


def test_atleast_3d():
    combo_check(np.atleast_3d, [0], [1.2, R(1), R(7), R(1, 4), R(2, 4), R(2, 4, 5),
                                     R(2, 4, 3, 5)])


def test_einsum_transpose():
    combo_check(np.einsum, [1], ["ij->ji"], [R(1, 1), R(4, 4), R(3, 4)])


def test_einsum_matmult():
    combo_check(np.einsum, [1, 2], ["ij,jk->ik"], [R(2, 3)], [R(3, 4)])


def test_einsum_matmult_broadcast():
    combo_check(np.einsum, [1, 2], ["...ij,...jk->...ik"], [R(2, 3), R(2, 2, 3)],
                [R(3, 4), R(2, 3, 4)])


def test_einsum_covsum():
    combo_check(np.einsum, [1, 2], ["ijk,lji->lki"], [R(3, 4, 4)], [R(4, 4, 3)])


def test_einsum_ellipses():
    combo_check(np.einsum, [1, 2], ["...jk,...lj->...lk", "...,...->..."],
                [R(4, 4), R(3, 4, 4)], [R(4, 4), R(3, 4, 4)])


def test_einsum_ellipses_tail():
    combo_check(np.einsum, [1, 2], ["jk...,lj...->lk..."], [R(3, 2), R(3, 2, 4)],
                [R(2, 3), R(2, 3, 4)])


def test_einsum_ellipses_center():
    combo_check(np.einsum, [1, 2], ["j...k,lj...->lk..."], [R(2, 2), R(2, 2, 2)],
                [R(2, 2), R(2, 2, 2)])


def test_einsum_three_args():
    combo_check(np.einsum, [1, 2], ["ijk,lji,lli->lki"], [R(3, 4, 4)], [R(4, 4, 3)],
                [R(4, 4, 3)])


def test_einsum2_transpose():
    combo_check(np.einsum, [0], [R(1, 1), R(4, 4), R(3, 4)], [(0, 1)], [(1, 0)])


def test_einsum2_matmult():
    combo_check(np.einsum, [0, 2], [R(2, 3)], [(0, 1)], [R(3, 4)], [(1, 2)], [(0, 2)])


def test_einsum2_matmult_broadcast():
    combo_check(np.einsum, [0, 2], [R(2, 3), R(2, 2, 3)], [(Ellipsis, 0, 1)],
                [R(3, 4), R(2, 3, 4)], [(Ellipsis, 1, 2)], [(Ellipsis, 0, 2)])


def test_einsum2_covsum():
    combo_check(np.einsum, [0, 2], [R(3, 4, 4)], [(0, 1, 2)], [R(4, 4, 3)], [(3, 1, 0)],
                [(3, 2, 0)])


def test_einsum2_three_args():
    combo_check(np.einsum, [0, 2], [R(3, 4, 4)], [(0, 1, 2)], [R(4, 4, 3)], [(3, 1, 0)],
                [R(4, 4, 3)], [(3, 3, 0)], [(3, 2, 0)])


def test_trace():
    combo_check(np.trace, [0], [R(5, 5), R(4, 5), R(5, 4), R(3, 4, 5)], offset=[-1, 0, 1])


def test_diag():
    combo_check(np.diag, [0], [R(5, 5)], k=[-1, 0, 1])


def test_diag_flat():
    combo_check(np.diag, [0], [R(5)], k=[-1, 0, 1])


def test_tril():
    combo_check(np.tril, [0], [R(5, 5)], k=[-1, 0, 1])


def test_triu():
    combo_check(np.triu, [0], [R(5, 5)], k=[-1, 0, 1])


def test_tril_3d():
    combo_check(np.tril, [0], [R(5, 5, 4)], k=[-1, 0, 1])


def test_triu_3d():
    combo_check(np.triu, [0], [R(5, 5, 4)], k=[-1, 0, 1])


def test_swapaxes():
    combo_check(np.swapaxes, [0], [R(3, 4, 5)], axis1=[0, 1, 2], axis2=[0, 1, 2])


def test_rollaxis():
    combo_check(np.rollaxis, [0], [R(2, 3, 4)], axis=[0, 1, 2], start=[0, 1, 2, 3])


def test_cross():
    combo_check(np.cross, [0, 1], [R(3, 3)], [R(3, 3)], axisa=[-1, 0, 1], axisb=[-1, 0, 1],
                axisc=[-1, 0, 1], axis=[None, -1, 0, 1])


@pytest.mark.parametrize(("fun", "arrays", "sections"), [
    pytest.param(np.vsplit, [R(4, 8)], [4, [1, 2]], id="vsplit_2d"),
    pytest.param(np.vsplit, [R(4, 4, 4)], [2, [1, 2]], id="vsplit_3d"),
    pytest.param(np.hsplit, [R(4, 8)], [4, [1, 2]], id="hsplit_2d"),
    pytest.param(np.hsplit, [R(4, 4, 4)], [2, [1, 2]], id="hsplit_3d"),
    pytest.param(np.dsplit, [R(4, 4, 4)], [2, [1, 2]], id="dsplit_3d"),
])
def test_directional_split(fun, arrays, sections):
    combo_check(fun, [0], arrays, sections)


def test_split_1d():
    combo_check(np.split, [0], [R(1), R(7)], [1], axis=[0])


def test_split_2d():
    combo_check(np.split, [0], [R(4, 8)], [4, [1, 2]], axis=[0, 1])


def test_split_3d():
    combo_check(np.split, [0], [R(4, 4, 4)], [2, [1, 2]], axis=[0, 1, 2])


def test_array_split_1d():
    combo_check(np.array_split, [0], [R(1), R(7)], [1, 3], axis=[0])


def test_array_split_2d():
    combo_check(np.array_split, [0], [R(7, 7)], [4, [3, 5]], axis=[0, 1])


def test_array_split_3d():
    combo_check(np.array_split, [0], [R(7, 7, 7)], [4, [3, 5]], axis=[0, 1, 2])


def test_concatenate_1ist():
    combo_check(np.concatenate, [0], [(R(1), R(3))], axis=[0])


def test_concatenate_tuple():
    combo_check(np.concatenate, [0], [[R(1), R(3)]], axis=[0])


def test_concatenate_2d():
    combo_check(np.concatenate, [0], [(R(2, 2), R(2, 2))], axis=[0, 1])


def test_concatenate_3d():
    combo_check(np.concatenate, [0], [(R(2, 2, 2), R(2, 2, 2))], axis=[0, 1, 2])


@pytest.mark.parametrize(("fun", "arrays"), [
    pytest.param(np.vstack, [R(2), (R(2), R(2))], id="vstack_1d"),
    pytest.param(np.vstack, [R(2, 3), (R(2, 4), R(1, 4))], id="vstack_2d"),
    pytest.param(np.vstack, [R(2, 3, 4), (R(2, 3, 4), R(5, 3, 4))], id="vstack_3d"),
    pytest.param(np.hstack, [R(2), (R(2), R(2))], id="hstack_1d"),
    pytest.param(np.hstack, [R(3, 2), (R(3, 4), R(3, 5))], id="hstack_2d"),
    pytest.param(np.hstack, [R(2, 3, 4), (R(2, 1, 4), R(2, 5, 4))], id="hstack_3d"),
    pytest.param(np.vstack, [R(2), (R(2), R(2))], id="row_stack_1d"),
    pytest.param(np.vstack, [R(2, 3), (R(2, 4), R(1, 4))], id="row_stack_2d"),
    pytest.param(np.column_stack, [R(2), (R(2), R(2))], id="column_stack_1d"),
    pytest.param(np.column_stack, [R(2, 2), (R(2, 2), R(2, 2))], id="column_stack_2d"),
])
def test_stacking(fun, arrays):
    combo_check(fun, [0], arrays)


def test_stack_1d():
    combo_check(np.stack, [0], [(R(2),), (R(2), R(2))], axis=[0, 1])


def test_select():
    combo_check(np.select, [1], [[R(3, 4, 5) > 0, R(3, 4, 5) > 0, R(3, 4, 5) > 0]],
                [[R(3, 4, 5), R(3, 4, 5), R(3, 4, 5)]], default=[0.0, 1.1])
