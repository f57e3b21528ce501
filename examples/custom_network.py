"""A custom network in a few lines: a skip connection that concatenates, and a masked loss.

The network sees scikit-learn's 8x8 digits twice: its output layer reads the raw pixels beside
the hidden GELU features (`autograd.concatenate`). Only a third of the training images keep
their label, as in semi-supervised learning; the others are marked -1, and the loss is the
mean cross-entropy over the labelled rows only: a mask from a comparison (`labels >= 0`)
selects them with `autograd.where`. Plain nn.Module, nn.Linear and Tensor ops; no gradient code.

Run: python examples/custom_network.py [--quick] [--out DIR]    (pictures in out/custom_network/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, plot_curves
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import autograd
import nn

SEED = 0
HIDDEN, LR, BATCH_SIZE, EPOCHS, QUICK_EPOCHS = 64, 0.01, 32, 40, 15
LABELLED = 1 / 3  # the fraction of training images that keep their label


class SkipNet(nn.Module):
    """pixels -> GELU features; the output layer sees the features beside the pixels."""

    def __init__(self, inputs: int = 64, hidden: int = HIDDEN, classes: int = 10):
        self.hidden = nn.Linear(inputs, hidden, init="he_uniform")
        self.out = nn.Linear(inputs + hidden, classes)

    def forward(self, x: autograd.Tensor) -> autograd.Tensor:
        features = self.hidden(x).gelu()
        return self.out(autograd.concatenate([x, features], axis=-1))  # the skip connection


def masked_cross_entropy(logits: autograd.Tensor, labels: np.ndarray) -> autograd.Tensor:
    """Mean cross-entropy over the rows that have a label (>= 0); the others add nothing."""
    known = labels >= 0  # the mask: a comparison
    targets = np.eye(logits.shape[-1])[np.where(known, labels, 0)]  # one-hot (0 stands in)
    per_row = logits.cross_entropy(targets, reduction="none")
    return autograd.where(known, per_row, 0.0).sum() / max(known.sum(), 1)


def load(seed: int = SEED):
    """Pixels in [0, 1] split 3:1 into train and test; all but LABELLED of the train labels -1."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25,
                                                        random_state=seed)
    hidden = np.random.default_rng(seed).random(len(y_train)) >= LABELLED
    return X_train, X_test, np.where(hidden, -1, y_train), y_test


def train(model: SkipNet, X, labels, epochs: int) -> list[float]:
    """Adam on the masked loss; returns the mean loss of each epoch."""
    optimizer = nn.optim.Adam(model.parameters(), lr=LR)
    curve = []
    for _ in range(epochs):
        losses = []
        for xb, yb in nn.data.batches(X, labels, BATCH_SIZE):
            loss = masked_cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        curve.append(float(np.mean(losses)))
    return curve


def main(quick: bool = False, out: Path | None = None) -> dict:
    nn.manual_seed(SEED)
    folder = output_dir("custom_network", out)
    X_train, X_test, labels, y_test = load()
    model = SkipNet()
    epochs = QUICK_EPOCHS if quick else EPOCHS
    curve = train(model, X_train, labels, epochs)
    accuracy = float(np.mean(model(X_test).data.argmax(axis=1) == y_test))
    known = int((labels >= 0).sum())
    print(f"{model}\ntrained {epochs} epochs on {known} labelled of {len(labels)} images")
    print(f"test accuracy {accuracy:.1%} on {len(y_test)} images")
    plot_curves({"train (labelled rows)": curve}, folder / "custom_network_loss.png",
                "Digits, skip connection, masked loss", ylabel="cross-entropy")
    return {"accuracy": accuracy, "loss": curve, "labelled": known, "train_images": len(labels)}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
