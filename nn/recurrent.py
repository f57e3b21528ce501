"""Recurrent layers: RNN, GRU and LSTM over whole sequences, and their one-step cells.

One step of each is a function of the input's projection `xi = x @ W_ih.T + b_ih` and the
previous state, written with Tensor operations; a layer loops over time, layer by layer.
Weights have PyTorch's names, shapes (gates stacked in rows: i, f, g, o for the LSTM; r, z, n
for the GRU) and initialisation U(-1/sqrt(H), 1/sqrt(H)).
"""

import math
import numbers

import numpy as np

from autograd import Tensor, rand, stack, zeros

from .init import get_rng
from .module import Module

GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}  # stacked blocks of hidden_size rows per weight


def _hidden(h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None) -> Tensor:
    """The state's projection h @ W_hh.T + b_hh (given W_hh already transposed)."""
    return h @ w_hh_t if b_hh is None else h.linear(w_hh_t, b_hh)


def _pre_activation(xi: Tensor, h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None) -> Tensor:
    """xi + h @ W_hh.T + b_hh: one node, h @ W_hh.T + xi, when b_hh is folded into xi."""
    return h.linear(w_hh_t, xi) if b_hh is None else xi + h.linear(w_hh_t, b_hh)


def _fold(mode: str, b_ih: Tensor | None, b_hh: Tensor | None) -> tuple:
    """The biases as (input projection's, state projection's). The RNN and LSTM only ever add
    both, so they are summed once per call and join the input's projection; the GRU keeps
    b_hh apart, since r multiplies W_hn h + b_hn."""
    if b_ih is None or mode == "GRU":
        return b_ih, b_hh
    return b_ih + b_hh, None


def rnn_step(xi: Tensor, h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None,
             nonlinearity: str = "tanh") -> Tensor:
    """h' = act(xi + h @ W_hh.T + b_hh), act tanh or relu; xi, h: (batch, hidden)."""
    pre = _pre_activation(xi, h, w_hh_t, b_hh)
    return pre.tanh() if nonlinearity == "tanh" else pre.relu()


def gru_step(xi: Tensor, h: Tensor, w_hh_t: Tensor, b_hh: Tensor | None) -> Tensor:
    """One GRU step: xi (batch, 3H) holds the input's r, z, n projections; h (batch, H).

    r = sigmoid(xi_r + hh_r), z = sigmoid(xi_z + hh_z), n = tanh(xi_n + r * hh_n),
    h' = (1 - z) * n + z * h, written n + z * (h - n).
    """
    size = h.shape[-1]
    hh = _hidden(h, w_hh_t, b_hh)
    rz = (xi[:, :2 * size] + hh[:, :2 * size]).sigmoid()
    r, z = rz[:, :size], rz[:, size:]
    n = (xi[:, 2 * size:] + r * hh[:, 2 * size:]).tanh()
    return n + z * (h - n)


