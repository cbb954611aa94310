"""Why LTC networks default to no membrane reset and a last-step readout (docs/ltc_training.md).

Trains the same small recurrent LTC network (16-64-10, float form for speed, BPTT,
Adam, batch 32, loss gain 8) on digits one pixel per step (T = 64) under three
variants and prints the test accuracy after each epoch:

- ``hard reset, last step``: hidden neurons with the sFPTT reference's hard reset
  (``reset_frac = 1``), loss and prediction on the readout at the last step;
- ``no reset, last step``: ``reset_frac = 0`` (the adaptive threshold alone limits firing);
- ``no reset, time mean``: loss on the time-mean of the readout, prediction by its largest
  time sum.

Run: ``python benchmarks/ltc_pixel_ablation.py [--epochs 10] [--lr 1e-2] [--seed 0]``.
Writes ``benchmarks/results/ltc_pixel_ablation.json``.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import time

import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.network import NetworkConfig, SpikingNetwork, predict

RESULTS = pathlib.Path(__file__).parent / "results"
VARIANTS = {"hard reset, last step": (1.0, "readout"), "no reset, last step": (0.0, "readout"),
            "no reset, time mean": (0.0, "spikes")}


def run(reset_frac: float, rule: str, epochs: int, lr: float, seed: int) -> list[float]:
    """Test accuracy after each epoch; ``rule`` 'readout' = last step, 'spikes' = time sum/mean."""
    encoding = Encoding("pixel")
    train, test = load_dataset("digits", "train", encoding=encoding), load_dataset("digits", "test", encoding=encoding)
    torch.manual_seed(seed)
    net = SpikingNetwork(NetworkConfig(sizes=(16, 64, 10), model="ltc", recurrent=True, quantized=False,
                                       reset_frac=reset_frac))
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    x_test, y_test = next(test.batches(len(test)))
    accuracies = []
    for epoch in range(epochs):
        for x, y in train.batches(32, shuffle=True, seed=seed * 1000 + epoch):
            net.reset_state()
            out = net(x)
            logits = out[..., -1] if rule == "readout" else out.mean(-1)
            loss = torch.nn.functional.cross_entropy(8.0 * logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        accuracies.append(float((predict(net.run(x_test), rule) == y_test).float().mean()))
    return accuracies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    results = {}
    for name, (reset_frac, rule) in VARIANTS.items():
        began = time.perf_counter()
        results[name] = run(reset_frac, rule, args.epochs, args.lr, args.seed)
        print(f"{name:<24} " + " ".join(f"{100 * a:5.1f}" for a in results[name])
              + f"   ({time.perf_counter() - began:.0f} s)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ltc_pixel_ablation.json").write_text(json.dumps({"args": vars(args), "test_accuracy": results},
                                                                 indent=2))


if __name__ == "__main__":
    main()
