"""Reading the values of a netx layer group (h5py) as netx writers store them."""
from __future__ import annotations

from typing import Any, Optional


def dataset_text(value: Any) -> str:
    """A string read from a dataset: slayer writes an ``S10`` array of one, others a scalar."""
    if hasattr(value, "__len__") and not isinstance(value, (str, bytes)):
        value = value[0]
    return value.decode("ascii") if isinstance(value, bytes) else str(value)


def neuron_type(group: Any) -> Optional[str]:
    """``neuron/type`` of an h5py layer group, or None when the layer has no neuron."""
    if "neuron" not in group or "type" not in group["neuron"]:
        return None
    return dataset_text(group["neuron"]["type"][()])
