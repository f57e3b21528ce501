"""Two moons: relu hidden layer, sigmoid output, binary cross-entropy (seed tutorial 004).

make_moons(300, noise=0.2), 80/20 split, the tutorial's 2-5-1 network, full-batch gradient
descent. The tutorial reports 85% train / 83% test after 20000 steps at learning rate 0.003; at a
rate of 1.0, 3000 steps do far better. The full run also retrains with the tutorial's rate and
step count, to show that the rate, not the network, holds its figure back. Plots loss and boundary.

Run: python examples/moons.py [--quick] [--out DIR]    (pictures in out/moons/)
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from _common import output_dir, parse_args, plot_curves, save_figure
from sklearn.datasets import make_moons
from sklearn.model_selection import train_test_split

import nn

SEED = 0
SAMPLES, NOISE, TEST_FRACTION = 300, 0.2, 0.2
HIDDEN = 5  # the tutorial's width
LR, EPOCHS, QUICK_EPOCHS = 1.0, 3000, 1000
TUTORIAL_LR, TUTORIAL_EPOCHS = 0.003, 20000
TUTORIAL_TRAIN, TUTORIAL_TEST = 0.85, 0.83


def train(X, y, lr: float, epochs: int) -> tuple[nn.MLP, nn.History]:
    """A fresh 2-5-1 relu/sigmoid net, trained by full-batch gradient descent on BCE."""
    nn.manual_seed(SEED)
    model = nn.MLP([2, HIDDEN, 1], activation="relu", output_activation="sigmoid")
    history = nn.fit(model, nn.BCELoss(), nn.optim.SGD(model.parameters(), lr=lr), X, y,
                     epochs=epochs, batch_size=None, progress=False)
    return model, history


def plot_boundary(model: nn.MLP, splits: dict, path: Path) -> Path:
    """The region the model calls class 1 (p > 0.5), with the training and test points."""
    points = np.concatenate([X for X, _ in splits.values()])
    lo, hi = points.min(axis=0) - 0.5, points.max(axis=0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    p = model(np.column_stack([gx.ravel(), gy.ravel()])).data.reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.contourf(gx, gy, p, levels=[0, 0.5, 1], colors=["#f6c4c4", "#c4d8f6"], alpha=0.8)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1)
    for (name, (X, y)), marker in zip(splits.items(), ("o", "^")):
        ax.scatter(X[:, 0], X[:, 1], c=y.ravel(), cmap="coolwarm_r", marker=marker, s=18,
                   edgecolors="k", linewidths=0.4, label=name)
    ax.legend(loc="lower left", fontsize=8)
    ax.set(title="Two moons: 2-5-1 relu/sigmoid boundary (p = 0.5)", xlabel="$x_1$",
           ylabel="$x_2$")
    return save_figure(fig, path)


def main(quick: bool = False, out: Path | None = None) -> dict:
    folder = output_dir("moons", out)
    X, labels = make_moons(SAMPLES, noise=NOISE, random_state=SEED)
    y = labels.reshape(-1, 1).astype(np.float64)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_FRACTION,
                                                        random_state=SEED)
    epochs = QUICK_EPOCHS if quick else EPOCHS
    model, history = train(X_train, y_train, LR, epochs)
    train_acc, test_acc = (nn.accuracy(t, model(x).data)
                           for x, t in ((X_train, y_train), (X_test, y_test)))
    print(f"2-{HIDDEN}-1 relu/sigmoid, BCE, {epochs} full-batch steps at lr {LR}: "
          f"loss {history.loss[-1]:.4f}")
    print(f"{'':24s} train    test")
    print(f"{'tutorial (published)':24s} {TUTORIAL_TRAIN:6.0%}  {TUTORIAL_TEST:6.0%}")
    print(f"{'npgrad':24s} {train_acc:6.1%}  {test_acc:6.1%}")
    curves = {f"lr {LR}": history.loss}
    result = {"train_accuracy": train_acc, "test_accuracy": test_acc, "loss": history.loss[-1]}
    if not quick:
        slow, slow_history = train(X_train, y_train, TUTORIAL_LR, TUTORIAL_EPOCHS)
        slow_train, slow_test = (nn.accuracy(t, slow(x).data)
                                 for x, t in ((X_train, y_train), (X_test, y_test)))
        print(f"{f'lr {TUTORIAL_LR}, {TUTORIAL_EPOCHS} steps':24s} {slow_train:6.1%}  "
              f"{slow_test:6.1%}   (the tutorial's rate and step count)")
        curves[f"lr {TUTORIAL_LR} (tutorial)"] = slow_history.loss
        result.update(tutorial_settings_train=slow_train, tutorial_settings_test=slow_test)
    plot_curves(curves, folder / "moons_loss.png", "Two moons: training loss",
                xlabel="gradient-descent step", ylabel="binary cross-entropy", logx=True)
    plot_boundary(model, {"train": (X_train, y_train), "test": (X_test, y_test)},
                  folder / "moons_boundary.png")
    return result


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
