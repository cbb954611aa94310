"""Lava simulation speed of LTC networks against CUBA networks of the same layer sizes.

For each layer-size configuration an untrained CUBA network (slayer blocks, as
``lava-fptt train --model cuba`` builds) and an LTC network (feed-forward and recurrent
hidden layers, graded readout) are exported to netx files and run in the same way: the
same random input spike trains, sample after sample through
:func:`netx_export.inference.run_in_lava` (fixed point, per-sample reset, one sink on
the output), one after another in this process. Reported: simulated steps per second
(the best of ``--repeats`` runs, start-up excluded) and the ratio LTC / CUBA.

The LTC neurons do several times more arithmetic per step than LIF (two gates with a
table sigmoid, adaptation, threshold), but Lava's CPU simulation spends most of a step in
message passing between its per-process workers, so the ratio stays well above that.

Run: ``python benchmarks/ltc_speed.py [--hidden 128] [--samples 20] [--steps 64] [--repeats 2]``.
Writes ``benchmarks/results/ltc_speed.json``.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import tempfile

import numpy as np
import torch

from lava_fptt.models.network import NetworkConfig, SpikingNetwork
from netx_export import export_network
from netx_export.inference import run_in_lava

RESULTS = pathlib.Path(__file__).parent / "results"


def network(config: NetworkConfig, seed: int) -> SpikingNetwork:
    torch.manual_seed(seed)
    net = SpikingNetwork(config)
    net.run(torch.zeros(1, config.sizes[0], 1))  # slayer shapes its neurons on the first call
    return net


def speed(path: pathlib.Path, inputs: np.ndarray, repeats: int) -> float:
    return max(run_in_lava(path, inputs, "fixed", record_hidden=False).steps_per_s for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[128], help="hidden sizes (default: 128)")
    parser.add_argument("--inputs", type=int, default=16, help="input channels (default: 16, digits pixel)")
    parser.add_argument("--outputs", type=int, default=10)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--steps", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    inputs = (rng.random((args.samples, args.inputs, args.steps)) < 0.3).astype(np.float32)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for hidden in args.hidden:
            sizes = (args.inputs, hidden, args.outputs)
            cases = {"cuba": NetworkConfig(sizes=sizes),
                     "ltc": NetworkConfig(sizes=sizes, model="ltc"),
                     "ltc recurrent": NetworkConfig(sizes=sizes, model="ltc", recurrent=True)}
            measured = {}
            for name, config in cases.items():
                path = export_network(network(config, seed=hidden), pathlib.Path(tmp) / f"{name}-{hidden}.net")
                measured[name] = speed(path, inputs, args.repeats)
            for name, steps_per_s in measured.items():
                rows.append({"sizes": list(sizes), "network": name, "steps_per_s": steps_per_s,
                             "ratio_to_cuba": steps_per_s / measured["cuba"]})
    print(f"{'sizes':<16}{'network':<16}{'steps/s':>10}{'ratio to CUBA':>16}")
    for row in rows:
        print(f"{'-'.join(map(str, row['sizes'])):<16}{row['network']:<16}{row['steps_per_s']:>10.1f}"
              f"{row['ratio_to_cuba']:>16.2f}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ltc_speed.json").write_text(json.dumps({"samples": args.samples, "steps": args.steps,
                                                          "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
