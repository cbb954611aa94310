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
# # 2. The LTC neuron: dynamics, float against integer form, training with FPTT
#
# **Goal.** Drive a few liquid-time-constant (LTC) spiking neurons and watch their
# input-dependent time constant and adaptive threshold; run the same neurons in the
# float form and in the integer form that Lava's fixed-point model executes and measure
# how far apart they are; then train a recurrent LTC network with FPTT.
#
# One definition serves everything: `lava_fptt.neurons.ltc` holds pure step functions
# `ltc_step` (float) and `ltc_step_int` (integer, Loihi 2 register widths) that the
# training blocks, the Lava ProcessModels and the tests all call. The arithmetic and its
# widths are documented in `docs/ltc_fixed_point.md`.

# %%
import json
import pathlib
import warnings

warnings.filterwarnings("ignore", message=".*Overriding a previously registered kernel.*")
warnings.filterwarnings("ignore", message="Warning only once for all operators")

import matplotlib.pyplot as plt
import numpy as np
import torch

from lava_fptt.data import Encoding, load_dataset
from lava_fptt.models.network import NetworkConfig
from lava_fptt.neurons import (LTCIntParams, LTCState, dequantize, ltc_step, ltc_step_int, quantize,
                               sigmoid_int)
from lava_fptt.neurons.ltc import ONE, PARAM_WIDTHS
from lava_fptt.training import TrainConfig, load_run, train

torch.set_num_threads(1)
HERE = pathlib.Path(__file__).resolve().parent if "__file__" in globals() else pathlib.Path.cwd()  # a notebook runs here
FIGURES = HERE / "figures"  # beside the tutorial, wherever it is run from
RUNS = HERE / "runs" / "02"
FIGURES.mkdir(exist_ok=True)

# %% [markdown]
# ## The dynamics
#
# Per step, with synaptic input `x` (already summed by the `Dense` synapse):
#
# ```
# I       = x + bias
# tau_m   = sigmoid(mem_gate_i * I + mem_gate_u * u + mem_gate_bias)     # input-dependent time constant
# tau_adp = sigmoid(adp_gate_i * I + adp_gate_b * b + adp_gate_bias)
# b       = tau_adp * b + (1 - tau_adp) * s                              # adaptation
# theta   = b0 + beta * b                                                # adaptive threshold
# u       = u + tau_m * (I - u)
# s       = u > theta;   u = u * (1 - reset_frac * s)
# ```
#
# We take three neurons whose membrane gates differ (fast, medium, slow), set their
# parameters as integers (the scales are in `PARAM_SCALES`: 256 stands for 1.0 in a gate
# coefficient, 4096 in a gate bias, 64 in the input and bias), and feed them a step of
# input current: off for 40 steps, on for 120, off again.

# %%
n, steps = 3, 200
params_int = LTCIntParams(
    mem_gate_i=np.array([64, 64, 64]), mem_gate_u=np.array([0, 0, 0]),
    mem_gate_bias=np.array([0, -2 * ONE, -4 * ONE]),          # sigmoid(0), sigmoid(-2), sigmoid(-4)
    adp_gate_i=np.zeros(n, dtype=np.int64), adp_gate_b=np.zeros(n, dtype=np.int64),
    adp_gate_bias=np.full(n, 3 * ONE),                        # slow adaptation, tau_adp = sigmoid(3)
    bias=np.zeros(n, dtype=np.int64), b0=np.full(n, 410), beta=np.full(n, 7373),
    reset_frac=np.zeros(n, dtype=np.int64))                  # no reset, as LTC networks train
params_float = dequantize(params_int)  # the float numbers the integers stand for
x_int = np.zeros((steps, n), dtype=np.int64)
x_int[40:160] = 51                                            # 0.8 in weight units (64 == 1.0)
print({name: str(width) for name, width in PARAM_WIDTHS.items()})

# %%
def run(step, x, state, params):
    trace = {"u": [], "b": [], "s": []}
    for t in range(len(x)):
        _, state = step(x[t], state, params)
        for key in trace:
            trace[key].append(getattr(state, key))
    return {key: np.array(value, dtype=np.float64) for key, value in trace.items()}

zeros_i = np.zeros(n, dtype=np.int64)
integer = run(ltc_step_int, x_int, LTCState(zeros_i, zeros_i, zeros_i), params_int)
floating = run(ltc_step, x_int / 64.0, LTCState(*(np.zeros(n),) * 3), params_float)
integer["u"] /= ONE
integer["b"] /= ONE   # integer states: 4096 == 1.0

