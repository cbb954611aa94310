"""The learning driver: outputs, files, both engines agreeing, and actual learning."""
from __future__ import annotations

import json
import pathlib

import numpy as np

from lava_fptt.data import load_dataset
from lava_fptt.onchip.ann import ann_baseline_accuracy
from lava_fptt.onchip.learn import learn
from lava_fptt.onchip.storage import load_network


def test_reference_run_reports_and_saves(tmp_path: pathlib.Path) -> None:
    result = learn("digits", engine="reference", steps_per_sample=8, epochs=1, samples=60, hidden=16, seed=4,
                   out_dir=tmp_path, progress=False, evaluations=3)
    assert [point["samples"] for point in result["curve"]] == [0, 20, 40, 60]
    assert all(0.0 <= point["accuracy"] <= 1.0 for point in result["curve"])
    assert result["accuracy"] == result["curve"][-1]["accuracy"]
    assert 0.0 < result["ann_baseline_accuracy"] <= 1.0
    assert result["steps"] == 60 * 8 + 3 and result["steps_per_s"] > 0 and result["samples_per_s"] > 0
    config, w1, w2 = load_network(tmp_path / "network.npz")
    assert (config.n_in, config.n_hidden, config.n_out, config.steps_per_sample) == (64, 16, 10, 8)
    assert w1.shape == (16, 64) and w2.shape == (10, 16)
    assert (tmp_path / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "result.json").read_text())["accuracy"] == result["accuracy"]


def test_lava_and_reference_engines_end_with_the_same_network(tmp_path: pathlib.Path) -> None:
    runs = {}
    for engine in ("lava", "reference"):
        runs[engine] = learn("digits", engine=engine, steps_per_sample=6, samples=30, hidden=12, seed=9,
                             out_dir=tmp_path / engine, progress=False, evaluations=3)
    lava, reference = (load_network(tmp_path / engine / "network.npz") for engine in ("lava", "reference"))
    np.testing.assert_array_equal(lava[1], reference[1])
    np.testing.assert_array_equal(lava[2], reference[2])
    assert runs["lava"]["curve"] == runs["reference"]["curve"]


def test_reference_learns_digits() -> None:
    result = learn("digits", engine="reference", steps_per_sample=16, epochs=2, hidden=64, seed=0,
                   progress=False, batch=8, evaluations=2, ann_epochs=5)
    assert result["curve"][0]["accuracy"] < 0.3
    assert result["accuracy"] > 0.85
    assert result["ann_baseline_accuracy"] > 0.93


def test_ann_baseline_learns_digits() -> None:
    train, test = load_dataset("digits", "train"), load_dataset("digits", "test")
    flat = lambda data: data.source.images.reshape(len(data), -1)  # noqa: E731
    assert ann_baseline_accuracy(flat(train), train.labels, flat(test), test.labels, n_hidden=32, epochs=5) > 0.93
