"""Error of the LTC integer form against the float form (numbers for docs/ltc_fixed_point.md).

Random layers of LTC neurons and readouts are driven by random weighted spike input
for 1000 steps. Reported:

- sigmoid: largest error of the integer sigmoid over every 16-bit pre-activation;
- one step: from the same state, one integer step against one float step (the
  per-step arithmetic error, which the tests bound);
- free run: both forms run on their own for the whole sequence (errors compound once
  a spike differs, because the reset and adaptation then differ);
- with the float parameters as trained (``float``) or as the integers stand for them
  (``dequantized``); the difference is the parameter quantization.

Run: ``python benchmarks/ltc_fixed_point_error.py [--neurons 256] [--steps 1000] [--seeds 5]``.
"""
from __future__ import annotations

import argparse

import numpy as np

from lava_fptt.neurons.ltc import (
    ONE,
    LTCParams,
    LTCState,
    ReadoutParams,
    ReadoutState,
    dequantize,
    ltc_step,
    ltc_step_int,
    quantize,
    readout_step,
    readout_step_int,
    sigmoid_int,
)


def random_setup(n: int, steps: int, weight: float, rng: np.random.Generator
                 ) -> tuple[LTCParams, ReadoutParams, np.ndarray]:
    """Parameters in the range training starts from, and integer synaptic input (weight units)
    from 64 inputs spiking at rate 0.2 through weights uniform in ``[-weight, weight]``."""
    params = LTCParams(
        mem_gate_i=rng.normal(0.0, 0.5, n), mem_gate_u=rng.normal(0.0, 0.5, n),
        mem_gate_bias=rng.normal(0.0, 1.0, n), adp_gate_i=rng.normal(0.0, 0.5, n),
        adp_gate_b=rng.normal(0.0, 0.5, n), adp_gate_bias=rng.normal(2.0, 1.0, n),
        bias=rng.normal(0.0, 0.1, n),
    )
    readout = ReadoutParams(mem_gate_i=rng.normal(0.0, 0.5, n), mem_gate_u=rng.normal(0.0, 0.5, n),
                            mem_gate_bias=rng.normal(0.0, 1.0, n), bias=rng.normal(0.0, 0.1, n))
    n_in = 64
    half_range = int(round(weight * 32))  # weights are even integers, 64 == 1.0
    weights = 2 * rng.integers(-half_range, half_range + 1, (n, n_in))
    spikes = rng.random((steps, n_in)) < 0.2
    return params, readout, spikes.astype(np.int64) @ weights.T


def sigmoid_error() -> float:
    """Largest |sigmoid_int(z) / 4096 - sigmoid(z / 4096)| over 16-bit z."""
    z = np.arange(-(1 << 15), 1 << 15, dtype=np.int64)
    return float(np.abs(sigmoid_int(z) / ONE - 1.0 / (1.0 + np.exp(-z / ONE))).max())


def one_step_errors(params: LTCParams, x: np.ndarray) -> dict[str, float]:
    """Integer run; at each step a float step from the same state is compared with it."""
    q = quantize(params)
    fp = dequantize(q)
    n = x.shape[1]
    state = LTCState(*(np.zeros(n, np.int64) for _ in range(3)))
    du, db, flips = [], [], 0
    for t in range(x.shape[0]):
        f_state = LTCState(state.u / ONE, state.b / ONE, state.s.astype(np.float64))
        s_f, new_f = ltc_step(x[t] / 64.0, f_state, fp)
        s_i, state = ltc_step_int(x[t], state, q)
        same = s_f == s_i
        flips += int((~same).sum())
        du.append(np.abs(state.u / ONE - new_f.u)[same])
        db.append(np.abs(state.b / ONE - new_f.b))
    du, db = np.concatenate(du), np.concatenate(db)
    return {"max_du": du.max(), "rms_du": np.sqrt((du ** 2).mean()), "max_db": db.max(),
            "flip_rate": flips / x.size}


