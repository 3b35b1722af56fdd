"""CLIP's byte-level BPE tokeniser rebuilt from ``bpe_simple_vocab_16e6.txt.gz`` with the ``tokenizers`` library.

Used when a CLIP checkpoint comes without Hugging Face tokenizer files (OpenAI / open_clip state
dicts). The vocabulary file (MIT, shipped in the open_clip_torch wheel) is a list of merges; the
49,408-entry vocabulary is derived from it the way CLIP does: the 256 byte symbols, the same with the
end-of-word marker ``</w>``, one entry per merge (first 48,894 merges), then ``<|startoftext|>`` and
``<|endoftext|>``. Text is NFC-normalised, whitespace-collapsed and lower-cased before splitting
(CLIP additionally runs ``ftfy.fix_text``; that only matters for mojibake, not for action captions).
"""
from __future__ import annotations

import gzip
from pathlib import Path
from typing import Dict, List, Tuple

from ..errors import CacheError
from .base import PathLike

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
CLIP_NUM_MERGES = 49152 - 256 - 2  # the slice of the merges file that CLIP uses
CLIP_SPLIT_PATTERN = (r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]"""
                      r"""|[^\s\p{L}\p{N}]+""")


def byte_symbols() -> List[str]:
    """The 256 printable stand-ins for raw bytes, in CLIP/GPT-2 vocabulary order.

    Printable Latin-1 bytes stand for themselves; the remaining bytes (controls, space, ...) are
    mapped, in byte order, to code points from 256 upwards so that no symbol is whitespace.
    """
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    kept = set(keep)
    symbols = [chr(b) for b in keep]
    extra = 0
    for b in range(256):
        if b not in kept:
            symbols.append(chr(256 + extra))
            extra += 1
    return symbols


def clip_vocab_from_bpe(path: PathLike, num_merges: int = CLIP_NUM_MERGES) -> Tuple[Dict[str, int], List[Tuple[str, str]]]:
    """Vocabulary (token -> id) and merge list from a CLIP ``bpe_simple_vocab_16e6.txt.gz`` file."""
    path = Path(path)
    try:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            lines = f.read().split("\n")
    except (OSError, EOFError, UnicodeDecodeError) as e:
        raise CacheError(f"{path}: not a readable gzip BPE merges file ({type(e).__name__}: {e})") from e
    merges: List[Tuple[str, str]] = []
    for i, line in enumerate(lines[1:1 + num_merges], start=2):  # line 1 is a version header
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise CacheError(f"{path}: line {i} is not a merge pair: {line!r}")
        merges.append((parts[0], parts[1]))
    if not merges:
        raise CacheError(f"{path}: no merges found")
    tokens = byte_symbols()
    tokens = tokens + [t + "</w>" for t in tokens]
    tokens += ["".join(m) for m in merges]
    tokens += [SOT, EOT]
    vocab: Dict[str, int] = {}
    for t in tokens:
        vocab.setdefault(t, len(vocab))
    if len(vocab) != len(tokens):
        raise CacheError(f"{path}: merges produce duplicate vocabulary entries")
    return vocab, merges


def build_clip_bpe_tokenizer(path: PathLike, num_merges: int = CLIP_NUM_MERGES):
    """A ``tokenizers.Tokenizer`` that splits like CLIP and emits BPE ids *without* start/end tokens."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers
    from tokenizers.models import BPE

    vocab, merges = clip_vocab_from_bpe(path, num_merges)
    tok = Tokenizer(BPE(vocab=vocab, merges=merges, end_of_word_suffix="</w>", continuing_subword_prefix="",
                        unk_token=EOT, fuse_unk=False, dropout=None))
    tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "),
                                           normalizers.Strip(), normalizers.Lowercase()])
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(CLIP_SPLIT_PATTERN), behavior="removed", invert=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([SOT, EOT])
    return tok
