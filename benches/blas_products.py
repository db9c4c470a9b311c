"""The products of the W3 and W4 steps through numpy's BLAS (OpenBLAS in
the wheels pip installs), or with `--xla` through XLA (`jax.jit`, as the
JAX peer runs them), as `cargo bench --bench workloads -- gemm/` times
nabla's: forward x·Wᵀ, weight gradient δᵀ·x, input gradient δ·W, f32,
GFLOP/s over the median and the fastest of 50 runs (2 flops per
multiply-add), then the sum of the medians of one W4 step's five large
products (both forward products, both weight gradients, the second
layer's input gradient).

    OPENBLAS_NUM_THREADS=2 target/peer-venv/bin/python benches/blas_products.py
    PERF_THREADS=2 target/peer-venv/bin/python benches/blas_products.py --xla

(the virtual environment `benches/peer-data.sh` makes, which has numpy;
`benches/peers.sh` adds JAX to it).

It shows what a hand-tuned BLAS, and the compiler the JAX peer runs on,
reach on these shapes on the machine, beside what nabla's products reach
there.
"""

import os
import sys
import time

import numpy as np

SHAPES = [("W3", 128, 784, 256), ("W4", 256, 784, 1024), ("W4", 256, 1024, 1024)]
# The products of a W4 step that `step_products` adds up, by (shape, name).
W4_STEP = [
    ("W4/256x784x1024", "forward x·Wt"),
    ("W4/256x784x1024", "weight grad dt·x"),
    ("W4/256x1024x1024", "forward x·Wt"),
    ("W4/256x1024x1024", "weight grad dt·x"),
    ("W4/256x1024x1024", "input grad d·W"),
]


def seconds(product):
    """The median and the fastest of 50 timed runs, after 5 untimed."""
    for _ in range(5):
        product()
    times = []
    for _ in range(50):
        start = time.perf_counter()
        product()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2], times[0]


def numpy_products(x, w, delta):
    return [
        ("forward x·Wt", lambda: x @ w.T),
        ("weight grad dt·x", lambda: delta.T @ x),
        ("input grad d·W", lambda: delta @ w),
    ]


def xla_products(x, w, delta):
    threads = os.environ.get("PERF_THREADS", "2")
    os.environ.setdefault(
        "XLA_FLAGS",
        f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={threads}",
    )
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_platforms", "cpu")
    x, w, delta = (jnp.asarray(a) for a in (x, w, delta))
    forward = jax.jit(lambda x, w: x @ w.T)
    weight_grad = jax.jit(lambda delta, x: delta.T @ x)
    input_grad = jax.jit(lambda delta, w: delta @ w)
    return [
        ("forward x·Wt", lambda: forward(x, w).block_until_ready()),
        ("weight grad dt·x", lambda: weight_grad(delta, x).block_until_ready()),
        ("input grad d·W", lambda: input_grad(delta, w).block_until_ready()),
    ]


def main():
    xla = "--xla" in sys.argv[1:]
    rng = np.random.default_rng(3)
    if xla:
        import jax

        print(f"jax {jax.__version__}, XLA on the CPU")
    else:
        config = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        print(f"numpy {np.__version__}, BLAS {config['name']} {config['version']}")
    medians = {}
    for workload, rows, inputs, outputs in SHAPES:
        x = rng.standard_normal((rows, inputs), dtype=np.float32)
        w = rng.standard_normal((outputs, inputs), dtype=np.float32)
        delta = rng.standard_normal((rows, outputs), dtype=np.float32)
        flops = 2 * rows * inputs * outputs
        shape = f"{workload}/{rows}x{inputs}x{outputs}"
        products = xla_products if xla else numpy_products
        for name, product in products(x, w, delta):
            median, fastest = seconds(product)
            medians[(shape, name)] = median
            print(
                f"{shape}/{name}: {flops / median / 1e9:.0f} GFLOP/s "
                f"(fastest {flops / fastest / 1e9:.0f}), {median * 1e3:.3f} ms"
            )
    step = sum(medians[key] for key in W4_STEP)
    print(f"W4 step, five products: {step * 1e3:.2f} ms (sum of the medians)")


if __name__ == "__main__":
    main()
