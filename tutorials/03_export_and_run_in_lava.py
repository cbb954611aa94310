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
# # 3. Export through netx and run in Lava
#
# **Goal.** Take a network trained in lava-dl, write it in netx's HDF5 format, build it
# as Lava processes and run test samples in Lava's CPU simulation, in the bit-accurate
# fixed-point models and in the floating-point ones; compare Lava with torch spike for
# spike and draw a raster of both. Then do the same for an LTC network, whose layers are
# our own Lava processes.
#
# The path: `lava_fptt.training` (run directory) -> `netx_export.export_network`
# (HDF5) -> `netx_export.inference.run_in_lava` (Lava processes, samples back to back).
# On the command line: `lava-fptt export RUN_DIR` and
# `lava-fptt run RUN_DIR/network.net --reference RUN_DIR`.

# %%
import pathlib
import warnings

warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
warnings.filterwarnings("ignore", message="Warning only once for all operators")

import matplotlib.pyplot as plt
import numpy as np
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.network import NetworkConfig, predict
from lava_fptt.training import TrainConfig, load_run, train
from netx_export import describe, export_network
from netx_export.inference import run_in_lava, spike_match

torch.set_num_threads(1)
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()  # a notebook runs here
FIGURES = HERE / "figures"  # beside the tutorial, wherever it is run from
RUNS = HERE / "runs" / "03"
FIGURES.mkdir(exist_ok=True)

# %% [markdown]
# ## Train and export a CUBA network
#
# Two epochs of BPTT on the 16-step rate code (a few seconds). `export_network` writes
# the layers exactly as lava-dl's slayer blocks write them (so plain
# `lava.lib.dl.netx.hdf5.Network` loads the file), and our metadata (data set, encoding)
# in root attributes that netx ignores.

# %%
encoding = Encoding("rate", steps=16)
config = TrainConfig(dataset="digits", encoding=encoding, network=NetworkConfig(sizes=(64, 128, 10)),
                     algo="bptt", epochs=2, lr=3e-3, seed=0)
trained = train(config, RUNS / "cuba", progress=False)
_, model, _ = load_run(RUNS / "cuba")
path = export_network(model, RUNS / "cuba" / "network.net",
                      {"dataset": "digits", "encoding": encoding.to_dict()})
summary = describe(path)
print(f"torch test accuracy {trained['test_accuracy']:.3f}; file {path}: layers {summary.layer_types}, "
      f"neurons {summary.neuron_types}, {summary.num_inputs} inputs -> {summary.num_outputs} outputs")

# %% [markdown]
# ## Run in Lava, fixed point and floating point
#
# `run_in_lava` streams the samples back to back through one Lava run: each sample gets
# `T + L` steps (its `T` input steps and `L` steps to drain an `L`-layer pipeline), and
# netx's staggered `reset_interval` resets each layer exactly when the next sample
# reaches it (`docs/architecture.md`). Output step `k` of each window is then step `k`
# of the torch model, so they compare spike for spike:
# `spike_match` = |Lava AND torch| / |Lava OR torch| over all output spikes.

# %%
test = load_dataset("digits", "test", encoding=encoding)
index = np.arange(60)
inputs, labels = test.spikes(index), test.labels[index]
reference = model.run(torch.from_numpy(inputs)).numpy()
runs = {"fixed": run_in_lava(path, inputs, "fixed")}

def accuracy(output, kind="spikes"):
    return float((predict(torch.from_numpy(np.asarray(output)), kind).numpy() == labels).mean())

print(f"torch: accuracy {accuracy(reference):.3f}")
for precision, lava in runs.items():
    print(f"Lava {precision:5s}: accuracy {accuracy(lava.output):.3f}, "
          f"spike_match with torch {spike_match(lava.output, reference):.4f}, "
          f"identical samples {sum(np.array_equal(a, b > 0) for a, b in zip(lava.output > 0, reference))}"
          f"/{len(index)}, {lava.steps_per_s:.0f} steps/s")

# %%
assert spike_match(runs["fixed"].output, reference) == 1.0
assert accuracy(runs["fixed"].output) == accuracy(reference)

# %% [markdown]
# The fixed-point run is identical to torch spike for spike: slayer's CUBA neuron runs
# the same integer arithmetic as Lava's bit-accurate LIF (12-bit decays, 24-bit states,
# 8-bit weights scaled by 64).
#
# A floating-point run of this CUBA file is refused: netx builds CUBA layers with the
# integer parameters of the file (weights in units of 1/64, decays in units of 1/4096,
# threshold mantissa), which only the fixed-point LIF interprets; Lava's floating-point
# LIF would read the same numbers as floats (a current decay of e.g. 1024 instead of
# 0.25) and compute something else. `precision="float"` is meaningful for LTC layers,
# whose builder converts every integer to the float it stands for (next section).

