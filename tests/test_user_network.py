"""A user's own lava-dl network class, trained from the command line: train, resume, export, run.

The class is ``tutorials/digits_convnet.py:Network`` (conv, pool, conv, flatten, dense, as
lava-dl's tutorials write networks), trained from a copy in a temporary directory that is
then changed, to show that the run keeps working from its own copy.
"""
from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from lava_fptt.cli import main

NETWORK = pathlib.Path(__file__).resolve().parents[1] / "tutorials" / "digits_convnet.py"
BAD_BLOCKS = {
    "delay": "slayer.block.cuba.Dense(P, 64, 10, delay=True)",
    "family": "slayer.block.sigma_delta.Dense({'threshold': 0.1, 'activation': torch.relu}, 64, 10)",
}


@pytest.fixture(scope="module")
def user_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[pathlib.Path, pathlib.Path]:
    """(run directory, the user's file) after one epoch of SLTT from the command line."""
    folder = tmp_path_factory.mktemp("user")
    source = folder / "my_net.py"
    shutil.copyfile(NETWORK, source)
    run_dir = folder / "run"
    assert main(["train", "--network", f"{source}:Network", "--algo", "sltt", "--epochs", "1",
                 "--train-limit", "128", "--out", str(run_dir), "--no-progress", "--json"]) == 0
    return run_dir, source


@pytest.mark.slow
def test_the_run_keeps_the_file_and_reads_the_layout_from_the_first_block(user_run) -> None:
    run_dir, source = user_run
    assert (run_dir / "network.py").read_bytes() == source.read_bytes()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["network"]["source"]["class_name"] == "Network"
    assert config["encoding"]["layout"] == "image" and config["network"]["input_shape"] == [1, 8, 8]


@pytest.mark.slow
def test_export_run_and_resume_work_after_the_file_changes_and_moves(user_run, export_and_run, capsys) -> None:
    run_dir, source = user_run
    source.write_text(source.read_text().replace("16 * 4 * 4, 10", "16 * 4 * 4, 12"))  # a different network now
    moved = source.with_name("moved.py")
    source.rename(moved)
    result = export_and_run(run_dir, 6)
    assert result["spike_match"] == 1.0 and result["identical_samples"] == 6
    assert result["accuracy"] == result["reference_accuracy"]
    assert main(["train", "--network", f"{moved}:Network", "--algo", "sltt", "--epochs", "2", "--train-limit", "128",
                 "--out", str(run_dir), "--no-progress", "--json"]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["epochs"] == 2 and "resuming with" in out.err


@pytest.mark.parametrize("kind", list(BAD_BLOCKS))
def test_a_network_the_engine_cannot_carry_is_refused_in_one_line_and_nothing_is_written(
        kind: str, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "bad.py"
    source.write_text(
        "import torch\nfrom lava.lib.dl import slayer\n"
        "P = {'threshold': 1.25, 'current_decay': 0.25, 'voltage_decay': 0.03}\n"
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        f"        self.blocks = torch.nn.ModuleList([slayer.block.cuba.Dense(P, 64, 64), {BAD_BLOCKS[kind]}])\n"
        "    def forward(self, x):\n"
        "        for b in self.blocks:\n"
        "            x = b(x)\n"
        "        return x\n")
    run_dir = tmp_path / "run"
    assert main(["train", "--network", f"{source}:Net", "--out", str(run_dir), "--json"]) == 2
    out = capsys.readouterr()
    error = json.loads(out.out)["error"]
    assert error.startswith("block 1 ('blocks.1', slayer.block.") and "\n" not in error
    assert ("learnable axonal delay" in error) if kind == "delay" else ("family 'sigma_delta'" in error)
    assert out.err.count("\n") == 1 and not run_dir.exists()


@pytest.mark.parametrize("spec,message", [("net.py", "expected FILE.py:CLASS"),
                                          ("missing.py:Net", "cannot read the network file"),
                                          (f"{NETWORK}:Nope", "has no torch.nn.Module class named Nope")])
def test_bad_network_specs_are_refused(spec: str, message: str, tmp_path: pathlib.Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--network", spec, "--out", str(tmp_path / "run")]) == 2
    assert message in capsys.readouterr().err and not (tmp_path / "run").exists()
