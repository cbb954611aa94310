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
# # 6. Train your own lava-dl network online
#
# **Goal.** Take a convolutional spiking network written the way lava-dl's tutorials
# write networks, train it with SLTT and with FPTT without changing a line of it, export
# it with its own `export_hdf5`, and run it in Lava's fixed-point simulation spike for
# spike against torch, pooling layer included (lava-dl 0.6's netx cannot build pooling
# layers; lava-fptt's loader can).
#
# The path: `lava_fptt.online.wrap(net)` makes the network a model the training engine
# drives in chunks (carried neuron state, slayer's `delay_shift` taken out of the blocks,
# SLTT's spatial-only gradients: `docs/online-training.md`); any method's `train_batch`
# trains it; `net.export_hdf5` writes it; `netx_export.inference.run_in_lava` runs it.
# On the command line: `lava-fptt train --network digits_convnet.py:Network ...`.
#
# Runs in a minute or two: short budgets on part of the digits (72 s measured on the
# project's loaded 2-core machine).

# %%
import inspect
import json
import pathlib
import warnings

warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
warnings.filterwarnings("ignore", message="Warning only once for all operators")

import matplotlib.pyplot as plt
import numpy as np
import torch
from lava.lib.dl import slayer

import digits_convnet
from lava_fptt.cli import main as lava_fptt
from lava_fptt.data import Encoding, load_dataset
from lava_fptt.online import UnsupportedNetworkError, wrap
from lava_fptt.training import SLTT, sequence_loss
from netx_export.inference import run_in_lava, spike_match

torch.set_num_threads(1)
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()  # a notebook runs here
FIGURES = HERE / "figures"  # beside the tutorial, wherever it is run from
RUNS = HERE / "runs" / "06"
FIGURES.mkdir(exist_ok=True)
RUNS.mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## The network, as a lava-dl user writes it
#
# `digits_convnet.py` (next to this tutorial) knows nothing of lava-fptt: slayer CUBA
# blocks with their defaults, a loop over them, an `export_hdf5` that lets each block
# write itself.

# %%
print(inspect.getsource(digits_convnet.Network))

# %% [markdown]
# ## Wrap it
#
# `wrap(net)` checks every block. Its first block is a convolution, so the model wants
# images `[N, C, H, W, T]`; its four blocks each delay by one step (`delay_shift`, as
# Lava's synapses do), and the adapter carries those four steps on one delay line at the
# input. Walking a sequence in chunks of one step gives exactly the network's own
# whole-sequence output, and the network object itself is left as it was.

# %%
torch.manual_seed(0)
net = digits_convnet.Network()
model = wrap(net)
print(f"input layout {model.input_layout}, delay line {model.delay} steps, "
      f"blocks {[a.kind for a in model.blocks]}, SLTT chunks: {model.spatial_chunks}")

encoding = Encoding("rate", steps=16, layout=model.input_layout)
train_data = load_dataset("digits", "train", encoding=encoding)
test_data = load_dataset("digits", "test", encoding=encoding)
x = torch.from_numpy(test_data.spikes(range(8)))
with torch.no_grad():
    whole = net(x)                                 # lava-dl's own forward, from rest
    model.reset_state()
    stepped = torch.cat([model(x[..., t:t + 1]) for t in range(x.shape[-1])], dim=-1)
print(f"input {tuple(x.shape)}; one step per call == whole sequence: {torch.equal(stepped, whole)}")
assert torch.equal(stepped, whole) and whole.sum() > 0

# %% [markdown]
# What the engine cannot carry exactly is refused when wrapped, naming the block: here
# a learnable axonal delay (`delay=True`), whose delays of up to 62 steps learn from the
# whole sequence.

# %%
params = {"threshold": 1.25, "current_decay": 0.25, "voltage_decay": 0.03}
try:
    wrap(torch.nn.Sequential(slayer.block.cuba.Dense(params, 64, 32),
                             slayer.block.cuba.Dense(params, 32, 10, delay=True)))
    raise AssertionError("a learnable delay should be refused")
except UnsupportedNetworkError as err:
    print("refused:", err)

# %% [markdown]
# ## Train it with SLTT, in a few lines
#
# A method object trains the wrapped model batch by batch; the optimizer holds the
# network's own parameters. SLTT back-propagates each step along its spatial path only,
# four steps per call (one backward per chunk), and steps the optimizer once per batch.

# %%
optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
method = SLTT()
loss_fn = sequence_loss(model.output_kind, late_weighting=method.late_weighting)
sltt_curve = []
for epoch in range(2):
    for xb, yb in train_data.batches(32, shuffle=True, seed=epoch, limit=640):
        loss, spikes = method.train_batch(model, xb, yb, loss_fn, optimizer)
    correct = sum(int((model.predict(model.run(xb)) == yb).sum()) for xb, yb in test_data.batches(256))
    sltt_curve.append(correct / len(test_data))
    print(f"SLTT epoch {epoch + 1}: loss {loss:.3f}, test accuracy {sltt_curve[-1]:.3f}")
