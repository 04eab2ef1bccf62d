#!/usr/bin/env python3
"""Golden encodings of longctx's byte-level tokenizer, produced by Hugging Face's own libraries.

Loads the tokenizer.json that `longctx tokenizer byte-level` writes (a copy lives in
data/src/test/resources/golden/byte-level/) with the `tokenizers` library and with
transformers' PreTrainedTokenizerFast, and records for a set of texts (ASCII, whitespace,
accents, CJK, emoji, a NUL, literal special-token text):

  * ids from tokenizers.Tokenizer.encode(text, add_special_tokens=False)  (special-token text
    becomes the special token: what a tokenizer does by default)
  * ids from PreTrainedTokenizerFast(..., split_special_tokens=True)       (special-token text
    stays plain text: what the prepare job does by default)
  * the decode of those ids, and the special tokens' ids and the vocabulary size.

The Java test checks that DJL, through longctx's TextTokenizer, gives the same ids both ways.

Usage: python3 tools/reference/byte_level_tokenizer.py --tokenizer DIR --out OUTDIR
       (writes OUTDIR/byte_level_tokenizer.json)
Needs transformers and tokenizers; runs on CPU in a second.
"""
import argparse
import json
import os

import tokenizers
import transformers
from transformers import PreTrainedTokenizerFast

TEXTS = [
    "hello world",
    "  two  spaces\n\ttab\r\nwindows line",
    "Ünïcödé: 日本語のテキスト, emoji 🎉🚀, math ∑∫√",
    "nul\u0000char and \u007f delete",
    "A page that mentions <s> and </s> and <pad> literally.",
    "<s>",
    "",
]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokenizer", required=True, help="folder holding tokenizer.json and tokenizer_config.json")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    path = os.path.join(args.tokenizer, "tokenizer.json")
    raw = tokenizers.Tokenizer.from_file(path)
    whole = PreTrainedTokenizerFast.from_pretrained(args.tokenizer)
    split = PreTrainedTokenizerFast.from_pretrained(args.tokenizer, split_special_tokens=True)

    cases = []
    for text in TEXTS:
        ids_whole = raw.encode(text, add_special_tokens=False).ids
        assert ids_whole == whole.encode(text, add_special_tokens=False), text
        ids_split = split.encode(text, add_special_tokens=False)
        cases.append({
            "text": text,
            "ids": ids_whole,
            "ids_split_special_tokens": ids_split,
            "decoded": raw.decode(ids_whole, skip_special_tokens=False),
            "decoded_split": split.decode(ids_split),
        })

    golden = {
        "reference": "tokenizers.Tokenizer.from_file + transformers.PreTrainedTokenizerFast",
        "tokenizers_version": tokenizers.__version__,
        "transformers_version": transformers.__version__,
        "vocab_size_with_added": raw.get_vocab_size(with_added_tokens=True),
        "len_tokenizer": len(whole),
        "bos_token_id": whole.bos_token_id,
        "eos_token_id": whole.eos_token_id,
        "pad_token_id": whole.pad_token_id,
        "cases": cases,
    }
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "byte_level_tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(json.dumps({k: v for k, v in golden.items() if k != "cases"}))


if __name__ == "__main__":
    main()
