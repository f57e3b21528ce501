"""An LSTM learns the adding problem: remember two marked numbers in a sequence, output their sum.

Each input step holds a random number in [0, 1) and a marker, 1 at exactly two steps (one in each
half of the sequence) and 0 elsewhere; the target is the sum of the two marked numbers
(Hochreiter & Schmidhuber, 1997). Always answering 1 gives a mean squared error of 1/6; a model
has to carry the first number across the sequence to do better. nn.LSTM (batch_first) reads the
sequence and a Linear layer maps its last hidden state to the answer.

Run: python examples/lstm_adding.py [--quick] [--out DIR]    (the loss curve in out/lstm_adding/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, plot_curves

import nn
from autograd import Tensor

SEED = 0
LENGTH, QUICK_LENGTH = 25, 15
HIDDEN = 32
LR, BATCH_SIZE, STEPS, QUICK_STEPS = 0.01, 32, 1000, 500
TEST_SIZE = 1000
BASELINE_MSE = 1 / 6  # the variance of the sum of two U(0, 1) numbers


def adding_batch(n: int, length: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """x (n, length, 2): the numbers and the markers; y (n, 1): the sum of the marked numbers."""
    values = rng.random((n, length))
    markers = np.zeros((n, length))
    half = length // 2
    rows = np.arange(n)
    first, second = rng.integers(0, half, n), rng.integers(half, length, n)
    markers[rows, first] = markers[rows, second] = 1.0
    y = values[rows, first] + values[rows, second]
    return np.stack([values, markers], axis=-1), y[:, None]


class Adder(nn.Module):
    """LSTM over the sequence, then Linear on its last hidden state: (n, length, 2) -> (n, 1)."""

    def __init__(self, hidden: int = HIDDEN):
        self.lstm = nn.LSTM(2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: Tensor) -> Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])  # the last layer's final state


def main(quick: bool = False, out: Path | None = None) -> dict:
    nn.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    folder = output_dir("lstm_adding", out)
    length, steps = (QUICK_LENGTH, QUICK_STEPS) if quick else (LENGTH, STEPS)
    model = Adder()
    print(model)
    optimizer = nn.optim.Adam(model.parameters(), lr=LR)
    loss_fn = nn.MSELoss()
    losses, window = [], []
    for _ in range(steps):
        x, y = adding_batch(BATCH_SIZE, length, rng)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)  # the usual guard for recurrent nets
        optimizer.step()
        window.append(loss.item())
        if len(window) == 50:
            losses.append(float(np.mean(window)))
            window = []
    x_test, y_test = adding_batch(TEST_SIZE, length, rng)
    test_mse = float(np.mean((model(x_test).data - y_test) ** 2))
    print(f"sequences of {length} steps, {steps} training steps of {BATCH_SIZE}")
    print(f"test mean squared error: always 1 -> {BASELINE_MSE:.3f}, LSTM -> {test_mse:.4f}")
    for i in range(3):
        print(f"  marked {x_test[i, x_test[i, :, 1] == 1, 0].round(3)}: sum {y_test[i, 0]:.3f}, "
              f"LSTM says {model(x_test[i:i + 1]).item():.3f}")
    plot_curves({"training MSE (per 50 steps)": losses,
                 "always answer 1": [BASELINE_MSE] * len(losses)},
                folder / "lstm_adding_loss.png", f"Adding problem, length {length}",
                xlabel="fifty steps", ylabel="mean squared error", logy=True)
    return {"test_mse": test_mse, "baseline_mse": BASELINE_MSE, "length": length}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
