"""autograd/compile/rules.py: update rules as data, run eagerly and inlined into a compiled step
with the same bits; and autograd/compile knows no optimizer (each states its own rule)."""

import math
import operator
import pathlib
import re
import warnings

import numpy as np
import pytest

from autograd import Tensor
from autograd import compile as C
from autograd.compile.rules import Emitter, IfNone, Rule, eager_function

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_autograd_compile_knows_no_optimizer():
    # The optimizers' formulas live once, as rules in nn/optim: no optimizer's name or option
    # may appear in the engine's compiled-step code.
    words = re.compile(r"\b(SGD|Adam|AdamW|RMSprop|Adagrad|momentum|betas|nesterov|dampening|"
                       r"amsgrad|weight_decay|maximize|nn\.optim|import nn|from nn)\b")
    found = [f"{path.name}:{n}: {line.strip()}"
             for path in sorted((ROOT / "autograd" / "compile").glob("*.py"))
             for n, line in enumerate(path.read_text().splitlines(), 1) if words.search(line)]
    assert found == []


class Holder:
    """The least an optimizer-like object needs for RuleUpdate: groups, params, state lists,
    switches and `rule(group)`."""

    state_names = {"avg": "avg", "count": "count"}
    update_switches = ("halve",)

    def __init__(self, params, instrs, **options):
        self.params = list(params)
        self.param_groups = [{"params": self.params, **options}]
        self.avg = [None] * len(self.params)
        self.count = [0] * len(self.params)
        self.instrs = instrs
        self.rules = {}

    def rule(self, group):
        key = bool(group["halve"])
        if key not in self.rules:
            rule = Rule(self.instrs(group), self.state_names, [k for k in group if k != "params"])
            self.rules[key] = (rule, eager_function(rule))
        return self.rules[key]

    def step(self):
        for group in self.param_groups:
            self.rule(group)[1](self, group, 0)


def averaging(group):
    """avg = copy(g) at first, then avg = avg * keep + g; p -= rate * avg (/ 2 when halving),
    rate = lr / sqrt(count)."""
    instrs = [(operator.add, ("count", 1), "count"), (math.sqrt, ("count",), "root"),
              (operator.truediv, ("lr", "root"), "rate"),
              IfNone("avg", [(np.copy, ("grad",), "avg")],
                     [(np.multiply, ("avg", "keep"), "avg"), (np.add, ("avg", "grad"), "avg")]),
              (np.multiply, ("rate", "avg"), "change")]
    if group["halve"]:
        instrs += [(operator.mul, ("lr", 0.5), "half"), (np.multiply, ("change", "half"), "change")]
    return instrs + [(np.subtract, ("param", "change"), "param")]


