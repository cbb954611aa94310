"""NIR in and out: graphs trained elsewhere in Lava, and our networks in snnTorch.

1. ``cnn_sinabs.nir`` (the NIR paper's spiking CNN, trained in Sinabs on N-MNIST) is
   imported (dt = 1: Sinabs counts in steps) and run in Lava's fixed-point simulation on
   N-MNIST-shaped event streams (:func:`lava_fptt.data.events.saccade_events`); every
   layer is compared step by step with snnTorch's import of the same graph (repaired as
   :mod:`netx_export.nir.peers` says; Norse's fails on its ``Flatten``), with our float
   simulation of the graph, and with the
   float simulation of the graph with Lava's integers put back (the exported graph of the
   imported file), which separates the two sources of difference: parameter
   quantization (float graph -> float integers) and integer arithmetic (float integers ->
   Lava).
2. ``braille_noDelay_noBias_subtract.nir`` (recurrent, trained in snnTorch, dt = 1e-4)
   the same way on Braille-shaped tactile streams, against Norse's import (snnTorch's
   importer fails on it; its message is printed). Also what the float graph itself leaves open: reset by
   subtraction (the rule it was trained with, which NIR cannot state) against reset to zero, and forward Euler
   (what every importer and Lava run) against exponential decays (``exp(-dt / tau)`` per step, the graph's
   continuous decays between steps): the time-step discretization.
3. The same Braille network read out by non-spiking leaky integrators: its output
   ``CubaLIF`` replaced by a ``CubaLI`` with the same parameters (a graded readout, the
   class the largest voltage at the last step), against the float graph: hidden spikes,
   the readout's values and the decisions.
4. Round trip: a CUBA network trained here (digits, BPTT) -> NIR -> our importer ->
   netx -> Lava, against the torch model, spike for spike.
5. The other direction: that NIR file built by snnTorch's importer classifies the digits
   test samples; accuracy against our torch model's.
6. Fine-tuning here: the imported Sinabs CNN trained online with SLTT
   (:func:`netx_export.nir.trainable.fine_tune`) on N-MNIST-shaped saccade digits
   (800 for training, 200 others held out), exported, and run in Lava against the
   fine-tuned torch model.
7. Refusals: a graph with a node Lava cannot represent and one with a non-zero reset
   potential, through ``lava-fptt nir import`` (exit status, its one-line error, and
   whether anything was written).

Run: ``python benchmarks/nir_interop.py [--samples 100] [--epochs 8] [--part cnn braille ...]``
(about 5 minutes on 2 cores in all). Each part's results replace that part's entry in
``benchmarks/results/nir_interop.json`` (the others are kept), so the parts can run one at
a time.
"""
from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
from typing import Any

import nir
import numpy as np
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.data.events import saccade_events, tactile_events
from lava_fptt.files import atomic_path
from lava_fptt.models.network import NetworkConfig
from lava_fptt.online import wrap
from lava_fptt.training import TrainConfig, load_run, train
from netx_export import export_network
from netx_export.inference import run_in_lava, spike_match
from netx_export.nir import import_nir, simulate
from netx_export.nir.compare import classes, compare, lava_layers
from netx_export.nir.export import export_nir
from netx_export.nir.importer import readout_scale
from netx_export.nir.peers import run_norse, run_snntorch
from netx_export.nir.trainable import fine_tune, slayer_network

FIXTURES = pathlib.Path(__file__).parent.parent / "tests" / "fixtures" / "nir"
RESULTS = pathlib.Path(__file__).parent / "results"


