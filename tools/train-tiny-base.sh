#!/usr/bin/env bash
# Reproduces models/tiny-base: the three stages of configs/train-tiny-base.yaml, then copies
# the exported Hugging Face folder (float32 safetensors, config.json, tokenizer) to
# models/tiny-base. About an hour on 2 CPU cores. Float32 CPU training is deterministic for a
# given machine and thread count; another CPU or thread count gives a slightly different model
# of the same quality (check it with TinyBaseModelIT: mvn -pl trainer verify -Dit.test=TinyBaseModelIT).
#   tools/train-tiny-base.sh [OUT]     (OUT: where the run goes, default runs/tiny-base)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${1:-runs/tiny-base}"
CONFIG=configs/train-tiny-base.yaml
[ ! -e "$OUT/checkpoints" ] || { echo "train-tiny-base: $OUT already holds a run; remove it or name another folder" >&2; exit 2; }
bin/longctx train --config "$CONFIG" --set output.dir="$OUT" --set train.steps=2500 --set train.synthetic.max_chars=200 --set train.lr=1.0e-3
bin/longctx train --config "$CONFIG" --set output.dir="$OUT" --resume --set train.steps=3500 --set train.lr=1.0e-3
bin/longctx train --config "$CONFIG" --set output.dir="$OUT" --resume
rm -rf models/tiny-base.new && cp -r "$OUT/hf" models/tiny-base.new
rm -rf models/tiny-base && mv models/tiny-base.new models/tiny-base
echo "train-tiny-base: models/tiny-base updated from $OUT/hf"
