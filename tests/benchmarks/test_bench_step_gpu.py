"""The GPU benchmark script runs the CPU benchmark's workloads on a device: its rows are
built on the device asked for, and its eager rows do the same work as on CPU."""

import torch

from benchmarks import bench_step as bs
from benchmarks import bench_step_gpu as gpu


def test_grid_rows_on_cpu_match_the_cpu_benchmark():
    rows = gpu.grid_variants(2, torch.device("cpu"))
    assert [v.name for v in rows] == ["hand eager", "hand compiled", "cdl eager",
                                      "cdl compiled"]  # CUDA graphs only on a GPU
    grid, nets, critics, batch = bs.grid_setup(2)
    reference = bs.HandGrid(grid, nets, critics, batch).step()
    by = {v.name: v for v in rows}
    loss_g, loss_d = by["hand eager"].step()
    assert torch.allclose(loss_g, reference[0]) and torch.allclose(loss_d, reference[1])
    cdl = by["cdl eager"].step()
    assert torch.allclose(cdl["total"], reference[0], rtol=1e-5)


def test_the_verdict_takes_the_better_compiled_cdl_row():
    rows = [bs.Variant(name, lambda: None) for name in
            ("hand eager", "cdl compiled", "cdl compiled + CUDA graphs")]
    for v, t in zip(rows, (1.0, 0.6, 0.4), strict=True):
        v.times = [t]
    assert gpu.verdict(rows) == "- cdl compiled ≥ 2× hand eager: 2.50× — met"
    rows[2].times = [0.7]
    assert gpu.verdict(rows) == "- cdl compiled ≥ 2× hand eager: 1.67× — NOT met"
