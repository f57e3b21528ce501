"""Outgrowing npgrad: prototype and gradient-check in npgrad, then train on PyTorch's distributed
engine and serve with ONNX.

1. An MLP classifies three interleaved spirals; its gradients are checked against central
   differences, then it trains a few epochs with npgrad's Adam.
2. `nn.export.to_torch` turns it into a torch module with the same weights (PyTorch's layouts).
3. Two CPU processes (`torch.multiprocessing.spawn`, the gloo backend on 127.0.0.1) continue the
   training with `DistributedDataParallel`, each on its half of the data: the first loss they
   measure is npgrad's last one, and it keeps going down. Both processes end with identical
   weights, which come back into the npgrad model (`nn.export.load_torch_state_dict`).
4. `nn.export.to_onnx` writes the model for inference; onnxruntime runs it on any batch size.

Needs the torch extra (pip install "npgrad[torch]"); step 4 the onnx extra.
Run: python examples/outgrow_to_pytorch.py [--quick] [--out DIR]    (files in out/outgrow/)
"""

import os
import socket
import tempfile
from pathlib import Path

import numpy as np

import autograd
import nn

SEED = 0
POINTS, QUICK_POINTS = 1500, 300  # spiral points per class
HIDDEN = 64
NPGRAD_EPOCHS, QUICK_NPGRAD_EPOCHS = 20, 10
DDP_EPOCHS, QUICK_DDP_EPOCHS = 20, 5
LR, BATCH_SIZE, WORLD_SIZE = 0.01, 64, 2


def spirals(points: int, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Three noisy spiral arms in the plane: X (3 * points, 2) and labels (3 * points,)."""
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1, points), 3)
    labels = np.repeat(np.arange(3), points)
    angle = radius * 4 + labels * 2 * np.pi / 3 + rng.normal(scale=0.4, size=radius.shape)
    return np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]), labels


def prototype(X, y, epochs: int) -> tuple[nn.MLP, float]:
    """Build, gradient-check and train the MLP in npgrad; returns it and its full-data loss."""
    nn.manual_seed(SEED)
    model = nn.MLP([2, HIDDEN, HIDDEN, 3], activation="tanh")
    loss_fn = nn.CrossEntropyLoss()
    autograd.gradcheck(lambda: loss_fn(model(X[:16]), y[:16]), params=model.named_parameters())
    print("gradcheck passed: the engine's gradients match central differences")
    nn.fit(model, loss_fn, nn.optim.Adam(model.parameters(), lr=LR), X, y, epochs=epochs,
           batch_size=BATCH_SIZE, progress=False, rng=np.random.default_rng(SEED))
    return model, loss_fn(model(X), y).item()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ddp_worker(rank: int, model: nn.Module, X, y, epochs: int, port: int, folder: str) -> None:
    """One process of the data-parallel run: its half of the data, gradients averaged by DDP."""
    import torch
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    torch.set_num_threads(1)  # two processes on a small machine
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=WORLD_SIZE)
    try:
        net = nn.export.to_torch(model, X[:8])  # the same weights in every process
        ddp = DistributedDataParallel(net)
        optimizer = torch.optim.Adam(ddp.parameters(), lr=LR)
        inputs, labels = torch.from_numpy(X), torch.from_numpy(y)
        mine = torch.arange(rank, len(X), WORLD_SIZE)  # this process's half
        generator = torch.Generator().manual_seed(SEED)  # the same batch order in both
        losses = []
        for _ in range(epochs + 1):
            with torch.no_grad():  # the full-data loss, as npgrad measured it
                losses.append(F.cross_entropy(net(inputs), labels).item())
            if len(losses) > epochs:
                break
            for batch in mine[torch.randperm(len(mine), generator=generator)].split(BATCH_SIZE):
                loss = F.cross_entropy(ddp(inputs[batch]), labels[batch])
                optimizer.zero_grad()
                loss.backward()  # DDP averages the gradients of both processes here
                optimizer.step()
        weights = {k: v.numpy() for k, v in net.state_dict().items()}
        np.savez(os.path.join(folder, f"rank{rank}.npz"), losses=np.array(losses),
                 **{f"w:{k}": v for k, v in weights.items()})
        # Both processes are done before either closes its connections: a process that tears
        # its group down while the other still talks to it can abort inside gloo (seen once
        # in CI: "terminate called without an active exception").
        dist.barrier()
    finally:
        dist.destroy_process_group()


def train_distributed(model: nn.Module, X, y, epochs: int) -> tuple[list[dict], list[list]]:
    """Continue training on WORLD_SIZE processes; each one's final weights and loss curve."""
    import torch.multiprocessing as mp

    with tempfile.TemporaryDirectory() as folder:
        mp.spawn(ddp_worker, args=(model, X, y, epochs, free_port(), folder),
                 nprocs=WORLD_SIZE, join=True)
        weights, curves = [], []
        for rank in range(WORLD_SIZE):
            with np.load(os.path.join(folder, f"rank{rank}.npz"), allow_pickle=False) as f:
                curves.append(f["losses"].tolist())
                weights.append({k[2:]: f[k] for k in f.files if k.startswith("w:")})
    return weights, curves


def serve(model: nn.Module, X, path: Path) -> np.ndarray | None:
    """Write the ONNX file and classify X with onnxruntime (None without the onnx extra)."""
    try:
        import onnxruntime
    except ImportError:
        print('onnx export skipped: pip install "npgrad[onnx]"')
        return None
    nn.export.to_onnx(model, X[:8], path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": X})[0].argmax(axis=1)


def main(quick: bool = False, out: Path | None = None) -> dict:
    from _common import output_dir  # here: the spawned processes import this file too, and
    # need neither matplotlib (which _common loads) nor the output folder
    folder = output_dir("outgrow", out)
    X, y = spirals(QUICK_POINTS if quick else POINTS)
    model, npgrad_loss = prototype(X, y, QUICK_NPGRAD_EPOCHS if quick else NPGRAD_EPOCHS)
    print(f"npgrad: loss {npgrad_loss:.4f} after training")
    weights, curves = train_distributed(model, X, y, QUICK_DDP_EPOCHS if quick else DDP_EPOCHS)
    shown = curves[0][::5] + ([curves[0][-1]] if (len(curves[0]) - 1) % 5 else [])
    print("DDP (2 processes): loss " + " -> ".join(f"{v:.4f}" for v in shown)
          + f" over {len(curves[0]) - 1} epochs")
    identical = all(np.array_equal(weights[0][k], w[k]) for w in weights[1:] for k in weights[0])
    print(f"both processes hold identical weights: {identical}")
    nn.export.load_torch_state_dict(model, weights[0])  # back into npgrad
    final_loss = nn.CrossEntropyLoss()(model(X), y).item()
    predicted = serve(model, X, folder / "spirals.onnx")
    accuracy = None if predicted is None else float(np.mean(predicted == y))
    if accuracy is not None:
        print(f"onnxruntime: {accuracy:.1%} of {len(y)} points right ({folder / 'spirals.onnx'})")
    return {"npgrad_loss": npgrad_loss, "ddp_losses": curves, "identical": identical,
            "final_loss": final_loss, "onnx_accuracy": accuracy,
            "npgrad_accuracy": float(np.mean(model(X).data.argmax(axis=1) == y))}


if __name__ == "__main__":
    from _common import parse_args

    args = parse_args(__doc__)
    main(args.quick, args.out)
