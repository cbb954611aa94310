# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 7. From other frameworks to Lava through NIR
#
# **Goal.** Take networks trained elsewhere and written as NIR (the Neuromorphic
# Intermediate Representation that Sinabs, snnTorch, Norse, Rockpool and others read and
# write), turn them into netx files that plain lava-dl loads, run them in Lava's
# fixed-point simulation and check them layer by layer against a float simulation of
# the graph; then send one of our networks the other way, to snnTorch.
#
# The path: `netx_export.nir.import_nir` (graph -> netx HDF5, with the quantization
# error of every layer) -> `netx_export.inference.run_in_lava`; the reference is
# `netx_export.nir.simulate` (the graph itself in float64) and the peers snnTorch and
# Norse (`netx_export.nir.peers`). On the command line: `lava-fptt nir import MODEL.nir
# --out NET.net --dt DT` and `lava-fptt nir export RUN_DIR --out MODEL.nir`. Graphs that
# end in non-spiking leaky integrators (`LI`, `CubaLI`, `I`) become graded readouts, and
# an imported network can be fine-tuned here online (FPTT, SLTT) before it goes to Lava:
# `lava-fptt train --init NET.net` or `netx_export.nir.trainable.fine_tune`.
# `docs/nir.md` explains the mapping and the measured differences.

# %%
import json
import pathlib
import subprocess
import sys
import warnings

warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
warnings.filterwarnings("ignore", message="Warning only once for all operators")

import matplotlib.pyplot as plt
import nir
import numpy as np
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.data.events import saccade_events, tactile_events
from lava_fptt.models.network import NetworkConfig
from lava_fptt.training import TrainConfig, load_run, train
from lava_fptt.online import wrap
from netx_export import export_network
from netx_export.inference import run_in_lava, spike_match
from netx_export.nir import NIRGraphError, import_nir, simulate
from netx_export.nir.compare import classes, compare, lava_layers
from netx_export.nir.export import export_nir
from netx_export.nir.peers import run_norse, run_snntorch
from netx_export.nir.trainable import fine_tune, slayer_network

torch.set_num_threads(1)
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()  # a notebook runs here
FIXTURES = HERE.parent / "tests" / "fixtures" / "nir"
FIGURES = HERE / "figures"  # beside the tutorial, wherever it is run from
RUNS = HERE / "runs" / "07"
FIGURES.mkdir(exist_ok=True)
RUNS.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## A recurrent network trained in snnTorch: Braille reading
#
# `braille_noDelay_noBias_subtract.nir` comes from the NIR paper's repository: 12 tactile
# inputs, a recurrent layer of 40 `CubaLIF` neurons, 7 outputs. A NIR graph states no
# time step; snnTorch writes its graphs for `dt = 1e-4`. The importer discretizes each
# layer with forward Euler and prints what that costs in Lava's integers: the largest
# weight error relative to the largest weight (8-bit mantissa) and the decay error
# (12-bit decays).

# %%
out = subprocess.run([sys.executable, "-m", "lava_fptt.cli", "nir", "import",
                      str(FIXTURES / "braille_noDelay_noBias_subtract.nir"), "--out", str(RUNS / "braille.net"),
                      "--dt", "1e-4", "--json"], capture_output=True, text=True, check=True)
report = json.loads(out.stdout)
for layer in report["layers"]:
    print(f"{layer['nodes'][-1]:>9}: netx {layer['netx_type']:<9} iDecay {layer['i_decay']:>4} "
          f"vDecay {layer['v_decay']:>4} vThMant {layer['v_th']:>3}  weight error {layer['error']['weight']:.2%}, "
          f"decay error {layer['error']['decay']:.3%}")
assert [layer["netx_type"] for layer in report["layers"]] == ["dense_rec", "dense"]

# %% [markdown]
# Plain lava-dl builds it, and Lava runs it. The Braille data set is not available
# offline, so the inputs are tactile-like streams of its shape (`tactile_events`); the
# reference is the float simulation of the graph on the same inputs, and Norse (which,
# unlike snnTorch 1.0, runs recurrent NIR graphs) is a second, independent one.

# %%
from lava.lib.dl import netx

