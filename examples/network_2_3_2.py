"""The 2-3-2 network of seed tutorial 001: relu hidden layer, sigmoid outputs, squared error.

Starts from the tutorial's exact weights (its normal(0, 1) / sqrt(fan_in) draw under
np.random.seed(1)), prints them, runs one forward pass, then trains on XOR with one-hot targets
(the tutorial derives the deltas but never trains) by full-batch gradient descent. The engine does
the derivation: the computation graph of the squared-error loss is written as an SVG.

Run: python examples/network_2_3_2.py [--quick] [--out DIR]    (pictures in out/network_2_3_2/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, plot_curves, save_graph_or_source

import nn

SEED = 1  # the tutorial's np.random.seed(1)
SIZES = [2, 3, 2]
LR, EPOCHS, QUICK_EPOCHS = 2.0, 1000, 200
# XOR on centred corners; one output per class: [1, 0] when the signs agree, [0, 1] when not.
# (On {0, 1} corners this same start stalls at 3 of 4: keep inputs centred.)
X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
Y = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])


def tutorial_init(seed: int):
    """An initialiser drawing normal(0, 1) / sqrt(fan_in) from numpy's legacy global-style stream,
    so the weights equal the tutorial's printout; biases start at zero, as there."""
    legacy = np.random.RandomState(seed)  # the generator behind np.random.seed / np.random.randn
    return lambda shape, rng: legacy.standard_normal(shape) / np.sqrt(shape[0])


def show(array: np.ndarray) -> str:
    return np.array2string(array, precision=8, suppress_small=True)


def main(quick: bool = False, out: Path | None = None) -> dict:
    folder = output_dir("network_2_3_2", out)
    model = nn.MLP(SIZES, activation="relu", output_activation="sigmoid", init=tutorial_init(SEED))
    print(model)
    for name, p in model.named_parameters():
        print(f"{name} {p.shape}:\n{show(p.data)}")
    first_weight = model.parameters()[0].data.copy()

    hidden = model[:2](X)  # Linear then ReLU: the hidden activations
    print(f"\nforward pass on {X.tolist()}:\nhidden relu activations:\n{show(hidden.data)}\n"
          f"sigmoid outputs:\n{show(model(X).data)}")

    loss_fn = nn.MSELoss()  # mean of (output - target)^2 over all 4 x 2 entries
    history = nn.fit(model, loss_fn, nn.optim.SGD(model.parameters(), lr=LR), X, Y,
                     epochs=QUICK_EPOCHS if quick else EPOCHS, batch_size=None, progress=False,
                     metrics="accuracy")
    outputs = model(X).data
    accuracy = nn.accuracy(Y, outputs)
    print(f"\nafter {len(history.epoch)} steps of gradient descent (lr {LR}): loss "
          f"{history.loss[-1]:.2e}, accuracy {accuracy:.0%}\noutputs (targets {Y.tolist()}):\n"
          f"{show(outputs)}")

    loss = loss_fn(model(X), Y)
    loss.backward(retain_grads=True)  # keep every intermediate gradient, to show it in the graph
    save_graph_or_source(loss, folder / "network_2_3_2_graph.svg", params=model, show_values=True)
    plot_curves({"2-3-2": history.loss}, folder / "network_2_3_2_loss.png",
                "2-3-2 network on XOR", xlabel="gradient-descent step",
                ylabel="mean squared error", logy=True)
    return {"accuracy": accuracy, "loss": history.loss[-1], "first_weight": first_weight}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
