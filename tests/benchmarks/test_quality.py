"""The quality benchmark's smoke version: every experiment of the table trains a few steps
through its ``cdl train`` command, is evaluated and lands in the table."""

import json
import math

from benchmarks import quality


def test_quick_run_fills_every_row(tmp_path, capsys, monkeypatch):
    out = tmp_path / "runs"
    record = tmp_path / "values.json"
    assert quality.main(["--quick", "--out", str(out), "--json", str(record)]) == 0
    text = capsys.readouterr().out
    runs = json.loads(record.read_text())
    for spec in quality.SPECS:
        mine = [r for r in runs if r["experiment"] == spec.name]
        assert len(mine) == (2 if spec.ablate else 1), spec.name
        assert f"`{spec.name}`" in text
        for r in mine:
            assert r["steps"] == 4 and "--steps 4" in " ".join(r["command"])
            shown = [c.key for c in (*spec.truth, *spec.baseline, *spec.residuals)]
            missing = [k for k in shown if k not in r]
            assert not missing, f"{spec.name} does not evaluate {missing}"
            assert all(math.isfinite(r[k]) for k in shown)
    assert "off (ablation)" in text and "--equation-weight 0" in text
    # --reuse keeps finished runs: nothing trains the second time
    monkeypatch.setattr(quality, "train", lambda run: (_ for _ in ()).throw(AssertionError))
    assert quality.main(["--quick", "--out", str(out), "--reuse"]) == 0