print(netx.hdf5.Network(net_config=str(RUNS / "braille.net")))
graph = nir.read(str(FIXTURES / "braille_noDelay_noBias_subtract.nir"))
x = tactile_events(20, steps=100)
reference = simulate(graph, x, dt=1e-4)
norse = run_norse(graph, x, dt=1e-4)
lava = lava_layers(RUNS / "braille.net", x)
braille = compare(lava, reference, ["lif1.lif", "lif2"])
for layer in braille.layers:
    print(f"{layer.name}: spike_match {layer.spike_match:.3f}, identical neuron-steps {layer.agreement:.4f}, "
          f"spikes Lava {layer.lava_spikes} / float {layer.reference_spikes}")
print(f"Norse against our float simulation: spike_match {spike_match(norse['output'], reference['lif2']):.3f}")
print(f"same predicted class, Lava against the float graph: {braille.same_class:.2f}")
assert spike_match(norse["output"], reference["lif2"]) == 1.0

# %% [markdown]
# Spikes differ in places, decisions mostly not. Two things make Lava differ from the
# float graph: the weights lose precision in the 8-bit mantissa (0.4 % of the largest
# weight), and the integer state is truncated at every decay; in a recurrent layer a
# single moved spike then moves others. The file name says the network was trained
# with reset by *subtraction*: NIR 1.0 cannot state that (only `v_reset`), so every
# importer resets to zero. Declaring it is refused, since Lava's LIF resets to zero:

# %%
try:
    import_nir(graph, RUNS / "refused.net", dt=1e-4, reset="subtract")
except NIRGraphError as err:
    print("refused:", err)
assert not (RUNS / "refused.net").exists()
subtract = simulate(graph, x, dt=1e-4, reset="subtract")
print(f"float graph, reset to zero against by subtraction: same class "
      f"{(classes(subtract['lif2']) == classes(reference['lif2'])).mean():.2f}")

# %% [markdown]
# ## A graded readout: the same network read out by leaky integrators
#
# Many graphs end in non-spiking neurons (`LI`, `CubaLI`, `I`) whose voltage is the
# output. Here the Braille network's output `CubaLIF` is swapped for a `CubaLI` with the
# same parameters. The importer writes it as lava-dl writes its own non-spiking
# `cuba.Affine` block (CUBA neurons with the threshold `2**18 - 1`, which Lava's 24-bit
# voltage never reaches); our loader builds it as a `CubaLI` process that sends its
# voltage each step, and the class is the largest voltage at the last step. Lava's
# readout differs from the float graph's where the recurrent layer's spikes moved (as
# above); the decisions follow.

# %%
lif2 = graph.nodes["lif2"]
readout_graph = nir.NIRGraph(nodes={**graph.nodes, "lif2": nir.CubaLI(tau_syn=lif2.tau_syn, tau_mem=lif2.tau_mem,
                                                                       r=lif2.r, v_leak=lif2.v_leak, w_in=lif2.w_in)},
                             edges=graph.edges)
readout_report = import_nir(readout_graph, RUNS / "braille_li.net", dt=1e-4)
readout_layer = readout_report.layers[-1]
print(f"readout layer: vThMant {readout_layer.v_th} (never reached), scale {readout_layer.scale}")
float_readout = simulate(readout_graph, x, dt=1e-4)
lava_readout = lava_layers(RUNS / "braille_li.net", x)
graded = compare(lava_readout, float_readout, ["lif1.lif", "lif2"], graded=True)
print(f"hidden spike_match {graded.layers[0].spike_match:.3f}; readout: mean difference "
      f"{graded.readout.mean_relative:.1%} of the mean value (worst {graded.readout.relative:.0%} of the largest); "
      f"same class {graded.same_class:.2f}")
assert graded.same_class >= 0.8

# %% [markdown]
# ## A spiking CNN trained in Sinabs
#
# `cnn_sinabs.nir` (N-MNIST, `Conv2d` / `IF` / `SumPool2d` / `Flatten` / `Affine`)
# counts time in steps (`dt = 1`). Each sum pooling feeds a weighted layer, so the
# importer folds it into that layer's weights (a pooled 3x3 convolution is a 6x6
# convolution with stride 2): the file has no `pool` layer, which lava-dl 0.6's netx
# could not build. The inputs are N-MNIST-shaped event streams made from the built-in
# digits (`saccade_events`: the digit moved along N-MNIST's three saccades).
#
# The float graph with Lava's own integers put back (`export_nir` of the imported file)
# shows where the differences come from: IF neurons have no decay, so Lava computes
# that graph exactly; everything that differs from the original float graph is weight
# quantization.

