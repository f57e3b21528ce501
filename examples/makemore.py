"""A character-level name model: Embedding, Linear, BatchNorm1d and Tanh, against a bigram table.

The words are made here, from syllable rules (an onset, a vowel and an optional coda, two or
three times, then sometimes an ending), so nothing is downloaded. Each next character is
predicted from the previous CONTEXT characters: their embeddings, concatenated, go through a
Linear layer, batch normalisation and tanh to 27 logits ('.' marks a word's start and end). The
baseline is the bigram model: counts of character pairs, smoothed by one. Both are scored on
held-out words in nats per character; the example prints words sampled from the network.

Run: python examples/makemore.py [--quick] [--out DIR]    (the loss curve in out/makemore/)
"""

from pathlib import Path

import numpy as np
from _common import output_dir, parse_args, plot_curves

import nn

SEED = 0
N_WORDS = 4000
CONTEXT, EMBED, HIDDEN = 3, 10, 128
LR, BATCH_SIZE, STEPS, QUICK_STEPS = 0.01, 64, 8000, 1200
SAMPLES = 12
CHARS = "." + "abcdefghijklmnopqrstuvwxyz"  # '.' starts and ends every word
INDEX = {c: i for i, c in enumerate(CHARS)}

# The syllable rules, with how often each piece is chosen.
ONSETS = {"": 3, "b": 2, "d": 3, "f": 1, "g": 1, "h": 1, "k": 3, "l": 3, "m": 3, "n": 3,
          "p": 1, "r": 3, "s": 3, "t": 3, "v": 2, "z": 1, "br": 1, "dr": 1, "kr": 1, "st": 1,
          "th": 2, "sh": 1, "tr": 1}
NUCLEI = {"a": 6, "e": 5, "i": 4, "o": 4, "u": 2, "ai": 1, "ei": 1, "ou": 1, "ia": 1}
CODAS = {"": 10, "n": 3, "r": 2, "l": 2, "s": 1, "m": 1, "nd": 1, "th": 1}
ENDINGS = {"": 6, "a": 3, "o": 2, "ia": 1, "en": 1, "us": 1, "is": 1, "wyn": 1, "ford": 1}


def _choose(rng: np.random.Generator, table: dict) -> str:
    weights = np.array(list(table.values()), dtype=float)
    return list(table)[rng.choice(len(table), p=weights / weights.sum())]


def make_words(n: int = N_WORDS, seed: int = SEED) -> list[str]:
    """`n` different pronounceable made-up names of 3 to 12 letters, in a shuffled order."""
    rng, words = np.random.default_rng(seed), set()
    while len(words) < n:
        syllables = rng.choice([2, 3], p=[0.6, 0.4])
        word = "".join(_choose(rng, ONSETS) + _choose(rng, NUCLEI) + _choose(rng, CODAS)
                       for _ in range(syllables)) + _choose(rng, ENDINGS)
        if 3 <= len(word) <= 12:
            words.add(word)
    return list(rng.permutation(sorted(words)))


def dataset(words: list[str], context: int = CONTEXT) -> tuple[np.ndarray, np.ndarray]:
    """(contexts, next characters): one row of `context` indices per character of each word,
    and the '.' after it, the start padded with '.'."""
    X, y = [], []
    for word in words:
        window = [0] * context
        for c in word + ".":
            X.append(window)
            y.append(INDEX[c])
            window = window[1:] + [INDEX[c]]
    return np.array(X, dtype=np.int64), np.array(y, dtype=np.int64)


def bigram_loss(train_words: list[str], test_words: list[str]) -> float:
    """Nats per character of the add-one-smoothed bigram model fitted on `train_words`."""
    counts = np.ones((len(CHARS), len(CHARS)))
    for word in train_words:
        for a, b in zip("." + word, word + "."):
            counts[INDEX[a], INDEX[b]] += 1
    log_p = np.log(counts / counts.sum(axis=1, keepdims=True))
    pairs = [(INDEX[a], INDEX[b]) for w in test_words for a, b in zip("." + w, w + ".")]
    return float(-np.mean([log_p[a, b] for a, b in pairs]))


