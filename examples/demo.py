"""npgrad in one run: train the 64-100-10 tanh digits network and show what the engine recorded.

Trains on scikit-learn's handwritten digits with a progress bar, prints the test accuracy and the
confusion matrix, and writes into out/ the loss curves (demo_loss.png), the computation graph
of one training step, with its values and gradients (demo_step.svg), and the same step as an
interactive page that plays its backward pass (demo_step.html: open it in a browser). Needs no
display; without graphviz's `dot` it writes the graph's source and says how to get the SVG.

Run: make demo, or python examples/demo.py [--quick] [--out DIR]    (default folder: out/)
"""

from pathlib import Path

import digits  # examples/digits.py: the data, the network and its training
from _common import output_dir, parse_args, plot_curves, save_graph_or_source
from sklearn.metrics import confusion_matrix

import autograd
import nn

STEP_IMAGES = 8


def draw_step(model: nn.MLP, X, y, path: Path) -> Path:
    """The graph of one training step, from the images to the loss, with values and gradients."""
    loss = nn.CrossEntropyLoss()(model(X), y)
    loss.backward(retain_grads=True)
    graph = save_graph_or_source(loss, path, params=model, show_values=True)
    model.zero_grad()
    return graph


def explore_step(model: nn.MLP, X, y, path: Path) -> Path:
    """The same step as an interactive page: its backward pass node by node, with source lines."""
    images = autograd.Tensor(X, name="images")  # named in the picture, like the parameters
    with autograd.explore.record():
        loss = nn.CrossEntropyLoss()(model(images), y)
    autograd.explore(loss, path, model=model, title="npgrad: one training step of the digits MLP")
    print(f"wrote {path.resolve()} (open it in a browser: arrow keys step the backward pass)")
    return path


def main(quick: bool = False, out: Path | None = None) -> dict:
    nn.manual_seed(digits.SEED)
    folder = output_dir("", out)  # out/ itself
    X_train, X_test, y_train, y_test = digits.load()
    model = digits.make_model()
    print(f"digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels\n{model}")

    # Drawn now, before the optimizer changes the weights in place.
    graph = draw_step(model, X_train[:STEP_IMAGES], y_train[:STEP_IMAGES],
                      folder / "demo_step.svg")
    page = explore_step(model, X_train[:STEP_IMAGES], y_train[:STEP_IMAGES],
                        folder / "demo_step.html")

    history = digits.train(model, X_train, y_train, X_test, y_test,
                           digits.QUICK_EPOCHS if quick else digits.EPOCHS, progress=True)
    predicted = digits.predict(model, X_test)
    accuracy = float((predicted == y_test).mean())
    print(f"test accuracy {accuracy:.1%} (network {digits.SIZES}, the tutorial reports "
          f"{digits.TUTORIAL_ACCURACY:.0%})")
    print(f"confusion matrix (rows: true digit, columns: predicted):\n"
          f"{confusion_matrix(y_test, predicted)}")
    plot_curves({"train": history.loss, "test": history.val_loss}, folder / "demo_loss.png",
                "Digits, 64-100-10 tanh: loss", ylabel="cross-entropy")
    return {"accuracy": accuracy, "graph": graph, "page": page}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