def lstm_step(xi: Tensor, h: Tensor, c: Tensor, w_hh_t: Tensor,
              b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    """One LSTM step: xi (batch, 4H) holds the input's i, f, g, o projections; h, c (batch, H).

    c' = f * c + i * g and h' = o * tanh(c'), with i, f, o sigmoids and g a tanh.
    """
    size = h.shape[-1]
    gates = _pre_activation(xi, h, w_hh_t, b_hh)
    ifo = gates[:, :2 * size].sigmoid()  # i and f side by side: one node for both
    g = gates[:, 2 * size:3 * size].tanh()
    o = gates[:, 3 * size:].sigmoid()
    c = ifo[:, size:] * c + ifo[:, :size] * g
    return o * c.tanh(), c


def _positive_int(value, what: str, layer: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {value!r}")
    return int(value)


def _float_dtype(dtype, layer: str) -> np.dtype:
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{layer}: dtype must be float32 or float64, got {dt}")
    return dt


def _uniform(shape: tuple, hidden_size: int, rng: np.random.Generator, dtype) -> Tensor:
    bound = 1.0 / math.sqrt(hidden_size)
    return Tensor(rng.uniform(-bound, bound, size=shape).astype(dtype), requires_grad=True)


def _as_state(value, like: Tensor, shape: tuple, what: str, layer: str) -> Tensor:
    """An initial state as a Tensor in the weights' dtype, checked to have `shape`."""
    state = value if isinstance(value, Tensor) else Tensor(value, dtype=like.dtype)
    if state.shape != shape:
        raise ValueError(f"{layer}: {what} must have shape {shape}, got {state.shape}")
    return state


def _mode_and_nonlinearity(mode: str, nonlinearity: str, layer: str) -> None:
    if mode == "RNN" and nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"{layer}: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")


# ---------------------------------------------------------------- cells: one time step
class _Cell(Module):
    """weight_ih (G*H, input_size), weight_hh (G*H, H), bias_ih and bias_hh (G*H)."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 nonlinearity: str = "tanh", rng: np.random.Generator | None = None,
                 dtype=np.float64):
        layer = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", layer)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", layer)
        _mode_and_nonlinearity(self.mode, nonlinearity, layer)
        self.nonlinearity, self.bias = nonlinearity, bool(bias)
        dt, rng = _float_dtype(dtype, layer), get_rng(rng)
        rows = GATES[self.mode] * self.hidden_size
        self.weight_ih = _uniform((rows, self.input_size), self.hidden_size, rng, dt)
        self.weight_hh = _uniform((rows, self.hidden_size), self.hidden_size, rng, dt)
        self.bias_ih = _uniform((rows,), self.hidden_size, rng, dt) if bias else None
        self.bias_hh = _uniform((rows,), self.hidden_size, rng, dt) if bias else None

    def _input(self, x: Tensor) -> tuple[Tensor, bool]:
        """x as (batch, input_size), and whether it came without a batch axis."""
        if x.ndim not in (1, 2) or x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}({self.extra_repr()}): expected input of "
                             f"shape (batch, {self.input_size}) or ({self.input_size},), got "
                             f"{x.shape}")
        return (x.reshape(1, -1), True) if x.ndim == 1 else (x, False)

    def _state(self, value, x: Tensor, unbatched: bool, what: str) -> Tensor:
        shape = (x.shape[0], self.hidden_size)
        if value is None:
            return zeros(shape, dtype=self.weight_ih.dtype)  # a compiled step replays it
        state = _as_state(value, self.weight_ih, shape[1:] if unbatched else shape, what,
                          f"{type(self).__name__}({self.extra_repr()})")
        return state.reshape(shape)

    def _projections(self, x: Tensor):
        """The input's projection x @ W_ih.T + bias, W_hh.T, and the bias left for the state."""
        b_in, b_hh = _fold(self.mode, self.bias_ih, self.bias_hh)
        w_ih_t, w_hh_t = self.weight_ih.T, self.weight_hh.T
        xi = x @ w_ih_t if b_in is None else x.linear(w_ih_t, b_in)
        return xi, w_hh_t, b_hh

    def extra_repr(self) -> str:
        bias = "" if self.bias else ", bias=False"
        return f"{self.input_size}, {self.hidden_size}{bias}"


class RNNCell(_Cell):
    """h' = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh) (or relu); x (batch, in) -> (batch, H).

    `cell(x, h)`; h defaults to zeros. An input without a batch axis, (in,), gives (H,).
    """

    def forward(self, x: Tensor, hx=None) -> Tensor:
        x, unbatched = self._input(x)
        h = self._state(hx, x, unbatched, "hx")
        xi, w_hh_t, b_hh = self._projections(x)
        h = rnn_step(xi, h, w_hh_t, b_hh, self.nonlinearity)
        return h.reshape(-1) if unbatched else h

    def extra_repr(self) -> str:
        relu = ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return super().extra_repr() + relu


class GRUCell(_Cell):
    """One GRU step (see `gru_step`): `cell(x, h)` -> h', (batch, hidden_size); h defaults to 0."""

    mode = "GRU"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 rng: np.random.Generator | None = None, dtype=np.float64):
        super().__init__(input_size, hidden_size, bias, "tanh", rng, dtype)

    def forward(self, x: Tensor, hx=None) -> Tensor:
        x, unbatched = self._input(x)
        h = self._state(hx, x, unbatched, "hx")
        xi, w_hh_t, b_hh = self._projections(x)
        h = gru_step(xi, h, w_hh_t, b_hh)
        return h.reshape(-1) if unbatched else h


