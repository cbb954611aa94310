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
# # 5. Targeting Loihi 2
#
# **Goal.** See what it would take to put the networks of tutorials 1 to 4 on Intel's
# Loihi 2: the bit widths each model uses, a resource report of trained networks
# (neurons, synapses, synaptic memory per layer, cores at Loihi 2's published per-core
# limits), and how each custom model maps to Loihi 2's programmable neurons and its
# learning engine.
#
# **Honestly:** there is no Loihi hardware here, nor Intel's proprietary Loihi backend
# for Lava. "Targetable" in this project means: every model has a bit-accurate
# fixed-point Lava model that uses integer operations only, within Loihi 2's register
# widths; values that do not fit are refused with an error, never wrapped; and the
# training side runs the same integer arithmetic, so what was trained is what the
# fixed-point model runs (tutorials 2 and 3 checked it bit for bit). Whether Intel's
# compiler places a network as estimated below has not been tried.

# %%
import pathlib
import warnings

warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
warnings.filterwarnings("ignore", message="Warning only once for all operators")

import matplotlib.pyplot as plt
import numpy as np
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.loihi import LOIHI2, layer_resources, model_widths, neuron_bits
from netx_export.resources import resource_report
from lava_fptt.models.network import NetworkConfig
from lava_fptt.onchip.learn import learn
from lava_fptt.training import TrainConfig, load_run, train
from netx_export import export_network

torch.set_num_threads(1)
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()  # a notebook runs here
FIGURES = HERE / "figures"  # beside the tutorial, wherever it is run from
RUNS = HERE / "runs" / "05"
FIGURES.mkdir(exist_ok=True)

# %% [markdown]
# ## The bit widths each model uses
#
# `model_widths()` reads them from the constants the models check their values against,
# so this table cannot drift from the code.

# %%
for model, widths in model_widths().items():
    print(f"\n{model}")
    for quantity, width in widths.items():
        print(f"  {quantity:42s} {width}")

# %% [markdown]
# All of it fits Loihi 2's datapath as publicly described: 24-bit neuron state,
# 8-bit weight mantissas with a shared exponent (9-bit signed in the learning engine),
# 12-bit decay-like multipliers, and graded spikes of up to 24 bits (the LTC readout
# sends its `u` as one).

# %% [markdown]
# ## Published per-core limits
#
# The limits the report uses, and where they come from:

# %%
print(f"{LOIHI2.name}: {LOIHI2.cores_per_chip} cores per chip, up to {LOIHI2.neurons_per_core:,} neurons per core, "
      f"{LOIHI2.synaptic_memory_per_core // 1024} KiB synaptic memory and {LOIHI2.memory_per_core // 1024} KiB "
      f"memory per core; {LOIHI2.neurons_per_chip:,} neurons and {LOIHI2.synapses_per_chip:,} synapses per chip")
for source in LOIHI2.sources:
    print(" -", source)

# %% [markdown]
# ## Resource reports of trained networks
#
# Three trained networks, each trained briefly (the resources depend on the sizes, not on
# how well they learned): a CUBA network (BPTT, rate code), a recurrent LTC network
# (FPTT, digits by rows) exported through netx, and an SSNN-BP network learned on chip
# (reference engine, saved as `network.npz`). From the command line:
# `lava-fptt resources RUN_DIR/network.net` (add `--json` for data).

# %%
cuba_dir, ltc_dir = RUNS / "cuba", RUNS / "ltc"
train(TrainConfig(dataset="digits", encoding=Encoding("rate", steps=16), network=NetworkConfig(sizes=(64, 128, 10)),
                  algo="bptt", epochs=1, seed=0), cuba_dir, progress=False)
rows = Encoding("rows")
channels = load_dataset("digits", "test", encoding=rows).num_channels
train(TrainConfig(dataset="digits", encoding=rows,
                  network=NetworkConfig(sizes=(channels, 128, 10), model="ltc", recurrent=True),
                  algo="fptt", epochs=1, lr=3e-3, seed=0), ltc_dir, progress=False)
for run_dir in (cuba_dir, ltc_dir):
    _, model, _ = load_run(run_dir)
    export_network(model, run_dir / "network.net")
ssnn = learn("digits", engine="reference", steps_per_sample=16, epochs=1, samples=200, hidden=128, batch=8,
             seed=0, evaluations=1, progress=False, out_dir=RUNS / "ssnn")

reports = {"CUBA 64-128-10": resource_report(cuba_dir / "network.net"),
           f"recurrent LTC {channels}-128-10": resource_report(ltc_dir / "network.net"),
           "SSNN-BP 64-128-10": resource_report(ssnn["network"])}
for name, report in reports.items():
    print(f"\n### {name}\n")
    print(report.table())
    for note in report.notes:
        print(f"- {note}")

# %%
ltc_report = reports[f"recurrent LTC {channels}-128-10"]
hidden = ltc_report.layers[0]
assert hidden.neurons == 128 and hidden.fan_in == channels + 128 and hidden.synapses == 128 * (channels + 128)
assert hidden.synaptic_memory_bytes == hidden.synapses  # 8 bits per synapse
assert all(r.cores == len(r.layers) and r.chips == 1 for r in reports.values())  # each layer fits one core
assert reports["SSNN-BP 64-128-10"].layers[2].synapses == 2 * 10 * 128         # W2 and its transpose