# %%
from netx_export import NetworkFileError

try:
    run_in_lava(path, inputs, "float")
except NetworkFileError as error:
    print("refused:", error)
else:
    raise AssertionError("a float run of netx CUBA layers should be refused")

# %%
fig, axes = plt.subplots(1, 3, figsize=(11, 3.5), sharey=True)
steps = inputs.shape[-1]
for ax, sample in zip(axes, range(3)):
    for neuron in range(10):
        t_torch = np.flatnonzero(reference[sample, neuron])
        t_fixed = np.flatnonzero(runs["fixed"].output[sample, neuron])
        ax.scatter(t_torch, np.full(len(t_torch), neuron), marker="o", s=60, facecolors="none",
                   edgecolors="C0", label="torch (slayer)" if neuron == 0 else None)
        ax.scatter(t_fixed, np.full(len(t_fixed), neuron), marker="x", s=30, color="C3",
                   label="Lava fixed point" if neuron == 0 else None)
    ax.set(title=f"test sample {sample}, label {labels[sample]}", xlabel="step", xlim=(-0.5, steps - 0.5))
axes[0].set(ylabel="output neuron", yticks=range(10))
axes[0].legend(fontsize=7, loc="upper left")
fig.suptitle("Output spikes: torch against Lava")
fig.tight_layout()
fig.savefig(FIGURES / "03_raster_torch_vs_lava.png", dpi=100)

# %% [markdown]
# ## An LTC network in Lava, through the command line
#
# LTC layers are written as netx dense layers with neuron type `LTC` / `LTC_READOUT`
# (`docs/netx_ltc_format.md`); `netx_export.load_network` builds them with Lava's `Dense`
# and our `LTC` / `LTCReadout` processes. A short training run is enough to check the
# path; `compare_with_torch` (what `lava-fptt run --reference` reports) compares the hidden
# spikes (`spike_match`) and the readout's graded values (`readout_match`, the fraction that
# are identical).

# %%
from netx_export.inference import accuracy as lava_accuracy, compare_with_torch

ltc_dir = RUNS / "ltc"
rows = Encoding("rows", steps=16)
channels = load_dataset("digits", "test", encoding=rows).num_channels
ltc_config = TrainConfig(dataset="digits", encoding=rows, network=NetworkConfig(sizes=(channels, 32, 10), model="ltc",
                                                                                recurrent=True),
                         algo="bptt", epochs=1, lr=3e-3, seed=0)
train(ltc_config, ltc_dir, progress=False)
_, ltc_model, _ = load_run(ltc_dir)
ltc_path = export_network(ltc_model, ltc_dir / "network.net", {"dataset": "digits", "encoding": rows.to_dict()})
ltc_test = load_dataset("digits", "test", encoding=rows)
ltc_inputs, ltc_labels = ltc_test.spikes(np.arange(40)), ltc_test.labels[:40]
ltc_runs = {}
for precision in ("fixed", "float"):
    lava = run_in_lava(ltc_path, ltc_inputs, precision)
    ltc_runs[precision] = {"accuracy": lava_accuracy(lava.output, ltc_labels, "readout"),
                           **compare_with_torch(lava, ltc_model, ltc_inputs, ltc_labels)}
for precision, result in ltc_runs.items():
    print(f"LTC in Lava {precision:5s}: accuracy {result['accuracy']:.3f} (torch {result['reference_accuracy']:.3f}), "
          f"hidden spike_match {result['spike_match']:.4f}, readout_match {result['readout_match']:.4f}, "
          f"largest readout difference {result['readout_max_abs_diff']:.2e}")
assert ltc_runs["fixed"]["spike_match"] == 1.0 and ltc_runs["fixed"]["readout_match"] == 1.0
assert ltc_runs["fixed"]["identical_samples"] == 40

# %% [markdown]
# In fixed point the LTC network is bit-identical to its quantization-aware torch model:
# every hidden spike and every readout value of all 40 samples. In floating point the
# float LTC models run with the parameters the integers stand for, without the integer
# rounding of the gates and states (the error of tutorial 2), so a few spikes and readout
# values differ and the accuracy stays close.
#
# ## What to take away
#
# - One file carries the network from lava-dl to Lava; CUBA-only files stay loadable by
#   plain netx, LTC layers extend the format.
# - In Lava's fixed-point simulation, what was trained is what runs: `spike_match` 1.0
#   for CUBA, and for LTC identical hidden spikes and readout values. The full-size
#   measurements (`docs/online-results.md`) found `spike_match` 1.0 for all 20 exported
#   networks of the accuracy benchmark (every method, both encodings).
# - The floating-point models are there for comparison; the fixed-point ones are the
#   ones that say what a chip with Loihi 2's integer arithmetic would compute.
