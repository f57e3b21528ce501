"""Breast-cancer diagnosis with a sigmoid network: raw features and online SGD, then standardised.

Seed tutorial 000 trains sigmoid layers of 64, 8 and 1 units with squared error, one sample at a
time, on scikit-learn's breast-cancer data as it comes. Here nn.MLP does the same on all 30
features (the tutorial's network reads only the first 2: it is built with input_size=2), then
again on standardised features with shuffled mini-batches, and prints both accuracies.

Run: python examples/breast_cancer.py [--quick] [--out DIR]    (pictures in out/breast_cancer/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, plot_curves
from sklearn.datasets import load_breast_cancer

import nn

SEED = 0
SIZES = [30, 64, 8, 1]  # sigmoid after every layer, as in the tutorial
TEST_ROWS = 100  # the tutorial's split: the first 100 rows are the test set
# nn.MSELoss of one sample is (p - y)^2, twice the tutorial's (p - y)^2 / 2: half its rate 0.1.
ONLINE_LR, ONLINE_EPOCHS, QUICK_ONLINE_EPOCHS = 0.05, 25, 3
BATCH_SIZE, BATCH_LR, BATCH_EPOCHS, QUICK_BATCH_EPOCHS = 16, 0.5, 60, 15
WHY = ("Why standardise: raw features span 0.001 to 4000+, so the first sigmoids saturate "
       "(gradient ~0) and only the majority class is learnt; at mean 0, std 1 they respond.")


def train(X_train, y_train, X_test, y_test, lr, epochs, batch_size, shuffle):
    """A fresh sigmoid MLP trained with SGD on squared error; returns (history, train, test acc)."""
    model = nn.MLP(SIZES, activation="sigmoid", output_activation="sigmoid")
    history = nn.fit(model, nn.MSELoss(), nn.optim.SGD(model.parameters(), lr=lr),
                     X_train, y_train, epochs=epochs, batch_size=batch_size, shuffle=shuffle,
                     progress=False)
    scores = [nn.evaluate(model, nn.MSELoss(), X, y, metrics="accuracy")["accuracy"]
              for X, y in ((X_train, y_train), (X_test, y_test))]
    return history, *scores


def main(quick: bool = False, out: Path | None = None) -> dict:
    nn.manual_seed(SEED)
    folder = output_dir("breast_cancer", out)
    X, labels = load_breast_cancer(return_X_y=True)
    y = labels.reshape(-1, 1).astype(np.float64)  # 1 = benign, 0 = malignant
    X_test, y_test, X_train, y_train = X[:TEST_ROWS], y[:TEST_ROWS], X[TEST_ROWS:], y[TEST_ROWS:]

    online, raw_train, raw_test = train(
        X_train, y_train, X_test, y_test, ONLINE_LR,
        QUICK_ONLINE_EPOCHS if quick else ONLINE_EPOCHS, batch_size=1, shuffle=False)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)  # training statistics only
    batched, std_train, std_test = train(
        (X_train - mean) / std, y_train, (X_test - mean) / std, y_test, BATCH_LR,
        QUICK_BATCH_EPOCHS if quick else BATCH_EPOCHS, batch_size=BATCH_SIZE, shuffle=True)

    print(f"{len(X_train)} training and {len(X_test)} test samples; "
          f"network {SIZES}, sigmoid everywhere, squared error")
    print(f"{'':34s} train    test")
    print(f"{'always benign (majority class)':34s} {y_train.mean():6.1%}  {y_test.mean():6.1%}")
    print(f"{'online SGD, raw features':34s} {raw_train:6.1%}  {raw_test:6.1%}")
    print(f"{'mini-batch SGD, standardised':34s} {std_train:6.1%}  {std_test:6.1%}")
    print(WHY)
    plot_curves({"online SGD, raw features": online.loss,
                 f"batches of {BATCH_SIZE}, standardised": batched.loss},
                folder / "breast_cancer_loss.png", "Breast cancer: training loss",
                ylabel="mean squared error")
    return {"raw_train": raw_train, "raw_test": raw_test,
            "standardised_train": std_train, "standardised_test": std_test}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