# %% [markdown]
# Every layer of these small networks fits one core with room to spare; the report
# becomes interesting as networks grow. `layer_resources` computes a layer from its
# weight shapes, so we can ask what wider recurrent LTC layers (for a 16-channel pixel
# encoding, as in the pixel-by-pixel digits task) would need:

# %%
widths = [128, 256, 512, 1024, 2048, 4096]
sized = [layer_resources(0, "dense_rec", "LTC", [np.zeros((h, 16)), np.zeros((h, h))], 8, neuron_bits("LTC"))
         for h in widths]
for h, layer in zip(widths, sized):
    print(f"recurrent LTC {h:5d}: {layer.synapses:>10,} synapses, {layer.synaptic_memory_bytes / 1024:8.1f} KiB "
          f"synaptic, {layer.neuron_memory_bytes / 1024:6.1f} KiB neuron memory -> {layer.cores:3d} cores "
          f"({layer.limited_by})")
assert sized[0].cores == 1 and sized[-1].limited_by == "synaptic memory"

fig, ax = plt.subplots(figsize=(6.5, 4))
ax.plot(widths, [layer.synaptic_memory_bytes / 1024 for layer in sized], "o-", label="synaptic memory (KiB)")
ax.plot(widths, [layer.neuron_memory_bytes / 1024 for layer in sized], "s-", label="neuron memory (KiB)")
ax.axhline(LOIHI2.synaptic_memory_per_core / 1024, color="gray", linestyle="--", label="synaptic memory of one core")
for h, layer in zip(widths, sized):
    ax.annotate(f"{layer.cores} core{'s' if layer.cores > 1 else ''}", (h, layer.synaptic_memory_bytes / 1024),
                textcoords="offset points", xytext=(-10, 8), fontsize=8)
ax.set(xscale="log", yscale="log", xlabel="recurrent LTC neurons (16 inputs)", ylabel="KiB",
       title="one recurrent LTC layer on Loihi 2 (dense weights, estimate)")
ax.set_xticks(widths, [str(h) for h in widths])
ax.legend(fontsize=8, loc="upper left")
fig.tight_layout()
fig.savefig(FIGURES / "05_ltc_layer_resources.png", dpi=100)

# %% [markdown]
# A dense recurrent layer's weights grow with the square of its width: beyond about
# 350 neurons one core's synaptic memory no longer holds them, and a 4,096-neuron layer
# needs 129 cores, more than a whole chip, for its weights alone while its neurons would
# fit in one. Sparse or low-rank recurrence (which Loihi 2 stores compressed) is what keeps
# recurrent layers small on chip.
#
# ## How each custom model maps to Loihi 2
#
# Loihi 2 runs neurons as microcode programs on its neuro-cores (integer add, multiply,
# shift, compare and branch on a neuron's own state) and updates synapses with a
# programmable learning engine (sum-of-products rules over pre/post spikes, traces and
# third factors). The longer version is `docs/loihi2.md`.
#
# - **CUBA** (slayer/netx): Loihi's standard current-based LIF. netx files of CUBA
#   layers are what lava-dl deploys; nothing custom.
# - **LTC neuron** (`lava_fptt.proc.ltc`): one microcode neuron per LTC neuron.
#   Every quantity it reads is its own (per-neuron "diagonal" gates,
#   `docs/ltc_fixed_point.md`), so it needs no extra synapses. Per step: two gate
#   pre-activations (two multiplies and a shift each), two sigmoids (a 65-word table read
#   plus one multiply and shift, or an equivalent piecewise-linear compare chain where a
#   table read is not available to microcode: not verified), three leaky updates
#   (`v + shr(tau * (target - v), 12)`, Loihi's decay pattern), a compare for the spike
#   and the optional partial reset. State: `u`, `b` (24-bit), the last spike; parameters
#   as in the widths above, about 25 bytes per neuron. The recurrent input arrives on its
#   own port (`a_rec`) so that it can be dropped at a reset; on chip that is a second
#   dendritic accumulator. The readout sends `u` as a 24-bit graded spike.
# - **SSNN-BP** (`lava_fptt.proc.ssnn`, `docs/ssnn_bp.md`): the encoder, the composite
#   hidden neuron (forward compartment and two gradient compartments, three dendritic
#   sums) and the winner-take-all output are microcode neurons using integer
#   add/shift/compare and a per-neuron 32-bit xorshift PRNG (two 16-bit registers, or the
#   core's own PRNG, then only statistically equivalent). The weight update, one unit per
#   coincidence of a pre spike with an error spike, is a product of a pre spike and a
#   third factor, which is the learning engine's form; what the Lava rule language cannot
#   express is pairing an error spike with the pre spike of *its own* wave 1 or 3 steps
#   earlier (it offers the current spike and decaying traces, not delayed copies) and the
#   transposed backward sums of the same weights. In Lava we therefore use a custom
#   ProcessModel with its own learning phase; on Loihi 2 this would need 1-3 step delayed
#   pre-spike copies (axon delays or a few bits of neuron state) and a second synaptic
#   array holding `W2` transposed that receives the same updates (the report above counts
#   it).
#
# ## What to take away
#
# - Every model's widths are Loihi 2 widths, checked where values enter; the resource
#   report turns a trained file into neurons, synapses, memory and cores.
# - At the published per-core limits the tutorial networks fit one core per layer;
#   dense recurrent LTC layers become synaptic-memory bound from a few hundred neurons.
# - These are estimates from public figures for a chip we could not run on: the integer
#   arithmetic is verified bit for bit in Lava's simulation, the placement is not.