def table(title: str, header: list[str], rows: list[list[Any]]) -> None:
    print(f"\n{title}\n| " + " | ".join(header) + " |\n|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) + " |")


def foreign_graph(name: str, graph: Any, dt: float, inputs: np.ndarray, tmp: pathlib.Path) -> dict[str, Any]:
    """Import ``graph``, run it in Lava once, compare each layer with every float reference."""
    report = import_nir(graph, tmp / f"{name}.net", dt)
    names = [layer.nodes[-1] for layer in report.layers]
    graded = report.layers[-1].neuron in ("CubaLI", "LI", "I")
    float_graph = simulate(graph, inputs, dt)
    export_nir(tmp / f"{name}.net", tmp / f"{name}_integers.nir", dt)
    back = simulate(nir.read(str(tmp / f"{name}_integers.nir")), inputs, dt)
    integers = dict(zip(names, [back[n] for n in back if n.endswith(".neuron")]))
    if graded:  # the exported graph's readout is in slayer's units; the imported graph's are the reference's
        integers[names[-1]] = integers[names[-1]] * readout_scale(tmp / f"{name}.net")
    references: dict[str, Any] = {"float graph": float_graph, "float, Lava's integers": integers}
    peers = {"snnTorch": lambda: run_snntorch(graph, inputs, record=tuple(names)),
             "Norse": lambda: run_norse(graph, inputs, dt, record=tuple(names))}
    for peer, run_peer in peers.items():
        try:
            references[peer] = run_peer()
        except Exception as err:  # report what the peer does with this graph
            print(f"{peer} cannot run {name}: {type(err).__name__}: {str(err).splitlines()[0]}")
            references[peer] = None
    lava = lava_layers(tmp / f"{name}.net", inputs)
    result: dict[str, Any] = {"import": report.to_dict(), "lava_vs": {}, "same_class": {}}
    comparisons = {}
    for ref, spikes in references.items():
        if spikes is not None:
            comparisons[ref] = compare(lava, spikes, names, graded)
            result["lava_vs"][ref] = comparisons[ref].to_dict()
            result["same_class"][f"Lava vs {ref}"] = comparisons[ref].same_class
    q = compare([integers[n] for n in names], float_graph, names, graded)
    result["float_integers_vs_float_graph"] = q.to_dict()
    result["same_class"]["float integers vs float graph"] = q.same_class

    def cell(c: Any, k: int) -> Any:  # spike_match, or a graded readout's relative differences
        if k < len(c.layers):
            return c.layers[k].spike_match
        return f"readout difference: mean {100 * c.readout.mean_relative:.2f} %, worst {100 * c.readout.relative:.1f} %"

    rows = []
    for k, layer in enumerate(report.layers):
        row: list[Any] = [f"{names[k]} ({layer.netx_type}, {layer.neuron}, {int(np.prod(layer.shape))})"]
        row += ["n/a" if ref not in comparisons else cell(comparisons[ref], k) for ref in references]
        row += [cell(q, k), layer.error.weight, layer.error.decay]
        rows.append(row)
    table(f"{name}: {len(inputs)} inputs, {inputs.shape[-1]} steps, dt = {dt:g}; spike_match per layer "
          "(|A and B| / |A or B|; a graded readout: mean difference over the mean value, and the largest over the "
          "largest)",
          ["layer", *[f"Lava vs {r}" for r in references], "float integers vs float graph", "weight error",
           "decay error"], rows)
    print("same predicted class: " + ", ".join(f"{k} {v:.2f}" for k, v in result["same_class"].items()))
    result["lava_classes"] = classes(lava[-1], graded).tolist()
    result["float_graph_classes"] = comparisons["float graph"].reference_classes.tolist()
    return result


def with_li_readout(graph: Any, name: str) -> Any:
    """``graph`` with its neuron node ``name`` (a CubaLIF) replaced by a CubaLI of the same parameters."""
    old = graph.nodes[name]
    li = nir.CubaLI(tau_syn=old.tau_syn, tau_mem=old.tau_mem, r=old.r, v_leak=old.v_leak, w_in=old.w_in)
    return nir.NIRGraph(nodes={**graph.nodes, name: li}, edges=graph.edges, metadata=graph.metadata)


def fine_tuned_cnn(tmp: pathlib.Path, samples: int, epochs: int = 3) -> dict[str, Any]:
    """The imported Sinabs CNN fine-tuned with SLTT on saccade digits; held-out accuracy; Lava against torch."""
    x, y = saccade_events(1000, steps=24, gain=3.0, seed=1)  # 1000 different digits
    train_x, train_y, test_x, test_y = x[:800], y[:800], x[800:], y[800:]
    net = import_nir(FIXTURES / "cnn_sinabs.nir", tmp / "cnn_tune.net", 1.0).network

    def accuracy(model: Any) -> float:
        out = torch.cat([model.run(torch.as_tensor(test_x[i:i + 50], dtype=torch.float32)) for i in range(0, 200, 50)])
        return float((model.predict(out).numpy() == test_y).mean())

    before = wrap(slayer_network(net))
    model, losses = fine_tune(net, train_x, train_y, algo="sltt", epochs=epochs, lr=1e-2, progress=True)
    exported = export_network(model, tmp / "cnn_tuned.net")
    lava = run_in_lava(exported, test_x[:samples])
    reference = model.run(torch.as_tensor(test_x[:samples], dtype=torch.float32)).numpy()
    result = {"accuracy_before": accuracy(before), "accuracy_after": accuracy(model), "losses": losses,
              "lava_spike_match": spike_match(lava.output, reference), "lava_samples": samples,
              "lava_accuracy": float((classes(lava.output) == test_y[:samples]).mean()),
              "torch_accuracy_same_samples": float((classes(reference) == test_y[:samples]).mean())}
    table(f"Fine-tuning the imported Sinabs CNN here (SLTT, lr 1e-2, {epochs} epochs over 800 saccade digits, "
          "accuracy on 200 others)", ["check", "result"],
          [["accuracy before (as imported)", result["accuracy_before"]],
           ["accuracy after fine-tuning (torch)", result["accuracy_after"]],
           ["training loss per epoch", ", ".join(f"{v:.3f}" for v in losses)],
           [f"Lava (exported file) vs fine-tuned torch, spike_match over {samples} samples",
            result["lava_spike_match"]],
           [f"Lava / torch accuracy on those {samples}",
            f"{result['lava_accuracy']:.4f} / {result['torch_accuracy_same_samples']:.4f}"]])
    return result


def round_trip(tmp: pathlib.Path, epochs: int, samples: int) -> dict[str, Any]:
    """Train a CUBA network here, NIR out and back in, Lava against torch; snnTorch runs the NIR file."""
    encoding = Encoding("rate", steps=16)
    run = tmp / "run"
    torch.manual_seed(0)
    train(TrainConfig(encoding=encoding, network=NetworkConfig(sizes=(64, 128, 10)), epochs=epochs), run,
          progress=False)
    _, model, _ = load_run(run)
    export_nir(run, tmp / "digits.nir")
    import_nir(tmp / "digits.nir", tmp / "digits_back.net", 1e-4)
    data = load_dataset("digits", "test", encoding=encoding)
    x = data.spikes(np.arange(len(data)))
    reference = model.run(torch.from_numpy(x)).numpy()
    lava = run_in_lava(tmp / "digits_back.net", x[:samples])
    peer = run_snntorch(nir.read(str(tmp / "digits.nir")), x)["output"]
    acc = {"torch": float((classes(reference) == data.labels).mean()),
           "snnTorch": float((classes(peer) == data.labels).mean())}
    result = {"spike_match": spike_match(lava.output, reference[:samples]), "lava_samples": samples,
              "accuracy": acc, "test_samples": len(data)}
    table("Round trip and export to snnTorch (digits, CUBA 64-128-10, BPTT)",
          ["check", "result"],
          [["Lava (ours -> NIR -> import -> netx) vs torch, spike_match", result["spike_match"]],
           [f"torch accuracy ({len(data)} test samples)", acc["torch"]],
           ["snnTorch accuracy on our NIR file (same samples)", acc["snnTorch"]],
           ["difference (points)", 100 * (acc["snnTorch"] - acc["torch"])]])
    return result


def exponential_decays(graph: Any, dt: float) -> Any:
    """``graph`` with every time constant ``tau`` replaced by ``dt / (1 - exp(-dt / tau))``: forward Euler
    with step ``dt`` then decays by ``exp(-dt / tau)`` per step, the graph's continuous decay between steps."""
    def exact(node: Any) -> Any:
        fields = {k: v for k, v in node.__dict__.items() if not k.startswith("_") and k not in ("input_type",
                                                                                                  "output_type")}
        for key in ("tau", "tau_syn", "tau_mem"):
            if key in fields:
                fields[key] = dt / (1 - np.exp(-dt / np.asarray(fields[key], dtype=np.float64)))
        return type(node)(**fields)

    nodes = {name: exact(node) if hasattr(node, "tau") or hasattr(node, "tau_mem") else node
             for name, node in graph.nodes.items()}
    return nir.NIRGraph(nodes=nodes, edges=graph.edges, metadata=graph.metadata)


def float_graph_choices(graph: Any, inputs: np.ndarray, dt: float, output: str) -> dict[str, Any]:
    """What the float graph itself leaves open: reset rule and time-step discretization (decisions, spikes)."""
    euler = simulate(graph, inputs, dt)
    others = {"reset by subtraction (as trained)": simulate(graph, inputs, dt, reset="subtract"),
              "exponential decays exp(-dt/tau) (continuous between steps)":
                  simulate(exponential_decays(graph, dt), inputs, dt)}
    rows, result = [], {}
    for label, other in others.items():
        layers = {name: spike_match(other[name], euler[name]) for name in euler if name != "output"}
        same = float((classes(other[output]) == classes(euler[output])).mean())
        result[label] = {"same_class": same, "spike_match": layers}
        rows.append([label, same, ", ".join(f"{k} {v:.3f}" for k, v in layers.items())])
    table("The float graph against itself: reset to zero and forward Euler (what importers and Lava run) vs",
          ["variant", "same class", "spike_match per layer"], rows)
    return result


def refusals(tmp: pathlib.Path) -> dict[str, Any]:
    """``lava-fptt nir import`` of a graph with an unmappable node and of one with ``v_reset != 0``."""
    def graph(neuron: Any) -> Any:
        return nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([3])}),
                                   "fc": nir.Linear(weight=np.ones((2, 3))), "neuron": neuron,
                                   "output": nir.Output(output_type={"output": np.array([2])})},
                            edges=[("input", "fc"), ("fc", "neuron"), ("neuron", "output")])

    cases = {"unmappable node (Threshold)": graph(nir.Threshold(threshold=np.ones(2))),
             "v_reset = 0.5 (IF)": graph(nir.IF(r=np.ones(2), v_threshold=np.ones(2), v_reset=np.full(2, 0.5)))}
    result, rows = {}, []
    for label, bad in cases.items():
        source, out = tmp / "refused.nir", tmp / "refused" / "net.net"
        nir.write(str(source), bad)
        out.parent.mkdir(exist_ok=True)
        done = subprocess.run([sys.executable, "-m", "lava_fptt.cli", "nir", "import", str(source), "--out",
                               str(out), "--dt", "1e-4"], capture_output=True, text=True)
        written = sorted(p.name for p in out.parent.iterdir())
        result[label] = {"exit_status": done.returncode, "stderr": done.stderr.strip(), "written": written}
        rows.append([label, done.returncode, done.stderr.strip(), written or "nothing"])
    table("Refusals (lava-fptt nir import)", ["graph", "exit status", "stderr", "written"], rows)
    return result