# %%
fig, axes = plt.subplots(3, 1, figsize=(8, 6.5), sharex=True)
labels = ["fast gate", "medium gate", "slow gate"]
for j, color in enumerate(["C0", "C1", "C2"]):
    axes[0].plot(floating["u"][:, j], color=color, label=f"{labels[j]}: float u")
    axes[0].plot(integer["u"][:, j], color=color, linestyle=":", linewidth=2, label="integer u")
    theta = params_float.b0[j] + params_float.beta[j] * floating["b"][:, j]
    axes[1].plot(theta, color=color)
    spike_times = np.flatnonzero(floating["s"][:, j])
    axes[2].vlines(spike_times, j + 0.1, j + 0.9, color=color)
axes[0].plot(x_int[:, 0] / 64.0, color="gray", linewidth=0.8, label="input I")
axes[0].set(ylabel="membrane u")
axes[0].legend(fontsize=7, ncol=4, loc="upper right")
axes[1].set(ylabel="threshold theta")
axes[2].set(ylabel="spikes", xlabel="step", yticks=[0.5, 1.5, 2.5], yticklabels=labels)
fig.suptitle("LTC neurons: input-dependent time constant, adaptive threshold")
fig.tight_layout()
fig.savefig(FIGURES / "02_ltc_dynamics.png", dpi=100)

# %% [markdown]
# The fast neuron (`tau_m` = sigmoid(0) = 0.5 per step) follows its input within a few
# steps; the slow one (sigmoid(-4) = 0.018) integrates for tens of steps and fires later.
# Without a membrane reset (`reset_frac = 0`, what LTC networks use by default) the
# adaptive threshold alone limits the firing: each spike raises `b` and with it `theta`,
# until the threshold sits near the input and the neuron fires only now and then. After
# the input stops, `u` decays at each neuron's own rate. The dotted integer traces lie
# on the float ones.

# %% [markdown]
# ## Float against integer form
#
# The integer sigmoid is a 65-knot piecewise-linear table (one read, one multiply, one
# shift). Its largest error over every 16-bit input:

# %%
z = np.arange(-(1 << 15), 1 << 15, dtype=np.int64)
sigmoid_error = np.abs(sigmoid_int(z) / ONE - 1 / (1 + np.exp(-z / ONE))).max() * ONE
print(f"sigmoid: largest error {sigmoid_error:.2f} / 4096")
assert sigmoid_error < 1.6

# %% [markdown]
# For a whole population, `docs/ltc_fixed_point.md` derives a per-step bound: from the
# same state, the integer step's membrane differs from the float step's by at most
# `(1.64 |I - u| + 0.5) / 4096`. We check it on 256 random neurons over 300 steps of
# random spike input (each step restarted from the integer state), and also let both
# forms run freely and count the spike decisions that agree.

# %%
rng = np.random.default_rng(0)
n = 256
random_float = params_float._replace(
    mem_gate_i=rng.normal(0, 0.5, n), mem_gate_u=rng.normal(0, 0.5, n), mem_gate_bias=rng.normal(0, 1, n),
    adp_gate_i=rng.normal(0, 0.5, n), adp_gate_b=rng.normal(0, 0.5, n), adp_gate_bias=rng.normal(2, 1, n),
    bias=rng.normal(0, 0.1, n), b0=np.full(n, 0.1), beta=np.full(n, 1.8), reset_frac=np.full(n, 1.0))
random_int = quantize(random_float)
random_float = dequantize(random_int)              # isolate the arithmetic from parameter rounding
weights = 2 * rng.integers(-32, 33, (n, 64))       # even integers, 64 == 1.0
x_rand = (rng.random((300, 64)) < 0.2).astype(np.int64) @ weights.T

state_i = LTCState(*(np.zeros(n, dtype=np.int64),) * 3)
state_f = LTCState(*(np.zeros(n),) * 3)
worst_ratio, agree = 0.0, []
for t in range(len(x_rand)):
    # one step from the same state
    same = LTCState(*(v / ONE if k < 2 else v for k, v in enumerate(state_i)))
    _, one_f = ltc_step(x_rand[t] / 64.0, same, random_float)
    s_i, next_i = ltc_step_int(x_rand[t], state_i, random_int)
    i_now = (x_rand[t] + random_int.bias) / 64.0
    bound = (1.64 * np.abs(i_now - same.u) + 0.5) / ONE
    mask = (one_f.s == 0) & (s_i == 0)  # compare membranes where neither reset
    worst_ratio = max(worst_ratio, float((np.abs(next_i.u / ONE - one_f.u) / bound)[mask].max()))
    state_i = next_i
    # free running float form
    s_f, state_f = ltc_step(x_rand[t] / 64.0, state_f, random_float)
    agree.append(np.mean(s_f == s_i))
