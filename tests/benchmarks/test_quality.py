"""The quality benchmark's smoke version: every experiment of the table trains a few steps
through its ``cdl train`` command, is evaluated and lands in the table, with its worst
decile (or class coverage) and a sample grid that shows its worst held-out inputs."""

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
            shown = [c.key for c in (*spec.truth, *spec.tails, *spec.baseline,
                                     *spec.residuals)]
            missing = [k for k in shown if k not in r]
            assert not missing, f"{spec.name} does not evaluate {missing}"
            assert all(math.isfinite(r[k]) for k in shown)
    assert "off (ablation)" in text and "--equation-weight 0" in text
    assert "| worst decile / class coverage |" in text.splitlines()[0]
    # the new columns: a worst decile beside every ratio of a ground truth; coverage, the
    # copy check and the share of doubtful codes for the GAN
    tails = {spec.name: {c.key for c in spec.tails} for spec in quality.SPECS}
    for name in ("cyclegan_fonts", "cyclegan_fonts_serif", "product_emoji", "triangle_fonts",
                 "equalizer_circles"):
        spec = next(s for s in quality.SPECS if s.name == name)
        ratios = [c.key for c in spec.truth if c.kind == "ratio"]
        assert tails[name] == {k.replace("/ratio", "/worst_decile_ratio") for k in ratios}, name
    assert tails["gan_glyphs"] == {"eval/gen/coverage", "eval/gen/real_coverage",
                                   "eval/gen/copies", "eval/gen/doubtful_codes"}
    for r in runs:
        for key in tails[r["experiment"]]:
            assert isinstance(r[key], float) and math.isfinite(r[key]), (r["experiment"], key)
            assert r[key] >= 0
        if r["experiment"] == "gan_glyphs":
            assert 0 <= r["eval/gen/coverage"] <= 1 and 0.8 < r["eval/gen/real_coverage"] <= 1
            assert 0 <= r["eval/gen/doubtful_codes"] <= 1
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert all(line.count(" | ") == 9 for line in rows)  # ten cells in every row
    assert any("f worst decile" in line for line in rows)
    assert any("class coverage (1000 samples)" in line for line in rows)
    # a grid per experiment, the worst held-out inputs under the first ones
    for spec in quality.SPECS:
        assert (out / "grids" / f"{spec.name}.png").is_file(), spec.name
    first = next(r for r in runs if r["experiment"] == "cyclegan_fonts" and r["equations"])
    spec = quality.SPECS[0]
    labels = [label for label, _ in quality.grid_rows(
        quality.Run(spec, first["seed"], True, out / "cyclegan_fonts-eq-s0", first["command"]))]
    assert labels[:2] == ["x", "f(x)"] and "truth: Bold" in labels
    worst = [label for label in labels if label.startswith("worst by f's MAE: ")]
    assert len(worst) == len(labels) // 2 and worst[0] == "worst by f's MAE: x"
    # --reuse keeps finished runs: nothing trains the second time
    monkeypatch.setattr(quality, "train", lambda run: (_ for _ in ()).throw(AssertionError))
    assert quality.main(["--quick", "--out", str(out), "--reuse"]) == 0
