"""Ratios of interleaved rounds, as `benches/peers.sh --rounds=N` runs them:
reads the log of JAX's scan (its RESULT lines) and `nabla bench --json`
(its JSON lines), one after the other in each round, and prints nabla's
median over JAX's for each workload and round.

    python benches/peer_rounds.py LOG
"""

import json
import sys


def main(path):
    # workload -> [JAX's median, nabla's median] per round, in run order
    rounds = {}
    for line in open(path, encoding="utf-8"):
        line = line.strip()
        if line.startswith("RESULT "):
            result, system = json.loads(line[len("RESULT "):]), "jax"
        elif line.startswith("{"):
            result, system = json.loads(line), "nabla"
        else:
            continue
        pairs = rounds.setdefault(result["workload"], [])
        if system == "jax":
            pairs.append([result["median_s"], None])
        elif pairs and pairs[-1][1] is None:
            pairs[-1][1] = result["median_s"]
    for workload, pairs in rounds.items():
        done = [(jax, nabla) for jax, nabla in pairs if nabla is not None]
        ratios = ", ".join(f"{nabla / jax:.2f}" for jax, nabla in done)
        times = ", ".join(f"{nabla:.4g} s against {jax:.4g}" for jax, nabla in done)
        print(f"{workload}: {ratios}  ({times})")


if __name__ == "__main__":
    main(sys.argv[1])