def free_run(params: LTCParams, x: np.ndarray, compare: str) -> dict[str, float]:
    """Two runs on their own for the whole input, reference: float form, dequantized params.

    ``compare`` picks the other run: ``"int"`` (integer form), ``"float params"`` (integer
    form against the float form with the unquantized params) or ``"1 LSB"`` (float form
    again, its initial membrane moved by 1/4096: how far any tiny difference carries).
    """
    q = quantize(params)
    n = x.shape[1]
    s_int = LTCState(*(np.zeros(n, np.int64) for _ in range(3)))
    ref_params = params if compare == "float params" else dequantize(q)
    s_flt = LTCState(*(np.zeros(n) for _ in range(3)))
    s_lsb = s_flt._replace(u=np.full(n, 1.0 / ONE))
    spikes_i, spikes_f, u_i, u_f = [], [], [], []
    for t in range(x.shape[0]):
        if compare == "1 LSB":
            si, s_lsb = ltc_step(x[t] / 64.0, s_lsb, ref_params)
            u_i.append(s_lsb.u)
        else:
            si, s_int = ltc_step_int(x[t], s_int, q)
            u_i.append(s_int.u / ONE)
        sf, s_flt = ltc_step(x[t] / 64.0, s_flt, ref_params)
        spikes_i.append(si)
        spikes_f.append(sf)
        u_f.append(s_flt.u)
    spikes_i, spikes_f = np.array(spikes_i), np.array(spikes_f)
    first_diff = np.argmax(spikes_i != spikes_f, axis=0).astype(float)
    first_diff[(spikes_i == spikes_f).all(axis=0)] = np.nan
    return {
        "agree": float((spikes_i == spikes_f).mean()),
        "rate_int": float(spikes_i.mean()), "rate_float": float(spikes_f.mean()),
        "identical_neurons": float((spikes_i == spikes_f).all(axis=0).mean()),
        "median_first_diff": float(np.nanmedian(first_diff)) if np.isfinite(first_diff).any() else np.nan,
        "rms_du": float(np.sqrt(((np.array(u_i) - np.array(u_f)) ** 2).mean())),
        "rms_u": float(np.sqrt((np.array(u_f) ** 2).mean())),
    }


def readout_run(params: ReadoutParams, x: np.ndarray, compare: str) -> dict[str, float]:
    """The readout on its own for the whole input; ``compare`` as for :func:`free_run`."""
    q = quantize(params)
    fp = params if compare == "float params" else dequantize(q)
    n = x.shape[1]
    s_int, s_flt = ReadoutState(np.zeros(n, np.int64)), ReadoutState(np.zeros(n))
    s_lsb = ReadoutState(np.full(n, 1.0 / ONE))
    diff, scale = [], []
    for t in range(x.shape[0]):
        if compare == "1 LSB":
            y, s_lsb = readout_step(x[t] / 64.0, s_lsb, fp)
            yi = y * ONE
        else:
            yi, s_int = readout_step_int(x[t], s_int, q)
        yf, s_flt = readout_step(x[t] / 64.0, s_flt, fp)
        diff.append(yi / ONE - yf)
        scale.append(yf)
    diff, scale = np.array(diff), np.array(scale)
    return {"max_du": float(np.abs(diff).max()), "rms_du": float(np.sqrt((diff ** 2).mean())),
            "rms_u": float(np.sqrt((scale ** 2).mean()))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=256)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--weight", type=float, default=1.0, help="input weights in [-w, w]")
    args = parser.parse_args()
    print(f"sigmoid: max error {sigmoid_error() * ONE:.3f} / 4096")
    rows: dict[str, list[dict[str, float]]] = {}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        params, readout, x = random_setup(args.neurons, args.steps, args.weight, rng)
        rows.setdefault("one step", []).append(one_step_errors(params, x))
        for compare in ("int", "float params", "1 LSB"):
            rows.setdefault(f"free run, {compare}", []).append(free_run(params, x, compare))
            rows.setdefault(f"readout, {compare}", []).append(readout_run(readout, x, compare))
    print(f"{args.neurons} neurons, {args.steps} steps, weights in [-{args.weight}, {args.weight}], "
          f"{args.seeds} seeds (mean over seeds; max for max_*)")
    for name, results in rows.items():
        summary = {k: (np.max if k.startswith("max") else np.mean)([r[k] for r in results])
                   for k in results[0]}
        print(f"{name:30s} " + "  ".join(f"{k}={v:.5g}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