print(f"one step: largest |du| / bound = {worst_ratio:.3f} (at most 1: always within)")
print(f"free running, 300 steps: spike agreement {100 * np.mean(agree):.2f} %")
assert worst_ratio <= 1
assert np.mean(agree) > 0.99

# %% [markdown]
# A value that does not fit its register is refused with an error naming it, never
# wrapped:

# %%
try:
    quantize(random_float._replace(beta=np.full(n, 20.0)))   # 20 * 4096 > 16-bit unsigned
except ValueError as err:
    print("refused:", err)
else:
    raise AssertionError("an out-of-range beta was accepted")

# %% [markdown]
# ## Training an LTC network with FPTT
#
# `NetworkConfig(model="ltc", recurrent=True)` builds `LTCRecurrent` hidden layers and a
# liquid readout; training is quantization-aware by default, i.e. the forward pass runs
# the integer form above (on float64 tensors holding integers, straight-through
# gradients), so the trained network is exactly what Lava's fixed-point model runs
# (tutorial 3). The class is the readout with the largest `u` at the last step
# (`docs/ltc_training.md`).
#
# Here: digits one row per step (8 steps), 5 epochs, a 64-neuron recurrent layer; the
# command-line equivalent is
# `lava-fptt train --model ltc --recurrent --hidden 64 --encoding rows --algo fptt --chunk 1 --optimizer adam --lr 3e-3 --epochs 5 --out runs/02/ltc_fptt`.

# %%
encoding = Encoding("rows")
channels = load_dataset("digits", "test", encoding=encoding).num_channels
config = TrainConfig(dataset="digits", encoding=encoding,
                     network=NetworkConfig(sizes=(channels, 64, 10), model="ltc", recurrent=True),
                     algo="fptt", epochs=5, batch_size=32, lr=3e-3, seed=0)
result = train(config, RUNS / "ltc_fptt", progress=False)
print(f"LTC + FPTT: test accuracy {result['test_accuracy']:.3f} after {result['epochs']} epochs "
      f"({result['seconds']:.0f} s)")
assert result["test_accuracy"] > 0.7

# %%
metrics = json.loads((RUNS / "ltc_fptt" / "metrics.json").read_text())
fig, ax = plt.subplots(figsize=(5, 3.5))
ax.plot([m["epoch"] for m in metrics], [m["train_accuracy"] for m in metrics], "o-", label="train")
ax.plot([m["epoch"] for m in metrics], [m["test_accuracy"] for m in metrics], "o-", label="test")
ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1), title="recurrent LTC, FPTT, digits by rows")
ax.legend()
fig.tight_layout()
fig.savefig(FIGURES / "02_ltc_fptt_training.png", dpi=100)

# %% [markdown]
# The trained layers hold float parameters; `integer_params()` gives the integers that
# are deployed, and every one of them fits its register:

# %%
_, model, _ = load_run(RUNS / "ltc_fptt")
hidden = model.layers[0]
for name, value in hidden.integer_params()._asdict().items():
    value = np.asarray(value)
    width = PARAM_WIDTHS[name]
    assert width.lo <= value.min() and value.max() <= width.hi, name
    print(f"{name:14s} {str(width):18s} range [{value.min()}, {value.max()}]")

# %% [markdown]
# ## What to take away
#
# - The LTC neuron's time constant depends on its input and state through a gate; its
#   threshold adapts to its own firing.
# - The integer form stays within a derived per-step bound of the float form
#   (`|du| <= (1.64 |I - u| + 0.5) / 4096`, sigmoid error <= 1.6 / 4096) and agrees on
#   more than 99 % of free-running spike decisions; the full measurement
#   (`python benchmarks/ltc_fixed_point_error.py`, `docs/ltc_fixed_point.md`) gives
#   99.96 % agreement over 1000 steps.
# - Training is quantization-aware: what FPTT trains is the integer network Lava runs.
#   The full-size pixel-by-pixel digits run (T = 64, recurrent 128,
#   `docs/ltc_training.md`) is quoted in the README's results table.