class LSTMCell(_Cell):
    """One LSTM step (see `lstm_step`): `cell(x, (h, c))` -> (h', c'); the state defaults to 0."""

    mode = "LSTM"

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True,
                 rng: np.random.Generator | None = None, dtype=np.float64):
        super().__init__(input_size, hidden_size, bias, "tanh", rng, dtype)

    def forward(self, x: Tensor, hx=None) -> tuple[Tensor, Tensor]:
        x, unbatched = self._input(x)
        if hx is not None and (not isinstance(hx, tuple) or len(hx) != 2):
            raise TypeError(f"LSTMCell({self.extra_repr()}): hx must be a tuple (h, c), got "
                            f"{type(hx).__name__}")
        h0, c0 = hx if hx is not None else (None, None)
        h, c = self._state(h0, x, unbatched, "h"), self._state(c0, x, unbatched, "c")
        xi, w_hh_t, b_hh = self._projections(x)
        h, c = lstm_step(xi, h, c, w_hh_t, b_hh)
        return (h.reshape(-1), c.reshape(-1)) if unbatched else (h, c)


# ---------------------------------------------------------------- layers: whole sequences
class _Recurrent(Module):
    """`num_layers` stacked recurrences over a sequence; see RNN, GRU and LSTM."""

    mode = "RNN"

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 nonlinearity: str = "tanh", rng: np.random.Generator | None = None,
                 dtype=np.float64):
        layer = type(self).__name__
        self.input_size = _positive_int(input_size, "input_size", layer)
        self.hidden_size = _positive_int(hidden_size, "hidden_size", layer)
        self.num_layers = _positive_int(num_layers, "num_layers", layer)
        _mode_and_nonlinearity(self.mode, nonlinearity, layer)
        if bidirectional:
            raise ValueError(f"{layer}: bidirectional=True is not supported (run a second layer "
                             "on the reversed sequence, x[::-1])")
        if (not isinstance(dropout, numbers.Real) or isinstance(dropout, bool)
                or not 0 <= dropout <= 1):
            raise ValueError(f"{layer}: dropout must be a probability in [0, 1], got {dropout!r}")
        self.nonlinearity, self.bias, self.batch_first = nonlinearity, bool(bias), batch_first
        self.dropout, self.rng = float(dropout), None if rng is None else get_rng(rng)
        dt, rng = _float_dtype(dtype, layer), get_rng(rng)
        rows = GATES[self.mode] * self.hidden_size
        for k in range(self.num_layers):  # PyTorch's names and order: weight_ih_l0, ...
            n_in = self.input_size if k == 0 else self.hidden_size
            setattr(self, f"weight_ih_l{k}", _uniform((rows, n_in), self.hidden_size, rng, dt))
            setattr(self, f"weight_hh_l{k}",
                    _uniform((rows, self.hidden_size), self.hidden_size, rng, dt))
            if bias:
                setattr(self, f"bias_ih_l{k}", _uniform((rows,), self.hidden_size, rng, dt))
                setattr(self, f"bias_hh_l{k}", _uniform((rows,), self.hidden_size, rng, dt))

    def _layer(self, k: int) -> tuple:
        bias = self.bias
        return (getattr(self, f"weight_ih_l{k}"), getattr(self, f"weight_hh_l{k}"),
                getattr(self, f"bias_ih_l{k}") if bias else None,
                getattr(self, f"bias_hh_l{k}") if bias else None)

    def _name(self) -> str:
        return f"{type(self).__name__}({self.extra_repr()})"

    def _sequence(self, x) -> tuple[Tensor, bool]:
        """The input as (seq, batch, input_size), and whether it came without a batch axis."""
        w = self.weight_ih_l0
        x = x if isinstance(x, Tensor) else Tensor(x, dtype=w.dtype)
        if x.ndim not in (2, 3) or x.shape[-1] != self.input_size or x.shape[0] == 0 or (
                x.ndim == 3 and x.shape[1] == 0):
            order = "(batch, seq, " if self.batch_first else "(seq, batch, "
            raise ValueError(f"{self._name()}: expected a non-empty input of shape {order}"
                             f"{self.input_size}) or (seq, {self.input_size}), got {x.shape}")
        if x.ndim == 2:
            return x.reshape(x.shape[0], 1, x.shape[1]), True
        return (x.swapaxes(0, 1) if self.batch_first else x), False

    def _initial(self, value, batch: int, unbatched: bool, what: str) -> list[Tensor]:
        """One (batch, H) state per layer, from (num_layers, batch, H) or zeros."""
        shape = (self.num_layers, batch, self.hidden_size)
        if value is None:
            # zeros() is a creation a compiled step replays (numpy's zeros would be refused)
            return [zeros(shape[1:], dtype=self.weight_ih_l0.dtype)
                    for _ in range(self.num_layers)]
        expected = (shape[0], shape[2]) if unbatched else shape
        state = _as_state(value, self.weight_ih_l0, expected, what, self._name())
        state = state.reshape(shape)
        return [state[k] for k in range(self.num_layers)]

    def _dropped(self, y: Tensor) -> Tensor:
        """Dropout between layers, in training only (inverted: the kept values are scaled)."""
        if not self.training or self.dropout == 0:
            return y
        # Drawn by autograd's rand and masked with Tensor operations (not numpy code), so a
        # compiled step or gradient function knows the mask is random and runs eagerly rather
        # than replaying one mask.
        keep = rand(y.shape, rng=get_rng(self.rng)) >= self.dropout
        scale = 0.0 if self.dropout == 1 else 1 / (1 - self.dropout)
        return y * (Tensor(keep, dtype=y.dtype) * scale)

    def _run(self, x: Tensor, states: list[list[Tensor]]) -> tuple[Tensor, list]:
        """Every layer over the sequence x (seq, batch, in): the last layer's outputs and each
        layer's final states. `states[k]` holds layer k's initial state(s).

        Each step projects its own input: slicing one projection of the whole sequence would
        cost, in backward, a sequence-sized gradient array per step. A layer's outputs reach
        the next layer as the list they are, and are stacked once, at the end.
        """
        inputs, finals = [x[t] for t in range(x.shape[0])], []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            b_in, b_hh = _fold(self.mode, b_ih, b_hh)
            w_ih_t, w_hh_t, state, outputs = w_ih.T, w_hh.T, states[k], []
            for x_t in inputs:
                xi = x_t @ w_ih_t if b_in is None else x_t.linear(w_ih_t, b_in)
                state = self._step(xi, state, w_hh_t, b_hh)
                outputs.append(state[0])
            finals.append(state)
            inputs = outputs if k == self.num_layers - 1 else [self._dropped(h) for h in outputs]
        return stack(inputs, axis=0), finals

    def _output(self, y: Tensor, unbatched: bool) -> Tensor:
        if unbatched:
            return y.reshape(y.shape[0], y.shape[2])
        return y.swapaxes(0, 1) if self.batch_first else y

    def _final(self, states: list[Tensor], unbatched: bool) -> Tensor:
        h = stack(states, axis=0)
        return h.reshape(h.shape[0], h.shape[2]) if unbatched else h

    def extra_repr(self) -> str:
        extra = "" if self.num_layers == 1 else f", num_layers={self.num_layers}"
        extra += "" if self.bias else ", bias=False"
        extra += ", batch_first=True" if self.batch_first else ""
        extra += f", dropout={self.dropout}" if self.dropout else ""
        extra += ", nonlinearity='relu'" if self.nonlinearity == "relu" else ""
        return f"{self.input_size}, {self.hidden_size}{extra}"