def make_model() -> nn.Sequential:
    """Embedding -> concatenate -> Linear -> BatchNorm1d -> Tanh -> Linear (makemore part 3).

    The first Linear has no bias: batch normalisation subtracts the mean right after it.
    """
    return nn.Sequential(
        nn.Embedding(len(CHARS), EMBED), nn.Flatten(),
        nn.Linear(CONTEXT * EMBED, HIDDEN, bias=False), nn.BatchNorm1d(HIDDEN), nn.Tanh(),
        nn.Linear(HIDDEN, len(CHARS)),
    )


def evaluate(model: nn.Sequential, X: np.ndarray, y: np.ndarray) -> float:
    """Mean cross-entropy in nats per character, in eval mode (batch norm's running stats)."""
    model.eval()
    loss = nn.functional.cross_entropy(model(X), y).item()
    model.train()
    return loss


def train(model: nn.Sequential, X: np.ndarray, y: np.ndarray, steps: int,
          rng: np.random.Generator) -> list[float]:
    """Adam on random mini-batches; the training loss averaged over every 100 steps."""
    optimizer = nn.optim.Adam(model.parameters(), lr=LR)
    losses, window = [], []
    for step in range(steps):
        rows = rng.integers(0, len(X), BATCH_SIZE)
        if step == steps * 3 // 4:  # a smaller step for the last quarter, as makemore does
            optimizer.lr = LR / 10
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(X[rows]), y[rows])
        loss.backward()
        optimizer.step()
        window.append(loss.item())
        if len(window) == 100:
            losses.append(float(np.mean(window)))
            window = []
    return losses


def sample(model: nn.Sequential, rng: np.random.Generator, n: int = SAMPLES) -> list[str]:
    """`n` words drawn character by character from the model's softmax (in eval mode)."""
    model.eval()
    words = []
    for _ in range(n):
        window, word = [0] * CONTEXT, ""
        while len(word) < 20:
            probs = model(np.array([window])).softmax(axis=-1).data[0]
            nxt = int(rng.choice(len(CHARS), p=probs / probs.sum()))
            if nxt == 0:
                break
            word += CHARS[nxt]
            window = window[1:] + [nxt]
        words.append(word)
    model.train()
    return words


def main(quick: bool = False, out: Path | None = None) -> dict:
    nn.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    folder = output_dir("makemore", out)
    words = make_words()
    split = int(0.9 * len(words))
    train_words, test_words = words[:split], words[split:]
    X_train, y_train = dataset(train_words)
    X_test, y_test = dataset(test_words)
    print(f"{len(words)} made-up names, e.g. {', '.join(words[:6])}")
    print(f"{len(X_train)} training and {len(X_test)} test characters")
    model = make_model()
    print(model)
    steps = QUICK_STEPS if quick else STEPS
    losses = train(model, X_train, y_train, steps, rng)
    bigram = bigram_loss(train_words, test_words)
    test_loss, train_loss = evaluate(model, X_test, y_test), evaluate(model, X_train, y_train)
    print(f"after {steps} steps, nats per character: bigram counts {bigram:.3f} (test), "
          f"network {train_loss:.3f} (train), {test_loss:.3f} (test)")
    samples = sample(model, rng)
    novel = sum(w not in set(words) for w in samples)
    print(f"sampled: {', '.join(samples)}\n({novel} of {len(samples)} not among the words)")
    plot_curves({"network (train, per 100 steps)": losses,
                 "bigram (test)": [bigram] * len(losses)}, folder / "makemore_loss.png",
                "Made-up names: next-character loss", xlabel="hundred steps",
                ylabel="nats per character")
    return {"bigram_loss": bigram, "test_loss": test_loss, "train_loss": train_loss,
            "samples": samples, "novel": novel}


if __name__ == "__main__":
    args = parse_args(__doc__)
    main(args.quick, args.out)