def test_a_rule_runs_eagerly_as_written_and_compiled_with_the_same_bits():
    def params():
        rng = np.random.default_rng(0)
        return [Tensor(rng.normal(size=s), requires_grad=True) for s in [(3, 2), (2,), ()]]

    def loss(ps):
        return lambda x: ((Tensor(x) @ ps[0] + ps[1]) ** 2).sum() * ps[2]
    pe, pc = params(), params()
    oe, oc = Holder(pe, averaging, lr=0.1, keep=0.5, halve=False), Holder(
        pc, averaging, lr=0.1, keep=0.5, halve=False)
    step = C.CompiledStep(loss(pc), pc, C.RuleUpdate(oc))
    fn = loss(pe)
    reference = [p.data.copy() for p in pe]
    avg = [None] * 3
    rng = np.random.default_rng(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", C.CompileWarning)
        for i in range(8):
            x = rng.normal(size=(4, 3))
            for o in (oe, oc):
                o.param_groups[0]["lr"] = 0.1 / (i + 1)  # options are read at every step
                o.param_groups[0]["halve"] = i >= 5  # a switch picks the other variant
            for p in pe:
                p.grad = None
            fn(x).backward()
            for k, p in enumerate(pe):  # the rule written out by hand
                avg[k] = p.grad.copy() if avg[k] is None else avg[k] * 0.5 + p.grad
                change = (0.1 / (i + 1) / math.sqrt(i + 1)) * avg[k]
                if i >= 5:
                    change = change * (0.1 / (i + 1) * 0.5)
                reference[k] = reference[k] - change
            oe.step()
            step(x)
            assert [p.data.tobytes() for p in pe] == [r.tobytes() for r in reference]
            assert [p.data.tobytes() for p in pc] == [r.tobytes() for r in reference]
    assert oc.count == oe.count == [8, 8, 8]
    assert [a.tobytes() for a in oc.avg] == [a.tobytes() for a in oe.avg]
    (plan,) = step.plans.values()
    assert sorted(plan.updates) == [((False,),), ((True,),)]
    assert all(entry[0] is not None for entry in plan.updates.values())


def test_options_only_arithmetic_runs_once_per_group():
    rule = Rule(averaging({"halve": True}), Holder.state_names, ["lr", "keep", "halve"])
    assert [out for _, _, out in rule.hoisted] == ["half"]  # "rate" depends on the count
    assert rule.options == ["keep", "lr"] and rule.states == ["avg", "count"]
    emit = Emitter(lambda obj: "k")
    assert emit.group_lines(rule, "g") == ["o_keep = g['keep']", "o_lr = g['lr']",
                                           "o_half = (o_lr * 0.5)"]


@pytest.mark.parametrize("instrs, message", [
    ([(np.add, ("grad", "unknown"), "x")], r"\['unknown'\] name no option, state or earlier"),
    ([(np.negative, ("grad",), "grad")], "writes into 'grad'"),
    ([(operator.sub, (1, "lr"), "a"), (operator.add, ("lr", 1), "a")], "names two different"),
])
def test_a_rule_that_names_what_does_not_exist_is_refused_with_its_name(instrs, message):
    with pytest.raises(ValueError, match=message):
        Rule(instrs, {"avg": "avg"}, ["lr"])


def test_a_stateless_rule_runs_once_over_flat_parameters():
    import nn  # the one stateless rule there is: plain SGD
    params = [Tensor(np.ones((3, 2)), requires_grad=True), Tensor(np.ones(2), requires_grad=True)]
    opt = nn.optim.SGD(params, lr=0.5)
    update = C.RuleUpdate(opt, flat=True)
    assert update.group is not None and all(p.data.base is not None for p in params)
    step = C.CompiledStep(lambda x: (Tensor(x) @ params[0] + params[1]).sum(), params, update)
    for _ in range(4):
        step(np.ones((1, 3)))
    np.testing.assert_array_equal(params[0].data, np.full((3, 2), 1 - 4 * 0.5))
    np.testing.assert_array_equal(params[1].data, np.full(2, 1 - 4 * 0.5))
    assert C.RuleUpdate(nn.optim.SGD([Tensor(np.ones(2), requires_grad=True)], 0.1,
                                     momentum=0.9), flat=True).group is None


def test_a_rule_whose_arrays_are_not_shaped_like_the_parameter_runs_step_with_a_warning():
    # A compiled step gives each new array of a rule the parameter's shape: a rule that
    # broadcasts to more cannot run there; its checked run says so and step() runs instead.
    def rule(group):
        return [(np.multiply, ("table", "grad"), "big"), (np.sum, ("big",), "total"),
                (operator.mul, ("total", np.float64(0.5)), "total"),
                (np.subtract, ("param", "total"), "param")]
    table = np.arange(6.0).reshape(2, 3)

    def run(compiled):
        p = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
        opt = Holder([p], rule, table=table, halve=False)
        fn = lambda x: (Tensor(x) * p).sum()  # noqa: E731
        step = C.CompiledStep(fn, [p], C.RuleUpdate(opt))
        for i in range(4):
            x = np.array([1.0, 2.0, 3.0]) * (i + 1)
            if compiled:
                step(x)
            else:
                p.grad = None
                fn(x).backward()
                opt.step()
        return p.data
    with pytest.warns(C.CompileWarning, match="differs from the optimizer's step"):
        compiled = run(True)
    np.testing.assert_array_equal(compiled, run(False))
    expected = np.array([0.5, -1.0, 2.0]) - sum(0.5 * (table * np.arange(1.0, 4.0) * k).sum()
                                                for k in range(1, 5))
    np.testing.assert_allclose(compiled, expected, rtol=1e-14)


def test_a_step_whose_parameters_come_in_another_order_updates_each_with_its_own_gradient():
    import nn
    rng = np.random.default_rng(0)

    def run(compiled):
        ps = [Tensor(rng.normal(size=(3, 2)), requires_grad=True),
              Tensor(rng.normal(size=2), requires_grad=True)]
        opt = nn.optim.SGD(ps, lr=0.1, momentum=0.9)
        fn = lambda x: ((Tensor(x) @ ps[0] + ps[1]) ** 2).sum()  # noqa: E731
        step = C.CompiledStep(fn, ps[::-1], C.RuleUpdate(opt, flat=True))
        for k in range(5):
            x = np.linspace(-1, 1, 6).reshape(2, 3) * (k + 1)
            if compiled:
                step(x)
            else:
                opt.zero_grad()
                fn(x).backward()
                opt.step()
        return [p.data.tobytes() for p in ps]
    state = rng.bit_generator.state
    eager = run(False)
    rng.bit_generator.state = state
    with warnings.catch_warnings():
        warnings.simplefilter("error", C.CompileWarning)
        assert run(True) == eager
