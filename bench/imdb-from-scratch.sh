#!/usr/bin/env bash
# End to end on real data, with no pretrained weights: a small BERT trained
# from scratch on the IMDB reviews (bert-base-uncased vocabulary), distilled
# into a student with half its layers, both evaluated on the 25,000 test
# reviews; prints the figures and the comparison table.
#
#   bench/imdb-from-scratch.sh IMDB_DIR VOCAB [WORK_DIR]
#
# IMDB_DIR holds train.jsonl.gz and test.jsonl.gz ({"text", "label"} a line);
# VOCAB is bert-base-uncased's vocab.txt. BUILD (default build) is the build
# folder. Takes about 15 minutes on two cores.
set -euo pipefail

imdb=${1:?usage: $0 IMDB_DIR VOCAB [WORK_DIR]}
vocab=${2:?usage: $0 IMDB_DIR VOCAB [WORK_DIR]}
work=${3:-imdb-from-scratch}
cli=${BUILD:-build}/src/cli/bert-studio-cli
db=$work/studio.db
mkdir -p "$work"
rm -f "$db" "$db-wal" "$db-shm"

seconds () { date +%s.%N; }
elapsed () { echo "$(seconds) - $1" | bc | xargs printf '%.0f'; }

"$cli" import "$imdb/train.jsonl.gz" --db "$db" --name imdb --label-names neg,pos --validation-ratio 0.1 --seed 1
"$cli" import "$imdb/test.jsonl.gz" --db "$db" --append-to imdb --split test
"$cli" stats imdb --db "$db" --vocab "$vocab" --max-length 256 | sed -n 2,4p

# The teacher: 4 layers, hidden 128; from scratch a learning rate far above
# fine-tuning's 2e-5 is needed (2e-5 barely moves random weights; 1e-3 diverges).
"$cli" init-model --vocab "$vocab" --output "$work/scratch" --hidden 128 --layers 4 --heads 2 \
  --intermediate 512 --max-position 512 --labels neg,pos --seed 7
start=$(seconds)
"$cli" train --db "$db" --dataset imdb --model "$work/scratch" --output "$work/teacher" \
  --max-length 256 --truncation head+tail --batch-size 32 --lr 3e-4 --schedule linear --warmup 200 \
  --epochs 2 --validate-every 250 --json | tee "$work/teacher.json"
teacher_seconds=$(elapsed "$start")

start=$(seconds)
"$cli" distill --db "$db" --dataset imdb --teacher "$work/teacher" --student-layers 2 --output "$work/student" \
  --temperature 2 --alpha 0.5 --max-length 256 --truncation head+tail --batch-size 32 --lr 3e-4 \
  --schedule linear --warmup 200 --epochs 2 --validate-every 250 --json | tee "$work/student.json"
student_seconds=$(elapsed "$start")

row () {
  local name=$1 dir=$2 seconds=$3
  local eval_json params bytes
  eval_json=$("$cli" eval --db "$db" --model "$dir" --dataset imdb --split test --max-length 256 \
    --truncation head+tail --json)
  params=$(python3 -c 'import json,struct,sys
f=open(sys.argv[1],"rb"); n=struct.unpack("<Q",f.read(8))[0]; h=json.loads(f.read(n)); h.pop("__metadata__",None)
import math; print(sum(math.prod(v["shape"]) for v in h.values()))' "$dir/model.safetensors")
  bytes=$(stat -c %s "$dir/model.safetensors")
  python3 -c 'import json,sys
e=json.loads(sys.argv[1]); print("| %s | %.2f%% | %s | %.1f MB | %.2f ms | %.1f ms | %s s |" % (sys.argv[2],
  100*e["accuracy"], format(int(sys.argv[3]), ","), int(sys.argv[4])/1e6, e["ms_per_text"], e["latency_ms"], sys.argv[5]))' \
    "$eval_json" "$name" "$params" "$bytes" "$seconds"
  echo "$eval_json" > "$work/$name.eval.json"
}
echo
echo "| model | test accuracy | parameters | size on disk | time a text (batches) | latency (one text) | training |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
row teacher "$work/teacher" "$teacher_seconds"
row student "$work/student" "$student_seconds"
python3 - "$work/teacher.eval.json" "$work/student.eval.json" <<'PY'
import json, sys
t, s = (json.load(open(p)) for p in sys.argv[1:3])
print()
print("student / teacher: accuracy %.1f%%, speed %.2fx (batches), %.2fx (one text)"
      % (100 * s["accuracy"] / t["accuracy"], t["ms_per_text"] / s["ms_per_text"], t["latency_ms"] / s["latency_ms"]))
PY
