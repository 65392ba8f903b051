#!/usr/bin/env python3
"""The reference WordPiece tokenizer, for speed and id comparisons.

A faithful minimal copy of google-research/bert's tokenization.py
(BasicTokenizer + WordpieceTokenizer, as FullTokenizer chains them), with no
TensorFlow: same cleanup (U+0000, U+FFFD, Cc and Cf dropped), same
whitespace, CJK, lower-casing (str.lower, NFD, Mn removed), punctuation split
and greedy WordPiece with max_input_chars_per_word = 200.

  tokenizer_reference.py bench VOCAB DATA.jsonl.gz [--cased] [--threads-label N]
      tokenizes every "text" and prints one JSON line like bench-tokenizer:
      {"bench":"tokenizer-reference","threads":1,"mb_per_s":…,"tokens_per_s":…,"texts":…,"bytes":…}
  tokenizer_reference.py ids VOCAB [--cased] < texts.jsonl
      prints, for each {"text": …} line, its ids as a JSON array ([CLS] … [SEP]),
      as `bert-studio-cli tokenize` does;
  tokenizer_reference.py tokens VOCAB [--cased] < texts.jsonl
      prints the word pieces of each text as a JSON array.
"""
import argparse
import collections
import gzip
import json
import sys
import time
import unicodedata


def load_vocab(path):
    vocab = collections.OrderedDict()
    with open(path, "rb") as f:
        for index, line in enumerate(f):
            vocab[line.decode("utf-8").strip()] = index
    return vocab


def _is_whitespace(ch):
    if ch == " " or ch == "\t" or ch == "\n" or ch == "\r":
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch == "\t" or ch == "\n" or ch == "\r":
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_chinese_char(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def whitespace_tokenize(text):
    text = text.strip()
    return text.split() if text else []


class BasicTokenizer:
    def __init__(self, do_lower_case=True):
        self.do_lower_case = do_lower_case

    def tokenize(self, text):
        if isinstance(text, bytes):
            text = text.decode("utf-8", "ignore")
        text = self._clean_text(text)
        text = self._tokenize_chinese_chars(text)
        split_tokens = []
        for token in whitespace_tokenize(text):
            if self.do_lower_case:
                token = token.lower()
                token = self._run_strip_accents(token)
            split_tokens.extend(self._run_split_on_punc(token))
        return whitespace_tokenize(" ".join(split_tokens))

    def _run_strip_accents(self, text):
        text = unicodedata.normalize("NFD", text)
        return "".join(ch for ch in text if unicodedata.category(ch) != "Mn")

    def _run_split_on_punc(self, text):
        start_new_word = True
        output = []
        for ch in text:
            if _is_punctuation(ch):
                output.append([ch])
                start_new_word = True
            else:
                if start_new_word:
                    output.append([])
                start_new_word = False
                output[-1].append(ch)
        return ["".join(x) for x in output]

    def _tokenize_chinese_chars(self, text):
        output = []
        for ch in text:
            if _is_chinese_char(ord(ch)):
                output += [" ", ch, " "]
            else:
                output.append(ch)
        return "".join(output)

    def _clean_text(self, text):
        output = []
        for ch in text:
            cp = ord(ch)
            if cp == 0 or cp == 0xFFFD or _is_control(ch):
                continue
            output.append(" " if _is_whitespace(ch) else ch)
        return "".join(output)


class WordpieceTokenizer:
    def __init__(self, vocab, unk_token="[UNK]", max_input_chars_per_word=200):
        self.vocab = vocab
        self.unk_token = unk_token
        self.max_input_chars_per_word = max_input_chars_per_word

    def tokenize(self, text):
        output_tokens = []
        for token in whitespace_tokenize(text):
            chars = list(token)
            if len(chars) > self.max_input_chars_per_word:
                output_tokens.append(self.unk_token)
                continue
            is_bad = False
            start = 0
            sub_tokens = []
            while start < len(chars):
                end = len(chars)
                cur_substr = None
                while start < end:
                    substr = "".join(chars[start:end])
                    if start > 0:
                        substr = "##" + substr
                    if substr in self.vocab:
                        cur_substr = substr
                        break
                    end -= 1
                if cur_substr is None:
                    is_bad = True
                    break
                sub_tokens.append(cur_substr)
                start = end
            if is_bad:
                output_tokens.append(self.unk_token)
            else:
                output_tokens.extend(sub_tokens)
        return output_tokens


class FullTokenizer:
    def __init__(self, vocab_file, do_lower_case=True):
        self.vocab = load_vocab(vocab_file)
        self.basic_tokenizer = BasicTokenizer(do_lower_case=do_lower_case)
        self.wordpiece_tokenizer = WordpieceTokenizer(vocab=self.vocab)

    def tokenize(self, text):
        split_tokens = []
        for token in self.basic_tokenizer.tokenize(text):
            for sub_token in self.wordpiece_tokenizer.tokenize(token):
                split_tokens.append(sub_token)
        return split_tokens

    def ids(self, text):
        v = self.vocab
        return [v["[CLS]"]] + [v[t] for t in self.tokenize(text)] + [v["[SEP]"]]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["bench", "ids", "tokens"])
    ap.add_argument("vocab")
    ap.add_argument("data", nargs="?")
    ap.add_argument("--cased", action="store_true")
    args = ap.parse_args()
    tok = FullTokenizer(args.vocab, do_lower_case=not args.cased)

    if args.mode in ("ids", "tokens"):
        for line in sys.stdin:
            text = json.loads(line)["text"]
            out = tok.ids(text) if args.mode == "ids" else tok.tokenize(text)
            print(json.dumps(out, ensure_ascii=False))
        return

    if args.data is None:
        ap.error("bench needs a DATA.jsonl.gz")
    with gzip.open(args.data, "rt", encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    n_bytes = sum(len(t.encode("utf-8")) for t in texts)
    n_tokens = 0
    t0 = time.perf_counter()
    for t in texts:
        n_tokens += len(tok.tokenize(t)) + 2
    dt = time.perf_counter() - t0
    print(json.dumps({"bench": "tokenizer-reference", "threads": 1,
                      "mb_per_s": round(n_bytes / dt / 1e6, 3),
                      "tokens_per_s": round(n_tokens / dt), "texts": len(texts), "bytes": n_bytes,
                      "seconds": round(dt, 3), "lower_case": not args.cased}))


if __name__ == "__main__":
    main()
