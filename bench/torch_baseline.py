"""PyTorch baseline for bench-engine: the same figures for the same shapes.

    python3 bench/torch_baseline.py --model bert-base|distilbert-base \
        --mode latency|throughput|train [--batch B] [--seq S] [--seconds N]

A from-spec re-implementation of Hugging Face's eager BertForSequenceClassification /
DistilBertForSequenceClassification (transformers is not needed), random weights,
torch.set_num_threads(2), float32 on the CPU. Prints one JSON line like bench-engine.
"""
import argparse
import json
import math
import resource
import time

import torch
from torch import nn


class Layer(nn.Module):
    def __init__(self, h, heads, inter, p, distil):
        super().__init__()
        self.heads, self.d, self.distil = heads, h // heads, distil
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.fc1, self.fc2 = nn.Linear(h, inter), nn.Linear(inter, h)
        self.drop, self.attn_drop = nn.Dropout(p), nn.Dropout(p)

    def split(self, x):
        b, t, _ = x.shape
        return x.view(b, t, self.heads, self.d).transpose(1, 2)

    def forward(self, x, bias):
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d) + bias
        ctx = self.attn_drop(scores.softmax(-1)) @ v
        ctx = ctx.transpose(1, 2).reshape(x.shape)
        a = self.o(ctx)
        a = self.ln1((a if self.distil else self.drop(a)) + x)
        return self.ln2(self.drop(self.fc2(nn.functional.gelu(self.fc1(a)))) + a)


class Classifier(nn.Module):
    def __init__(self, distil, vocab=30522, h=768, layers=12, heads=12, inter=3072, labels=2, p=0.1):
        super().__init__()
        self.distil = distil
        self.word, self.pos = nn.Embedding(vocab, h, padding_idx=0), nn.Embedding(512, h)
        self.token_type = None if distil else nn.Embedding(2, h)
        self.ln = nn.LayerNorm(h, eps=1e-12)
        self.drop = nn.Dropout(p)
        self.layers = nn.ModuleList(Layer(h, heads, inter, p, distil) for _ in range(6 if distil else layers))
        self.pool = nn.Linear(h, h)
        self.head_drop = nn.Dropout(0.2 if distil else p)
        self.cls = nn.Linear(h, labels)

    def forward(self, ids, mask):
        t = ids.shape[1]
        x = self.word(ids) + self.pos(torch.arange(t))
        if self.token_type is not None:
            x = x + self.token_type(torch.zeros_like(ids))
        x = self.drop(self.ln(x))
        bias = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, bias)
        pooled = self.pool(x[:, 0])
        pooled = torch.relu(pooled) if self.distil else torch.tanh(pooled)
        return self.cls(self.head_drop(pooled))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bert-base")
    ap.add_argument("--mode", default="latency")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    batch = a.batch or (1 if a.mode == "latency" else 32)
    model = Classifier(a.model == "distilbert-base")
    ids = torch.randint(1000, 21000, (batch, a.seq))
    mask = torch.ones(batch, a.seq, dtype=torch.long)
    labels = torch.randint(0, 2, (batch,))
    train = a.mode == "train"
    if train:
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=2e-5)
    else:
        model.eval()

    def step():
        if train:
            opt.zero_grad()
            nn.functional.cross_entropy(model(ids, mask), labels).backward()
            opt.step()
        else:
            with torch.no_grad():
                model(ids, mask)

    step()  # the first run allocates: not timed
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < a.seconds:
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    print(json.dumps({"bench": "torch", "model": a.model, "mode": a.mode, "batch": batch, "seq": a.seq,
                      "latency_ms": round(median * 1e3, 1), "seq_per_s": round(batch / median, 3),
                      "runs": len(times), "threads": torch.get_num_threads(),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
