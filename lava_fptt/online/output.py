"""What a network's output means: spikes or a graded readout, and the class each gives."""
from __future__ import annotations

import torch

OUTPUT_KINDS = ("spikes", "readout")


def predict(output: torch.Tensor, kind: str = "spikes") -> torch.Tensor:
    """Class of each sample from outputs ``[B, K, T]`` (lowest index on ties).

    ``kind="spikes"``: the output with the largest sum over time (most spikes).
    ``kind="readout"``: the output with the largest value at the last step (LTC readout).
    Values are compared in float64, where spike counts and readout values (24-bit
    integers / 4096) are exact, so the argmax is the one Lava's integer outputs give.
    """
    if kind == "spikes":
        return output.to(torch.float64).sum(dim=-1).argmax(dim=-1)
    if kind == "readout":
        return output[..., -1].to(torch.float64).argmax(dim=-1)
    raise ValueError(f"output kind must be one of {OUTPUT_KINDS}, got {kind!r}")