# %%
import_nir(FIXTURES / "cnn_sinabs.nir", RUNS / "cnn.net", dt=1.0)
cnn = nir.read(str(FIXTURES / "cnn_sinabs.nir"))
events, labels = saccade_events(3, steps=12, gain=3.0)
names = ["1", "3", "6", "10", "12"]
lava_cnn = lava_layers(RUNS / "cnn.net", events)
float_cnn = simulate(cnn, events, dt=1.0)
snn = run_snntorch(cnn, events, record=tuple(names))
back = simulate(nir.read(str(export_nir(RUNS / "cnn.net", RUNS / "cnn_integers.nir", dt=1.0))), events, dt=1.0)
integers = dict(zip(names, [back[n] for n in back if n.endswith(".neuron")]))
against = {"float graph": compare(lava_cnn, float_cnn, names), "snnTorch": compare(lava_cnn, snn, names),
           "float, Lava's integers": compare(lava_cnn, integers, names)}
for ref, c in against.items():
    print(f"Lava vs {ref:<22}: spike_match per layer " + ", ".join(f"{m.spike_match:.3f}" for m in c.layers))
assert all(m.spike_match == 1.0 for m in against["float, Lava's integers"].layers)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
width = 0.27
for k, (ref, c) in enumerate(against.items()):
    ax1.bar(np.arange(len(names)) + (k - 1) * width, [m.spike_match for m in c.layers], width, label=f"vs {ref}")
ax1.set_xticks(range(len(names)), ["conv 1", "conv 2", "pool+conv 3", "pool+dense", "dense (out)"])
ax1.set_ylabel("spike_match with Lava")
ax1.set_ylim(0, 1.05)
ax1.legend(fontsize=8, loc="lower left")
ax1.set_title("cnn_sinabs.nir in Lava, layer by layer")
n_lava, t_lava = np.nonzero(lava[-1][0])
n_ref, t_ref = np.nonzero(reference["lif2"][0])
ax2.scatter(t_ref, n_ref, marker="o", s=30, facecolors="none", edgecolors="C0", label="float graph")
ax2.scatter(t_lava, n_lava, marker="x", s=14, color="C3", label="Lava fixed point")
ax2.set_xlabel("step")
ax2.set_ylabel("output neuron")
ax2.set_title("Braille network, one input: output spikes")
ax2.legend(fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "07_nir_in_lava.png", dpi=120)

# %% [markdown]
# ## Fine-tuning the imported CNN here, then Lava
#
# The Sinabs CNN was trained on real N-MNIST; our N-MNIST-shaped digits differ. An
# imported file becomes slayer's own blocks with its integers and neuron parameters
# (`slayer_network`), which compute what Lava computes, and the online engine trains
# them: `fine_tune` runs SLTT over event streams in memory (`lava-fptt train --init
# NET.net` does the same over a data set, in a resumable run directory). One pass over
# 400 saccade digits, measured on 100 others, then exported and run in Lava.

# %%
events, digits = saccade_events(500, steps=24, gain=3.0, seed=1)  # 500 different digits
held_out = torch.as_tensor(events[400:], dtype=torch.float32)


def held_out_accuracy(model) -> float:
    return float((model.predict(model.run(held_out)).numpy() == digits[400:]).mean())


before = held_out_accuracy(wrap(slayer_network(RUNS / "cnn.net")))
tuned, losses = fine_tune(RUNS / "cnn.net", events[:400], digits[:400], algo="sltt", epochs=1, lr=1e-2)
after = held_out_accuracy(tuned)
export_network(tuned, RUNS / "cnn_tuned.net")
lava_tuned = run_in_lava(RUNS / "cnn_tuned.net", events[400:404])
torch_tuned = tuned.run(held_out[:4]).numpy()
print(f"held-out accuracy: as imported {before:.2f}, after one SLTT pass {after:.2f}; "
      f"Lava against the fine-tuned torch model: spike_match {spike_match(lava_tuned.output, torch_tuned):.3f}")
