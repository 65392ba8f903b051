"""Makes tests/fixtures/masked_lm: a PyTorch reference for BERT's masked-LM head.

    /usr/bin/python3 tests/make_masked_lm_fixture.py [OUT_DIR]

(from the project's root; OUT_DIR defaults to tests/fixtures/masked_lm beside
this script). Needs torch (tested with Debian's python3-torch 1.13) and numpy;
not `transformers` or `safetensors`: the model is written here from the spec of
transformers' BertForMaskedLM (eager attention, dropout off), and the files
with a small safetensors writer of our own. Deterministic (fixed seeds):
running it again writes the same bytes.

Writes:
  config.json             BertConfig, architectures ["BertForMaskedLM"]
  model.safetensors       the weights, F32, transformers' state_dict names
                          (no cls.predictions.decoder.*: tied to the word table
                          and to cls.predictions.bias, as save_pretrained omits)
  mlm_case.safetensors    the batch and the expected results (below)

The case file is not called case.safetensors on purpose: tests/parity.c and
tests/reference_load.py run every folder under tests/fixtures holding a
case.safetensors as a sequence-classification case with training steps.

Model (tiny, vocab 100, hidden 32, 2 layers, 4 heads, intermediate 64,
max_position 64, type_vocab 2, LayerNorm eps 1e-12, GELU erf):
  x = LN(word[ids] + type[types] + pos[0..T-1])
  per layer: scores = q k^T / sqrt(head_dim), keys with mask 0 excluded
             (additive finfo.min, so their probability is exactly 0),
             a = LN(x + softmax(scores) v Wo^T + bo); x = LN(a + gelu(a Wi^T + bi) Wo2^T + bo2)
  MLM head on the rows at `positions` (flat b*T+t):
             h = LN(gelu(x[m] Wt^T + bt)); logits = h word^T + cls.predictions.bias
  loss = mean over the positions of -log softmax(logits)[label]
The word table has padding_idx = pad_token_id (0) as in transformers: its row 0
gets no gradient from the lookups (id 0 sits at an attended position of row 2),
only from the decoder.

"Sharp" init (so that errors show, as the classification fixtures' sharp
cases): Linear weights N(0, 0.2), Linear biases N(0, 0.1), embedding tables
N(0, 0.2) (larger than the classification fixtures' 0.02: the word table is
also the decoder, and 0.2 gives O(1) logits), cls.predictions.bias N(0, 0.1)
(transformers starts it at 0), LayerNorm weight U(0.5, 2), bias N(0, 0.2);
except the head's transform: dense weight N(0, 0.05), dense bias N(-2, 0.3),
so that its GELU works in the curved negative tail and its outputs have a
small spread (a wrong eps in the head's LayerNorm, 1e-5 for 1e-12, or a tanh
GELU there then show; see TRANSFORM).
Weights are drawn in float32, then the whole forward and backward run in
float64 from exactly those values; results are stored as float32.

Tensors in mlm_case.safetensors:
  input_ids, token_type_ids, attention_mask  I64 [B, T]  (masked tokens already replaced)
  positions   I64 [P]   flat indices b*T+t, increasing
  labels      I64 [P]   the original ids at those positions
  logits      F32 [P, vocab]
  loss        F32 [1]
  grad.<name> F32       d loss / d parameter for every parameter in model.safetensors
                        (grad.bert.embeddings.word_embeddings.weight includes the decoder's part)
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

SEED = 20240611

CONFIG = {
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "classifier_dropout": None,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 64,
    "model_type": "bert",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "torch_dtype": "float32",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 100,
}

PAD, CLS, SEP, MASK = 0, 2, 3, 4


# ---- a small safetensors writer (the format: u64 LE header length, JSON header, raw data) ----

_RUST_ORDER = ["BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "F16", "BF16",
               "I32", "U32", "F32", "F64", "I64", "U64"]
_ST_DTYPE = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}


def write_safetensors(path, tensors, metadata):
    """Lays the file out as the reference writer does: __metadata__ first, tensors by
    dtype (descending in the Rust enum's order, so I64 before F32) then name, header
    padded with spaces to a multiple of 8, data contiguous."""
    arrays = {name: np.ascontiguousarray(a) for name, a in tensors.items()}
    order = sorted(arrays, key=lambda n: (-_RUST_ORDER.index(_ST_DTYPE[arrays[n].dtype]), n))
    header = {"__metadata__": metadata}
    offset = 0
    for name in order:
        a = arrays[name]
        n = a.nbytes
        header[name] = {"dtype": _ST_DTYPE[a.dtype], "shape": list(a.shape),
                        "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in order:
            f.write(arrays[name].astype(arrays[name].dtype.newbyteorder("<"), copy=False).tobytes())


# ---- parameters, transformers' names and order ----

def parameter_shapes(cfg):
    v, h, i = cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"]
    shapes = [
        ("bert.embeddings.word_embeddings.weight", (v, h), "embedding"),
        ("bert.embeddings.position_embeddings.weight", (cfg["max_position_embeddings"], h), "embedding"),
        ("bert.embeddings.token_type_embeddings.weight", (cfg["type_vocab_size"], h), "embedding"),
        ("bert.embeddings.LayerNorm.weight", (h,), "norm_weight"),
        ("bert.embeddings.LayerNorm.bias", (h,), "norm_bias"),
    ]
    for layer in range(cfg["num_hidden_layers"]):
        p = f"bert.encoder.layer.{layer}."
        for name in ("query", "key", "value"):
            shapes += [(p + f"attention.self.{name}.weight", (h, h), "matrix"),
                       (p + f"attention.self.{name}.bias", (h,), "bias")]
        shapes += [
            (p + "attention.output.dense.weight", (h, h), "matrix"),
            (p + "attention.output.dense.bias", (h,), "bias"),
            (p + "attention.output.LayerNorm.weight", (h,), "norm_weight"),
            (p + "attention.output.LayerNorm.bias", (h,), "norm_bias"),
            (p + "intermediate.dense.weight", (i, h), "matrix"),
            (p + "intermediate.dense.bias", (i,), "bias"),
            (p + "output.dense.weight", (h, i), "matrix"),
            (p + "output.dense.bias", (h,), "bias"),
            (p + "output.LayerNorm.weight", (h,), "norm_weight"),
            (p + "output.LayerNorm.bias", (h,), "norm_bias"),
        ]
    shapes += [
        ("cls.predictions.bias", (v,), "bias"),
        ("cls.predictions.transform.dense.weight", (h, h), "matrix"),
        ("cls.predictions.transform.dense.bias", (h,), "bias"),
        ("cls.predictions.transform.LayerNorm.weight", (h,), "norm_weight"),
        ("cls.predictions.transform.LayerNorm.bias", (h,), "norm_bias"),
    ]
    return shapes


# The head's transform works in GELU's curved negative tail (inputs about -3 .. -1):
# its outputs are then small (spread ~0.04), so the head's LayerNorm eps matters
# (1e-5 instead of 1e-12 moves the logits by ~1e-3 relative) and the tanh form of
# GELU differs there by far more than float32 noise.
TRANSFORM = {"cls.predictions.transform.dense.weight": (0.0, 0.05),
             "cls.predictions.transform.dense.bias": (-2.0, 0.3)}


def sharp_init(cfg, gen):
    """float32 values, drawn in a fixed order from one generator."""
    params = {}
    for name, shape, kind in parameter_shapes(cfg):
        if kind == "norm_weight":
            t = torch.rand(shape, generator=gen, dtype=torch.float32) * 1.5 + 0.5
        else:
            std = {"embedding": 0.2, "matrix": 0.2, "bias": 0.1, "norm_bias": 0.2}[kind]
            mean, std = TRANSFORM.get(name, (0.0, std))
            t = torch.randn(shape, generator=gen, dtype=torch.float32) * std + mean
        params[name] = t
    return params


# ---- BertForMaskedLM, from the spec ----

def gelu(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def layer_norm(x, w, b, eps):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)  # biased, as torch's LayerNorm
    return (x - mean) / torch.sqrt(var + eps) * w + b


def linear(x, w, b):
    return x @ w.t() + b


def masked_lm_logits(p, cfg, ids, types, mask, positions):
    eps = cfg["layer_norm_eps"]
    n_heads = cfg["num_attention_heads"]
    bsz, t = ids.shape
    h = cfg["hidden_size"]
    d = h // n_heads
    word = p["bert.embeddings.word_embeddings.weight"]
    # padding_idx: the lookups give row pad_token_id no gradient (nn.Embedding(padding_idx=0))
    x = (F.embedding(ids, word, padding_idx=cfg["pad_token_id"])
         + F.embedding(types, p["bert.embeddings.token_type_embeddings.weight"])
         + p["bert.embeddings.position_embeddings.weight"][:t].unsqueeze(0))
    x = layer_norm(x, p["bert.embeddings.LayerNorm.weight"], p["bert.embeddings.LayerNorm.bias"], eps)
    # transformers' extended mask: (1 - mask) * finfo(dtype).min, added to every query's scores
    additive = (1.0 - mask.to(x.dtype))[:, None, None, :] * torch.finfo(x.dtype).min
    for layer in range(cfg["num_hidden_layers"]):
        pre = f"bert.encoder.layer.{layer}."

        def heads(z):
            return z.view(bsz, t, n_heads, d).transpose(1, 2)

        q = heads(linear(x, p[pre + "attention.self.query.weight"], p[pre + "attention.self.query.bias"]))
        k = heads(linear(x, p[pre + "attention.self.key.weight"], p[pre + "attention.self.key.bias"]))
        v = heads(linear(x, p[pre + "attention.self.value.weight"], p[pre + "attention.self.value.bias"]))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(bsz, t, h)
        a = layer_norm(linear(ctx, p[pre + "attention.output.dense.weight"], p[pre + "attention.output.dense.bias"])
                       + x, p[pre + "attention.output.LayerNorm.weight"], p[pre + "attention.output.LayerNorm.bias"],
                       eps)
        inter = gelu(linear(a, p[pre + "intermediate.dense.weight"], p[pre + "intermediate.dense.bias"]))
        x = layer_norm(linear(inter, p[pre + "output.dense.weight"], p[pre + "output.dense.bias"]) + a,
                       p[pre + "output.LayerNorm.weight"], p[pre + "output.LayerNorm.bias"], eps)
    rows = x.reshape(bsz * t, h)[positions]
    hid = gelu(linear(rows, p["cls.predictions.transform.dense.weight"], p["cls.predictions.transform.dense.bias"]))
    hid = layer_norm(hid, p["cls.predictions.transform.LayerNorm.weight"],
                     p["cls.predictions.transform.LayerNorm.bias"], eps)
    # the decoder: the word table, tied, and the output bias
    return hid @ word.t() + p["cls.predictions.bias"]


# ---- the batch ----

def make_batch(cfg, gen):
    """3 rows of 12, right padded: 12, 9 and 6 real tokens; segment B in rows 0 and 1;
    id 0 (= pad_token_id) attended at row 2, position 3. Six masked positions (~20% of
    the 30 real tokens), none on CLS, SEP or padding: four become [MASK], one a random
    id, one is kept, as BERT's 80/10/10 rule does."""
    bsz, t, v = 3, 12, cfg["vocab_size"]
    lengths = [12, 9, 6]
    segment_b = [7, 5, None]
    ids = torch.zeros(bsz, t, dtype=torch.int64)
    types = torch.zeros(bsz, t, dtype=torch.int64)
    mask = torch.zeros(bsz, t, dtype=torch.int64)
    for r in range(bsz):
        n = lengths[r]
        ids[r, :n] = torch.randint(5, v, (n,), generator=gen)
        ids[r, 0], ids[r, n - 1] = CLS, SEP
        mask[r, :n] = 1
        if segment_b[r] is not None:
            types[r, segment_b[r]:n] = 1
            ids[r, segment_b[r] - 1] = SEP
    ids[2, 3] = PAD  # an attended id 0: its lookup gives row 0 no gradient
    masked = [(0, 2), (0, 9), (1, 1), (1, 6), (2, 2), (2, 4)]
    positions = torch.tensor([r * t + c for r, c in masked], dtype=torch.int64)
    labels = ids.reshape(-1)[positions].clone()
    corrupted = ids.clone()
    replacement = {(0, 2): MASK, (0, 9): MASK, (1, 1): "random", (1, 6): MASK, (2, 2): "keep", (2, 4): MASK}
    for (r, c), how in replacement.items():
        if how == "random":
            corrupted[r, c] = int(torch.randint(5, v, (1,), generator=gen))
        elif how != "keep":
            corrupted[r, c] = how
    for r, c in masked:
        assert mask[r, c] == 1 and ids[r, c] not in (CLS, SEP, PAD)
    return corrupted, types, mask, positions, labels


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "fixtures", "masked_lm")
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(SEED)
    cfg = CONFIG
    weights32 = sharp_init(cfg, gen)
    ids, types, mask, positions, labels = make_batch(cfg, gen)

    params = {n: w.to(torch.float64).requires_grad_(True) for n, w in weights32.items()}
    logits = masked_lm_logits(params, cfg, ids, types, mask, positions)
    loss = F.cross_entropy(logits, labels, reduction="mean")
    loss.backward()

    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    write_safetensors(os.path.join(out, "model.safetensors"),
                      {n: w.numpy() for n, w in weights32.items()}, {"format": "pt"})

    case = {
        "input_ids": ids.numpy(),
        "token_type_ids": types.numpy(),
        "attention_mask": mask.numpy(),
        "positions": positions.numpy(),
        "labels": labels.numpy(),
        "logits": logits.detach().numpy().astype(np.float32),
        "loss": np.array([loss.item()], dtype=np.float32),
    }
    for n, p in params.items():
        case["grad." + n] = p.grad.numpy().astype(np.float32)
    metadata = {
        "generator": "tests/make_masked_lm_fixture.py",
        "torch": torch.__version__,
        "seed": str(SEED),
        "dtype": "computed in float64 from the float32 weights, stored as float32",
        "dropout": "off: every number here was computed with all dropouts disabled",
        "loss": "mean cross-entropy over the masked positions",
    }
    write_safetensors(os.path.join(out, "mlm_case.safetensors"), case, metadata)
    print(f"wrote {out}: loss {loss.item():.6f}, logits |max| {logits.abs().max().item():.3f}, "
          f"{len(positions)} positions")


if __name__ == "__main__":
    main()