class RNN(_Recurrent):
    """An Elman RNN, h_t = tanh(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh), per layer.

    `output, h_n = rnn(x, h_0)`: x is (seq, batch, input_size) ((batch, seq, ...) with
    `batch_first=True`, (seq, input_size) unbatched); h_0 (num_layers, batch, hidden_size)
    defaults to zeros. output holds the last layer's h_t for every t, h_n every layer's last.
    `nonlinearity="relu"` uses relu; `dropout` drops the outputs of every layer but the last,
    in training. Weights are PyTorch's: weight_ih_l{k} (hidden, in), weight_hh_l{k}, biases.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1,
                 nonlinearity: str = "tanh", bias: bool = True, batch_first: bool = False,
                 dropout: float = 0.0, bidirectional: bool = False,
                 rng: np.random.Generator | None = None, dtype=np.float64):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, nonlinearity, rng, dtype)

    def _step(self, xi, state, w_hh_t, b_hh):
        return (rnn_step(xi, state[0], w_hh_t, b_hh, self.nonlinearity),)

    def forward(self, input, hx=None) -> tuple[Tensor, Tensor]:
        x, unbatched = self._sequence(input)
        h0 = self._initial(hx, x.shape[1], unbatched, "hx")
        y, finals = self._run(x, [(h,) for h in h0])
        return self._output(y, unbatched), self._final([s[0] for s in finals], unbatched)


class _Gated(_Recurrent):
    """GRU's and LSTM's constructor: RNN's without a nonlinearity (their gates fix it)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 rng: np.random.Generator | None = None, dtype=np.float64):
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, "tanh", rng, dtype)