PARTS = ("cnn", "braille", "braille_li", "round_trip", "fine_tune", "refusals")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=100, help="inputs per foreign graph (default 100)")
    parser.add_argument("--cnn-steps", type=int, default=24)
    parser.add_argument("--braille-steps", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=8, help="training epochs of the round-trip network")
    parser.add_argument("--part", nargs="+", choices=PARTS, default=list(PARTS),
                        help="run only these parts (default all); the JSON keeps the other parts' results")
    args = parser.parse_args()
    torch.set_num_threads(1)
    path = RESULTS / "nir_interop.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    braille_graph = nir.read(str(FIXTURES / "braille_noDelay_noBias_subtract.nir"))
    xb = tactile_events(args.samples, steps=args.braille_steps)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = pathlib.Path(tmp_name)
        if "cnn" in args.part:
            x, labels = saccade_events(args.samples, steps=args.cnn_steps, gain=3.0)
            print(f"cnn inputs: {x.sum(axis=(1, 2, 3, 4)).mean():.0f} events per sample on average", file=sys.stderr)
            cnn = foreign_graph("cnn_sinabs", nir.read(str(FIXTURES / "cnn_sinabs.nir")), 1.0, x, tmp)
            cnn["accuracy_on_saccade_digits"] = {k: float((np.array(cnn[f"{k}_classes"]) == labels).mean())
                                                 for k in ("lava", "float_graph")}
            print("CNN accuracy on the saccade digits (trained on real N-MNIST): " + ", ".join(
                f"{k} {v:.2f}" for k, v in cnn["accuracy_on_saccade_digits"].items()))
            results["cnn_sinabs"] = cnn
        if "braille" in args.part:
            braille = foreign_graph("braille", braille_graph, 1e-4, xb, tmp)
            braille["float_graph_choices"] = float_graph_choices(braille_graph, xb, 1e-4, "lif2")
            results["braille"] = braille
        if "braille_li" in args.part:
            results["braille_li_readout"] = foreign_graph("braille_li", with_li_readout(braille_graph, "lif2"),
                                                          1e-4, xb, tmp)
        if "round_trip" in args.part:
            results["round_trip"] = round_trip(tmp, args.epochs, args.samples)
        if "fine_tune" in args.part:
            results["fine_tuned_cnn"] = fine_tuned_cnn(tmp, min(args.samples, 50))
        if "refusals" in args.part:
            results["refusals"] = refusals(tmp)
    RESULTS.mkdir(exist_ok=True)
    with atomic_path(path) as out:
        out.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
