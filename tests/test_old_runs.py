"""Run directories written before networks became lava-dl block chains still load; misfits are refused."""
from __future__ import annotations

import json
import pathlib
import re
import shutil

import pytest
import torch

from lava_fptt.models.network import migrate_state_dict
from lava_fptt.training import RunDirError, load_run
from lava_fptt.training.checkpoint import load, save_atomic

NEW_CONFIG_KEYS = {"network": ("arch", "input_shape", "source"), "encoding": ("layout",)}


def old_copy(run_dir: pathlib.Path, target: pathlib.Path) -> pathlib.Path:
    """``run_dir`` as an earlier version wrote it: CUBA layers named ``layers.<i>.block.*``, no new config keys."""
    shutil.copytree(run_dir, target)
    state = load(target / "checkpoint.pt")
    state["model"] = {re.sub(r"^blocks\.(\d+)\.", r"layers.\1.block.", name): value
                      for name, value in state["model"].items()}
    save_atomic(state, target / "checkpoint.pt")
    config = json.loads((target / "config.json").read_text())
    for section, keys in NEW_CONFIG_KEYS.items():
        for key in keys:
            config[section].pop(key)
    (target / "config.json").write_text(json.dumps(config))
    return target


def test_a_run_of_the_earlier_layout_loads_with_the_same_weights(trained_cuba_run: pathlib.Path,
                                                                 tmp_path: pathlib.Path) -> None:
    old = old_copy(trained_cuba_run, tmp_path / "old")
    assert "layers.0.block.synapse.weight" in load(old / "checkpoint.pt")["model"]
    _, model, _ = load_run(old)
    _, today, _ = load_run(trained_cuba_run)
    for (name, a), (_, b) in zip(model.net.state_dict().items(), today.net.state_dict().items()):
        assert torch.equal(a, b), name
    assert migrate_state_dict({"layers.1.mem_gate_bias": 1}, "net.") == {"net.blocks.1.mem_gate_bias": 1}


def test_a_checkpoint_that_does_not_fit_its_config_is_refused_naming_the_run(trained_cuba_run: pathlib.Path,
                                                                            tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad"
    shutil.copytree(trained_cuba_run, bad)
    state = load(bad / "checkpoint.pt")
    state["model"]["blocks.0.synapse.weight"] = state["model"]["blocks.0.synapse.weight"][:3]
    save_atomic(state, bad / "checkpoint.pt")
    with pytest.raises(RunDirError, match=rf"^{bad}: the checkpoint does not fit the network its config describes"):
        load_run(bad)