assert spike_match(lava_tuned.output, torch_tuned) == 1.0 and after > before

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
for k, color in zip(range(3), ("C0", "C1", "C2")):
    ax1.plot(float_readout["lif2"][0, k], color=color, label=f"float graph, output {k}")
    ax1.plot(lava_readout[-1][0, k], color=color, linestyle="none", marker=".", markersize=4)
ax1.set_xlabel("step")
ax1.set_ylabel("readout voltage")
ax1.set_title("Braille with a CubaLI readout: float graph (lines), Lava (dots)")
ax1.legend(fontsize=7)
ax2.bar(["as imported", "fine-tuned (SLTT, 1 pass)"], [before, after], color=["C7", "C0"])
ax2.set_ylim(0, 1)
ax2.set_ylabel("accuracy, 100 held-out saccade digits")
ax2.set_title("Sinabs CNN fine-tuned here; Lava = torch spike for spike")
fig.tight_layout()
fig.savefig(FIGURES / "07_readout_and_fine_tuning.png", dpi=120)

# %% [markdown]
# ## Our network out to snnTorch, and back
#
# A CUBA network trained here (BPTT, digits) is written as NIR (`CubaLIF` + `Affine`,
# `dt = 1e-4`, what snnTorch's importer assumes). snnTorch builds it and classifies
# the test digits; our importer reads it back into a netx file with the very same
# integers, which Lava runs spike for spike as the torch model.

# %%
encoding = Encoding("rate", steps=16)
train(TrainConfig(dataset="digits", encoding=encoding, network=NetworkConfig(sizes=(64, 128, 10)), algo="bptt",
                  epochs=3, lr=3e-3, seed=0), RUNS / "cuba", progress=False)
_, model, _ = load_run(RUNS / "cuba")
export_nir(RUNS / "cuba", RUNS / "digits.nir")
import_nir(RUNS / "digits.nir", RUNS / "digits_back.net", dt=1e-4)
data = load_dataset("digits", "test", encoding=encoding)
xd = data.spikes(np.arange(len(data)))
ours = model.run(torch.from_numpy(xd)).numpy()
peer = run_snntorch(nir.read(str(RUNS / "digits.nir")), xd)["output"]
acc_torch, acc_peer = (classes(ours) == data.labels).mean(), (classes(peer) == data.labels).mean()
round_trip = spike_match(run_in_lava(RUNS / "digits_back.net", xd[:30]).output, ours[:30])
print(f"test accuracy: torch {acc_torch:.3f}, snnTorch on our NIR file {acc_peer:.3f}; "
      f"ours -> NIR -> netx -> Lava against torch: spike_match {round_trip:.3f}")
assert round_trip == 1.0 and abs(acc_torch - acc_peer) <= 0.01

# %% [markdown]
# ## What to take away
#
# - `lava-fptt nir import MODEL.nir --out NET.net --dt DT` makes a netx file of CUBA
#   layers that plain lava-dl loads, from graphs of `Affine` / `Linear` / `Conv2d` /
#   pooling / `Flatten` with `CubaLIF`, `LIF` or `IF` neurons, recurrent layers included.
#   Choose `dt` as the graph's trainer did: NIR does not record it.
# - Lava then differs from the float graph only by what 8-bit weights and integer
#   state cost; the importer reports the first per layer, the float graph of the
#   file's own integers isolates the second. Spikes move, decisions mostly hold.
# - A graph that ends in non-spiking leaky integrators runs in Lava as a graded readout
#   (lava-dl's own format for its `cuba.Affine` block; our loader sends the voltage).
# - An imported network, convolutional or not, fine-tunes here online (SLTT, FPTT) and
#   goes back to Lava spike for spike: `fine_tune`, or `lava-fptt train --init NET.net`.
# - What NIR cannot state (reset by subtraction) or Lava cannot run (non-zero
#   `v_reset`, per-neuron time constants, graded values into another layer) is refused
#   with the node named, before anything is written.
# - Our networks leave as NIR that snnTorch builds, and come back exactly.
