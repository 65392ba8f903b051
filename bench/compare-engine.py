"""Runs bench-engine and the PyTorch baseline on the same shapes, in one run,
and prints every figure (JSON lines) and the ratios the targets are stated in.

    python3 bench/compare-engine.py [--build build] [--seconds 10] [--models bert-base,distilbert-base]
                                    [--modes latency,throughput,train] [--no-torch] [--python PY]

Each figure is its own process (so peak RSS is that figure's); ours and PyTorch's
alternate so that a change in the machine's load hits both.
"""
import argparse
import json
import os
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = out.strip().splitlines()[-1]
    print(line, flush=True)
    return json.loads(line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--seconds", default="10")
    ap.add_argument("--models", default="bert-base,distilbert-base")
    ap.add_argument("--modes", default="latency,throughput,train")
    ap.add_argument("--no-torch", action="store_true")
    ap.add_argument("--python", default="/usr/bin/python3", help="a Python with torch (Debian's python3-torch)")
    a = ap.parse_args()
    engine = os.path.join(a.build, "bench", "bench-engine")
    print(f"# OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}", flush=True)
    rows = []
    for model in a.models.split(","):
        ceiling = None
        for mode in a.modes.split(","):
            ours = run([engine, "--model", model, "--mode", mode, "--seconds", a.seconds])
            ref = None if a.no_torch else run([a.python, os.path.join(HERE, "torch_baseline.py"),
                                              "--model", model, "--mode", mode, "--seconds", a.seconds])
            if mode == "train":
                ceiling = run([engine, "--model", model, "--mode", "sgemm", "--seconds", a.seconds])
            rows.append((model, mode, ours, ref, ceiling if mode == "train" else None))
    print()
    print(f"{'model':16} {'mode':10} {'ours':>12} {'pytorch':>12} {'ratio':>7} {'RSS ours/pt':>12} {'of sgemm':>9}")
    for model, mode, ours, ref, ceiling in rows:
        key = "latency_ms" if mode == "latency" else "seq_per_s"
        unit = " ms" if mode == "latency" else " seq/s"
        r_val = f"{ref[key]}{unit}" if ref else "-"
        ratio = f"{ours[key] / ref[key]:.2f}" if ref else "-"
        rss = f"{ours['peak_rss_mb'] / ref['peak_rss_mb']:.2f}" if ref else "-"
        of = f"{ours['seq_per_s'] / ceiling['ceiling_seq_per_s']:.0%}" if ceiling else ""
        print(f"{model:16} {mode:10} {str(ours[key]) + unit:>12} {r_val:>12} {ratio:>7} {rss:>12} {of:>9}")


if __name__ == "__main__":
    main()
