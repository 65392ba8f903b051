#!/usr/bin/env bash
# Makes the model that comes with BERT Studio (this folder) with our own
# pipeline, from the IMDB Large Movie Review Dataset and no pretrained
# weights: a small BERT (4 layers, hidden 128, 4.8M parameters) fine-tuned
# from random weights on the 22,500 training reviews, evaluated on the
# 25,000 test reviews, written in F16 with its model card.
#
# With COMPARE=1 it also pretrains a random model of the same shape by
# masked-word prediction on the 50,000 unlabeled and 22,500 training reviews
# (five passes, about 3 hours) and fine-tunes that the same way: on the
# movie-disjoint test reviews that scored lower (see README.md, "The default
# model"), so the model shipped skips it. It then compares the two on 1,000
# labelled reviews.
#
#   data/default-model/make-default-model.sh IMDB_DIR VOCAB [WORK_DIR]
#
# IMDB_DIR holds train.jsonl.gz, test.jsonl.gz ({"text", "label"} a line)
# and unsup.jsonl.gz ({"text"} a line); VOCAB is bert-base-uncased's
# vocab.txt. BUILD (default build) is the build folder; OUT (default this
# folder) receives the model. Takes about 30 min on two cores (COMPARE: 4 h
# more).
set -euo pipefail

imdb=${1:?usage: $0 IMDB_DIR VOCAB [WORK_DIR]}
vocab=${2:?usage: $0 IMDB_DIR VOCAB [WORK_DIR]}
work=${3:-default-model-work}
cli=${BUILD:-build}/src/cli/bert-studio-cli
out=${OUT:-$(dirname "$0")}
db=$work/studio.db
mkdir -p "$work"
rm -f "$db" "$db-wal" "$db-shm"

"$cli" import "$imdb/train.jsonl.gz" --db "$db" --name imdb --label-names negative,positive --validation-ratio 0.1 --seed 1
"$cli" import "$imdb/test.jsonl.gz" --db "$db" --append-to imdb --split test
"$cli" import "$imdb/unsup.jsonl.gz" --db "$db" --append-to imdb --split unlabeled
# Reviews run long (median 233 tokens, 44% over 256, a tenth over 612): the
# classifier reads 512 tokens, 85% of the reviews whole, and the head and the
# tail of the longer ones (Sun et al., 2019).
"$cli" stats imdb --db "$db" --vocab "$vocab" --max-length 512 | sed -n 2,4p

# random_model OUTPUT [OPTION...]: the 4-layer shape, seed 7.
random_model () {
  "$cli" init-model --vocab "$vocab" --output "$1" --hidden 128 --layers 4 --heads 2 \
    --intermediate 512 --max-position 512 --labels negative,positive --seed 7 "${@:2}"
}
# train_on DATASET MODEL OUTPUT [OPTION...]: the fine-tuning recipe.
train_on () {
  "$cli" train --db "$db" --dataset "$1" --model "$2" --output "$3" \
    --max-length 512 --truncation head+tail --batch-size 32 --lr 3e-4 --schedule linear "${@:4}" \
    --json | tee "$3.json"
}
fine_tune () { train_on imdb "$1" "$2" --warmup 200 --epochs 2 --validate-every 250; }

random_model "$work/random"
fine_tune "$work/random" "$work/fine-tuned"
if [ "${COMPARE:-0}" = 1 ]; then
  # Five passes of masked-word prediction over the unlabeled and training
  # texts, packed into rows of 256 tokens (attention over 512 costs twice as
  # much a token), from a random model whose word embeddings are ten times
  # larger (they are the decoder too: the plateau at word frequencies ends
  # sooner); from random weights a rate far above run_mlm's 5e-5.
  random_model "$work/random-wide" --embedding-scale 10
  "$cli" pretrain --db "$db" --dataset imdb --model "$work/random-wide" --output "$work/pretrained" \
    --max-length 256 --batch-size 32 --lr 1e-3 --warmup 300 --schedule linear --max-grad-norm 1 \
    --no-dropout --epochs 5 --validate-every 1000 --checkpoint-every 250 --seed 7 --json \
    | tee "$work/pretrained.json"
  fine_tune "$work/pretrained" "$work/pretrained-fine-tuned"

  # Few labels: 1,000 training reviews drawn at random (100 kept for
  # validation), ten passes, from the pretrained model, from the same random
  # start and from random weights of the usual scale.
  python3 - "$imdb/train.jsonl.gz" "$work/train-1k.jsonl" <<'PY'
import gzip, random, sys
lines = gzip.open(sys.argv[1], "rt", encoding="utf-8").readlines()
random.Random(3).shuffle(lines)
open(sys.argv[2], "w", encoding="utf-8").writelines(lines[:1000])
PY
  "$cli" import "$work/train-1k.jsonl" --db "$db" --name imdb-1k --label-names negative,positive \
    --validation-ratio 0.1 --seed 1
  "$cli" import "$imdb/test.jsonl.gz" --db "$db" --append-to imdb-1k --split test
  for model in pretrained random-wide random; do
    train_on imdb-1k "$work/$model" "$work/few-labels-$model" --warmup 30 --epochs 10 --validate-every 29
  done
fi

# F16 halves the size; the card's accuracy is that of the F16 weights.
"$cli" convert --dtype f16 "$work/fine-tuned" "$work/f16"
"$cli" eval --db "$db" --model "$work/f16" --dataset imdb --split test --max-length 512 \
  --truncation head+tail --json > "$work/f16.eval.json"
python3 - "$work" <<'PY'
import json, math, struct, sys
work = sys.argv[1]
e = json.load(open(f"{work}/f16.eval.json"))
with open(f"{work}/f16/model.safetensors", "rb") as f:
    header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
header.pop("__metadata__", None)
params = sum(math.prod(t["shape"]) for t in header.values())
card = {
    "name": "Movie review sentiment (small)",
    "description": "Tells whether an English text, such as a movie review, is positive or negative. "
                   "A small BERT (4 layers, hidden size 128) made by BERT Studio from scratch: no "
                   "download needed, quick on any computer. Fine-tune it on your own texts for other tasks.",
    "trained_on": "The IMDB Large Movie Review Dataset (Maas et al., 2011): trained from random weights "
                  "on its 22,500 training reviews (2,500 more kept for validation), reading up to 512 "
                  "tokens of each: the whole review, or its start and its end.",
    "license": "Apache-2.0",
    "max_length": 512,
    "truncation": "head+tail",
    "parameters": params,
    "metrics": {"test_accuracy": round(e["accuracy"], 5), "test_examples": e["examples"]},
}
with open(f"{work}/f16/model_card.json", "w") as f:
    json.dump(card, f, indent=2, ensure_ascii=False)
    f.write("\n")
print("test accuracy %.2f%% on %d reviews, %d parameters" % (100 * e["accuracy"], e["examples"], params))
PY
mkdir -p "$out"
cp "$work"/f16/{config.json,model.safetensors,vocab.txt,tokenizer_config.json,model_card.json} "$out"/
