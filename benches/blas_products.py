"""The products of the W3 and W4 steps through numpy's BLAS (OpenBLAS in
the wheels pip installs), as `cargo bench --bench workloads -- gemm/`
times nabla's: forward x·Wᵀ, weight gradient δᵀ·x, input gradient δ·W,
f32, GFLOP/s over the median of 50 runs (2 flops per multiply-add).

    OPENBLAS_NUM_THREADS=2 target/peer-venv/bin/python benches/blas_products.py

(the virtual environment `benches/peer-data.sh` makes, which has numpy).

It shows what a hand-tuned BLAS reaches on these shapes on the machine,
beside what nabla's products reach there.
"""

import time

import numpy as np

SHAPES = [("W3", 128, 784, 256), ("W4", 256, 784, 1024), ("W4", 256, 1024, 1024)]


def gflops(product, flops):
    for _ in range(5):
        product()
    times = []
    for _ in range(50):
        start = time.perf_counter()
        product()
        times.append(time.perf_counter() - start)
    return flops / sorted(times)[len(times) // 2] / 1e9


def main():
    rng = np.random.default_rng(3)
    config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    print(f"numpy {np.__version__}, BLAS {config['name']} {config['version']}")
    for workload, rows, inputs, outputs in SHAPES:
        x = rng.standard_normal((rows, inputs), dtype=np.float32)
        w = rng.standard_normal((outputs, inputs), dtype=np.float32)
        delta = rng.standard_normal((rows, outputs), dtype=np.float32)
        flops = 2 * rows * inputs * outputs
        shape = f"{workload}/{rows}x{inputs}x{outputs}"
        for name, product in [
            ("forward x·Wt", lambda: x @ w.T),
            ("weight grad dt·x", lambda: delta.T @ x),
            ("input grad d·W", lambda: delta @ w),
        ]:
            print(f"{shape}/{name}: {gflops(product, flops):.0f} GFLOP/s")


if __name__ == "__main__":
    main()