class GRU(_Gated):
    """A gated recurrent unit per layer (see `gru_step`); called and returning as RNN does.

    weight_ih_l{k} is (3 * hidden, in): the r, z and n blocks stacked, as in PyTorch.
    """

    mode = "GRU"

    def _step(self, xi, state, w_hh_t, b_hh):
        return (gru_step(xi, state[0], w_hh_t, b_hh),)

    forward = RNN.forward


class LSTM(_Gated):
    """A long short-term memory per layer (see `lstm_step`).

    `output, (h_n, c_n) = lstm(x, (h_0, c_0))`, shapes as for RNN; the state defaults to zeros.
    weight_ih_l{k} is (4 * hidden, in): the i, f, g and o blocks stacked, as in PyTorch.
    """

    mode = "LSTM"

    def _step(self, xi, state, w_hh_t, b_hh):
        return lstm_step(xi, state[0], state[1], w_hh_t, b_hh)

    def forward(self, input, hx=None) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        x, unbatched = self._sequence(input)
        if hx is not None and (not isinstance(hx, tuple) or len(hx) != 2):
            raise TypeError(f"{self._name()}: hx must be a tuple (h_0, c_0), got "
                            f"{type(hx).__name__}")
        h0, c0 = hx if hx is not None else (None, None)
        h0 = self._initial(h0, x.shape[1], unbatched, "h_0")
        c0 = self._initial(c0, x.shape[1], unbatched, "c_0")
        y, finals = self._run(x, list(zip(h0, c0)))
        h_n = self._final([s[0] for s in finals], unbatched)
        c_n = self._final([s[1] for s in finals], unbatched)
        return self._output(y, unbatched), (h_n, c_n)
