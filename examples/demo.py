"""A first look at npgrad: fit y = 3x - 2 + noise with a line, then print the gradients.

Run: python examples/demo.py
"""

import numpy as np

from autograd import Tensor, gradcheck

SEED, STEPS, LR = 0, 200, 0.1


def main():
    rng = np.random.default_rng(SEED)
    x = rng.uniform(-1, 1, size=(64, 1))
    y = 3 * x - 2 + 0.05 * rng.standard_normal((64, 1))
    w = Tensor(np.zeros((1, 1)), requires_grad=True, name="w")
    b = Tensor(np.zeros(1), requires_grad=True, name="b")

    def loss_fn(w, b):
        return ((x @ w + b - y) ** 2).mean()

    for step in range(STEPS):
        loss = loss_fn(w, b)
        w.zero_grad()
        b.zero_grad()
        loss.backward()
        w.data -= LR * w.grad
        b.data -= LR * b.grad
        if step % 50 == 0:
            print(f"step {step:3d}  loss {loss.item():.5f}  dL/dw {w.grad.ravel()}  dL/db {b.grad}")
    print(f"fitted w = {w.item():.3f} (true 3), b = {b.item():.3f} (true -2)")
    print("gradcheck:", gradcheck(loss_fn, w, b))


if __name__ == "__main__":
    main()
