"""Where training runs: ``--device cpu | cuda | auto`` resolved once, refused clearly where it cannot be.

Every tensor the project creates during training follows the data or the parameters
(``zeros_like``, ``device=x.device``), so one ``model.to(device)`` and the batches moved
to the same device are all a run needs. On CUDA, slayer runs its CUBA neurons through its
own CUDA kernels (compiled by PyTorch's JIT on first use, which needs the CUDA toolkit);
the compiled CPU loops of :mod:`lava_fptt.neurons.cuba_fast` apply on CPU only.
"""
from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda")
"""What ``--device`` accepts (``cuda:N`` too, for a given GPU)."""


def resolve_device(name: str) -> torch.device:
    """``"auto"``: CUDA when torch sees a GPU, else the CPU; ``"cpu"``; ``"cuda"`` or ``"cuda:N"`` (checked)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name != "cpu" and not name.startswith("cuda"):
        raise ValueError(f"device must be one of {', '.join(DEVICES)} (or cuda:N), got {name!r}")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"device {name!r} is not a device name; use cpu, cuda, cuda:N or auto") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r}: this torch ({torch.__version__}) sees no CUDA GPU; "
                             "use --device cpu (or auto)")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {name!r}: only {torch.cuda.device_count()} CUDA GPU(s) here")
    return device
