"""Compiled steps over the recurrent layers: nn.RNN, nn.GRU, nn.LSTM and their cells run as a
replayed plan (not eagerly) and give eager's losses, outputs and parameters bit for bit.

The zero initial state a layer makes when none is given is `autograd.zeros`, which a
recording is told about and a replay keeps as a constant; before, it was numpy's zeros and
every recurrent step fell back to eager. Random draws (rand, randn, a recurrent layer's
dropout mask) are told to a recording as such, so neither a compiled step nor a compiled
gradient function ever replays one draw.
"""

import warnings

import numpy as np
import pytest

import nn
import nn.utils
from autograd import (
    Tensor,
    concatenate,
    engine,
    ones,
    ones_like,
    rand,
    randn,
    value_and_grad,
    zeros,
    zeros_like,
)
from autograd.compile import CompileWarning, _Plan
from autograd.compile.recording import _Recorder

LAYERS = {"RNN": nn.RNN, "GRU": nn.GRU, "LSTM": nn.LSTM}
CELLS = {"RNN": nn.RNNCell, "GRU": nn.GRUCell, "LSTM": nn.LSTMCell}
BATCH, SEQ, IN, HIDDEN = 3, 4, 2, 5


def bits(a):
    a = np.asarray(a)
    return a.shape, a.dtype.str, a.tobytes()


class Sequence(nn.Module):
    """A recurrent layer and a Linear head on its last output and its final state."""

    def __init__(self, mode, dtype, batch_first=False, num_layers=1, state=None, seed=0,
                 **kw):
        rng = np.random.default_rng(seed)
        self.rnn = LAYERS[mode](IN, HIDDEN, num_layers=num_layers, batch_first=batch_first,
                                rng=rng, dtype=dtype, **kw)
        self.head = nn.Linear(2 * HIDDEN, 1, rng=rng, dtype=dtype)
        self.mode, self.batch_first = mode, batch_first
        shape = (num_layers, BATCH, HIDDEN)
        # state: None (the layer's zeros), "constant" (a Tensor made outside the step) or
        # "learned" (a parameter, so the initial state's gradient is part of the step)
        self.h0 = self.c0 = None
        if state is not None:
            learned = state == "learned"
            self.h0 = Tensor(rng.normal(size=shape).astype(dtype), requires_grad=learned)
            self.c0 = Tensor(rng.normal(size=shape).astype(dtype), requires_grad=learned)

    def forward(self, x):
        hx = None if self.h0 is None else (self.h0, self.c0) if self.mode == "LSTM" else self.h0
        y, h_n = self.rnn(x, hx)
        h_n = h_n[0] if self.mode == "LSTM" else h_n
        last = y[:, -1] if self.batch_first else y[-1]
        return self.head(concatenate([last, h_n[-1]], axis=-1))


class Cells(nn.Module):
    """A cell looped over time by hand, its state omitted at the first step."""

    def __init__(self, mode, dtype):
        rng = np.random.default_rng(3)
        self.cell = CELLS[mode](IN, HIDDEN, rng=rng, dtype=dtype)
        self.head = nn.Linear(HIDDEN, 1, rng=rng, dtype=dtype)
        self.mode = mode

    def forward(self, x):
        state = None
        for t in range(x.shape[0]):
            state = self.cell(x[t], state)
        return self.head(state[0] if self.mode == "LSTM" else state)


def data(dtype, batch_first, steps=4, seed=1):
    rng = np.random.default_rng(seed)
    shape = (BATCH, SEQ, IN) if batch_first else (SEQ, BATCH, IN)
    return [(rng.normal(size=shape).astype(dtype), rng.normal(size=(BATCH, 1)).astype(dtype))
            for _ in range(steps)]


def eager_run(model, opt, batches):
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = nn.MSELoss()(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def compiled_run(model, opt, batches):
    step = nn.compile_step(model, nn.MSELoss(), opt)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)  # any fallback to eager fails the test
        losses = [step(x, y) for x, y in batches]
    return losses, step


def assert_same(make, batches, optimizer=("Adam", dict(lr=1e-2))):
    name, kw = optimizer
    me, mc = make(), make()
    eager = eager_run(me, getattr(nn.optim, name)(me.parameters(), **kw), batches)
    compiled, step = compiled_run(mc, getattr(nn.optim, name)(mc.parameters(), **kw), batches)
    plans = list(step.compiled.plans.values())
    assert plans and all(isinstance(p, _Plan) for p in plans), plans
    assert [bits(v) for v in eager] == [bits(v) for v in compiled]
    assert [bits(p.data) for p in me.parameters()] == [bits(p.data) for p in mc.parameters()]
    assert all(np.isfinite(v) for v in eager) and len(set(eager)) > 1  # it trained


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_recurrent_layer_compiles_with_its_zero_state_and_matches_eager(mode, batch_first,
                                                                         num_layers, dtype):
    assert_same(lambda: Sequence(mode, dtype, batch_first, num_layers),
                data(dtype, batch_first))


