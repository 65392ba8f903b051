"""Do checkpoints the engine saves load in an independent reader?

    python3 tests/reference_load.py PARITY_EXE FIXTURES_DIR

Runs `parity --dump` (which trains every fixture case 3 steps and saves its model), then
reads each saved folder with a safetensors reader and a BERT / DistilBERT forward written
here from the Hugging Face spec in numpy (float64), and compares the logits with the
reference's logits after training (`logits_after` / `student_logits_after` of the case).
Prints one line per case and "N passed, N failed".
"""
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        arr = np.frombuffer(data[8 + n + begin:8 + n + end], dtype=np.dtype(DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = arr.reshape(info["shape"]).astype(np.float64 if info["dtype"][0] == "F" else np.int64)
    return out


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * w + b


def gelu(x):
    from math import erf, sqrt
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / sqrt(2.0)))


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def forward(folder, ids, mask, types):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = read_safetensors(os.path.join(folder, "model.safetensors"))
    lin = lambda x, name: x @ w[name + ".weight"].T + w[name + ".bias"]  # noqa: E731
    bert = cfg["model_type"] == "bert"
    p = "bert." if bert else "distilbert."
    heads = cfg["num_attention_heads"] if bert else cfg["n_heads"]
    layers = cfg["num_hidden_layers"] if bert else cfg["n_layers"]
    eps = cfg.get("layer_norm_eps", 1e-12)
    b, t = ids.shape
    x = w[p + "embeddings.word_embeddings.weight"][ids] + w[p + "embeddings.position_embeddings.weight"][:t]
    if bert:
        x = x + w[p + "embeddings.token_type_embeddings.weight"][types]
    x = layer_norm(x, w[p + "embeddings.LayerNorm.weight"], w[p + "embeddings.LayerNorm.bias"], eps)
    h = x.shape[-1]
    d = h // heads
    for i in range(layers):
        if bert:
            q, k, v, o = (f"{p}encoder.layer.{i}.attention.{s}" for s in ("self.query", "self.key", "self.value",
                                                                           "output.dense"))
            ln1, f1 = f"{p}encoder.layer.{i}.attention.output.LayerNorm", f"{p}encoder.layer.{i}.intermediate.dense"
            f2, ln2 = f"{p}encoder.layer.{i}.output.dense", f"{p}encoder.layer.{i}.output.LayerNorm"
        else:
            q, k, v, o = (f"{p}transformer.layer.{i}.attention.{s}" for s in ("q_lin", "k_lin", "v_lin", "out_lin"))
            ln1, f1 = f"{p}transformer.layer.{i}.sa_layer_norm", f"{p}transformer.layer.{i}.ffn.lin1"
            f2, ln2 = f"{p}transformer.layer.{i}.ffn.lin2", f"{p}transformer.layer.{i}.output_layer_norm"
        split = lambda y: y.reshape(b, t, heads, d).transpose(0, 2, 1, 3)  # noqa: E731
        scores = split(lin(x, q)) @ split(lin(x, k)).transpose(0, 1, 3, 2) / np.sqrt(d)
        scores = np.where(mask[:, None, None, :] == 0, -1e300, scores)
        ctx = (softmax(scores) @ split(lin(x, v))).transpose(0, 2, 1, 3).reshape(b, t, h)
        a = layer_norm(lin(ctx, o) + x, w[ln1 + ".weight"], w[ln1 + ".bias"], eps)
        x = layer_norm(lin(gelu(lin(a, f1)), f2) + a, w[ln2 + ".weight"], w[ln2 + ".bias"], eps)
    if bert:
        pooled = np.tanh(lin(x[:, 0], p + "pooler.dense"))
    else:
        pooled = np.maximum(lin(x[:, 0], "pre_classifier"), 0.0)
    return lin(pooled, "classifier")


def main():
    parity, fixtures = sys.argv[1], sys.argv[2]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as dump:
        subprocess.run([parity, fixtures, "--dump", dump], check=True, stdout=subprocess.DEVNULL)
        for case in sorted(os.listdir(fixtures)):
            case_file = os.path.join(fixtures, case, "case.safetensors")
            saved = os.path.join(dump, case + "-checkpoint")
            if not os.path.exists(case_file):
                continue
            c = read_safetensors(case_file)
            expected = c.get("logits_after", c.get("student_logits_after"))
            types = c.get("token_type_ids", np.zeros_like(c["input_ids"]))
            try:
                got = forward(saved, c["input_ids"], c["attention_mask"], types)
                err = float(np.max(np.abs(got - expected) / (1e-5 + 2e-3 * np.abs(expected))))
                ok = err <= 1.0
                why = f"worst {err:.3f} of tolerance"
            except Exception as e:  # noqa: BLE001 (report any failure to read as a failed case)
                ok, why = False, f"{type(e).__name__}: {e}"
            print(f"{'PASS' if ok else 'FAIL'} {case:20s} {why}")
            passed, failed = passed + ok, failed + (not ok)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