assert sltt_curve[-1] > 0.6

# %% [markdown]
# ## Export it with its own writer and run it in Lava
#
# `net.export_hdf5` is lava-dl's; the file has a `pool` layer, which plain netx refuses
# (`NotImplementedError`), so `run_in_lava` builds it with lava-fptt's loader: netx's own
# blocks for the conv and dense layers, and netx's `Conv` block with one group per
# channel for the pool layer (exactly slayer's sum pooling). The images go to Lava in its
# (x, y, f) order.

# %%
path = RUNS / "sltt.net"
net.export_hdf5(str(path))
samples = 50
inputs, labels = test_data.spikes(range(samples)), test_data.labels[:samples]
lava = run_in_lava(path, inputs, "fixed")
reference = model.run(torch.from_numpy(inputs)).numpy()
lava_accuracy = float((lava.output.sum(-1).argmax(-1) == labels).mean())
torch_accuracy = float((reference.sum(-1).argmax(-1) == labels).mean())
print(f"Lava: {samples} samples, spike_match {spike_match(lava.output, reference):.4f}, "
      f"accuracy {lava_accuracy:.3f} (torch {torch_accuracy:.3f}), {lava.steps_per_s:.0f} steps/s")
assert spike_match(lava.output, reference) == 1.0 and lava_accuracy == torch_accuracy

# %% [markdown]
# ## The same network with FPTT, from the command line
#
# `lava-fptt train --network FILE.py:CLASS` builds the class (no arguments), reads the
# layout from its first block and keeps a copy of the file in the run directory, so
# `export` and `run --reference` work whatever happens to the original. FPTT takes an
# optimizer step every chunk (two steps here) with its regularizer toward a running
# mean of the weights, so it gets a smaller learning rate.

# %%
run_dir = RUNS / "fptt"
assert lava_fptt(["train", "--network", f"{HERE / 'digits_convnet.py'}:Network", "--algo", "fptt", "--chunk", "2",
                  "--lr", "1e-3", "--epochs", "2", "--train-limit", "640", "--out", str(run_dir),
                  "--no-progress"]) == 0
assert lava_fptt(["export", str(run_dir)]) == 0
assert lava_fptt(["run", str(run_dir / "network.net"), "--samples", str(samples), "--reference", str(run_dir),
                  "--json"]) == 0
fptt_curve = [m["test_accuracy"] for m in json.loads((run_dir / "metrics.json").read_text())]

# %% [markdown]
# The last line printed is `run`'s JSON: Lava's accuracy, torch's on the same samples,
# and `spike_match`.

# %%
fig, (ax_acc, ax_raster) = plt.subplots(1, 2, figsize=(10, 3.8))
epochs = np.arange(1, len(sltt_curve) + 1)
ax_acc.plot(epochs, sltt_curve, "o-", label="SLTT (Python API)")
ax_acc.plot(epochs, fptt_curve, "s-", label="FPTT (lava-fptt train --network)")
ax_acc.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1), xticks=epochs,
           title="conv-pool-conv-dense on digits (640 samples/epoch)")
ax_acc.legend()
sample = 0
t_torch, n_torch = np.nonzero(reference[sample].T)
t_lava, n_lava = np.nonzero(lava.output[sample].T)
ax_raster.scatter(t_torch, n_torch, s=80, facecolors="none", edgecolors="tab:blue", label="torch")
ax_raster.scatter(t_lava, n_lava, s=18, color="tab:orange", label="Lava (fixed point)")
ax_raster.set(xlabel="time step", ylabel="output neuron", yticks=range(10), xlim=(-0.5, inputs.shape[-1] - 0.5),
              title=f"output spikes of test sample {sample} (label {labels[sample]})")
ax_raster.legend(loc="upper left", fontsize=8)
fig.tight_layout()
fig.savefig(FIGURES / "06_own_network_online.png", dpi=100)

# %% [markdown]
# ## What to take away
#
# - A network written for lava-dl trains online as it is: `wrap(net)`, any method's
#   `train_batch`, then its own `export_hdf5`. The adapter carries each block's neuron
#   state and `delay_shift` between chunks and gives SLTT its spatial-only gradient for
#   every CUBA block; what it cannot carry exactly (learnable delays, other neuron
#   families) is refused up front, naming the block.
# - Convolutional networks take the data as images, chosen from the network's first
#   block; the Lava run feeds the same spikes and agrees spike for spike, pooling
#   layers included.
# - From the command line, `lava-fptt train --network FILE.py:CLASS` does the same, and
#   the run keeps its own copy of the file. The full comparison of all methods on this
#   kind of network is in `docs/online-results.md`.