@pytest.mark.parametrize("state", ["constant", "learned"])
@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_recurrent_layer_compiles_with_a_given_initial_state(mode, state):
    learned = Sequence(mode, np.float64, state=state)
    assert any(p is learned.h0 for p in learned.parameters()) is (state == "learned")
    assert_same(lambda: Sequence(mode, np.float64, True, 2, state=state), data(np.float64, True))


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_recurrent_options_compile(mode):
    # bias=False, relu (RNN only), and SGD with momentum through the compiled update rule
    kw = dict(bias=False) if mode != "RNN" else dict(bias=False, nonlinearity="relu")
    assert_same(lambda: Sequence(mode, np.float32, False, 2, **kw), data(np.float32, False),
                optimizer=("SGD", dict(lr=0.05, momentum=0.9)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_cells_compile_with_their_zero_state(mode, dtype):
    assert_same(lambda: Cells(mode, dtype), data(dtype, False))


def test_a_new_batch_size_records_a_new_plan_with_zeros_of_its_size():
    # The zero state's shape follows the batch: each input signature gets its own constant.
    batches = data(np.float64, True, steps=2) + [
        (x[:2], y[:2]) for x, y in data(np.float64, True, steps=2, seed=2)]
    assert_same(lambda: Sequence("LSTM", np.float64, True, 1), batches)


@pytest.mark.parametrize("make, func, args", [
    (lambda: zeros(2, 3, dtype=np.float32), np.zeros, ((2, 3), np.dtype(np.float32))),
    (lambda: ones((4,)), np.ones, ((4,), np.dtype(np.float64))),
    (lambda: zeros_like(np.empty((2, 0), np.float32)), np.zeros, ((2, 0), np.dtype(np.float32))),
    (lambda: ones_like(Tensor(1.0)), np.ones, ((), np.dtype(np.float64))),
    (lambda: Tensor(np.ones(3)).new_zeros(1, 2), np.zeros, ((1, 2), np.dtype(np.float64))),
])
def test_creation_from_python_numbers_is_told_to_a_recording(make, func, args):
    rec = _Recorder()
    with engine.watching(rec):
        t = make()
    (array, told, told_args, _, copy), = [o for o in rec.origins.values() if o[0] is t.data]
    assert told is func and told_args == args
    assert bits(copy) == bits(t.data) == bits(func(*args))


@pytest.mark.parametrize("draw", [lambda: rand(3), lambda: randn(3, dtype=np.float32)])
def test_a_compiled_function_never_freezes_rand_or_randn(draw):
    # Regression: a compiled gradient function froze numpy-made arrays as constants, and so
    # returned the first call's random draws at every later call, silently.
    def noisy(x):
        return (x * draw()).sum()
    f = value_and_grad(noisy, compile=True)
    with pytest.warns(CompileWarning, match="drawn from random numbers"):
        grads = [bits(f(np.arange(3.0))[1]) for _ in range(3)]
    assert not f.compiled and "rand, randn" in f.eager_reason
    assert len(set(grads)) == 3  # three calls, three draws


def test_creation_from_python_numbers_compiles_in_a_gradient_function():
    def shifted(x):
        return ((x + ones(3)) * zeros_like(x).exp()).sum()
    x = np.arange(3.0)
    f = value_and_grad(shifted, compile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileWarning)
        results = []
        for k in range(6):  # recorded, confirmed on new values, then replayed
            results.append(f(x + k))
            assert f.eager_reason is None
    assert f.compiled
    eager = [value_and_grad(shifted)(x + k) for k in range(6)]
    assert [(bits(v), bits(g)) for v, g in results] == [(bits(v), bits(g)) for v, g in eager]


def test_fit_compiles_recurrent_models_by_default_and_matches_eager(capsys):
    rng = np.random.default_rng(4)
    X = rng.normal(size=(10, SEQ, IN))
    Y = rng.normal(size=(10, 1))
    runs = []
    for compile in (False, None, True):
        model = Sequence("GRU", np.float64, True, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("error", CompileWarning)
            history = nn.fit(model, nn.MSELoss(), nn.optim.Adam(model.parameters(), lr=1e-2),
                             X, Y, epochs=3, batch_size=BATCH, progress=False,
                             rng=np.random.default_rng(0), compile=compile)
        assert history.compiled is (compile is not False)
        assert history.eager_reason == ("compile=False" if compile is False else None)
        runs.append((history.history, [bits(p.data) for p in model.parameters()]))
    assert runs[0] == runs[1] == runs[2]
    capsys.readouterr()


def test_recurrent_dropout_in_training_runs_eagerly_with_eager_results():
    # Dropout between layers draws a new mask every step: fit must not replay one mask.
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(6, SEQ, IN)), rng.normal(size=(6, 1))
    runs = []
    for compile in (False, None):
        model = Sequence("LSTM", np.float64, True, 2, dropout=0.5, seed=2)
        model.rnn.rng = np.random.default_rng(9)
        history = nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=0.1), X, Y,
                         epochs=2, batch_size=BATCH, progress=False, compile=compile,
                         rng=np.random.default_rng(0))
        runs.append((history.history, [bits(p.data) for p in model.parameters()]))
    assert runs[0] == runs[1]
    assert history.compiled is False and "random numbers" in history.eager_reason


@pytest.mark.parametrize("mode", ["RNN", "GRU", "LSTM"])
def test_a_compiled_gradient_function_draws_a_new_dropout_mask_at_every_call(mode):
    # Regression: nn.utils.value_and_grad (compiled by default) froze the mask of a recurrent
    # layer's dropout, numpy code's array, and returned the first call's loss at every call.
    rng = np.random.default_rng(6)
    X, Y = rng.normal(size=(SEQ, BATCH, IN)), rng.normal(size=(BATCH, 1))
    runs = []
    for compile in (False, None):
        model = Sequence(mode, np.float64, False, 2, dropout=0.5, seed=3)
        model.rnn.rng = np.random.default_rng(11)
        f = nn.utils.value_and_grad(model, nn.MSELoss(), X, Y, compile=compile)
        theta = np.asarray(nn.utils.parameters_to_vector(model.parameters()))
        runs.append([(bits(v), bits(g)) for v, g in (f(theta) for _ in range(5))])
    assert runs[0] == runs[1] and len(set(runs[0])) == 5
    assert not f.compiled and "dropout" in f.eager_reason
