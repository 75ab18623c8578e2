"""The shipped probe texts: provenance line, enough tokens, and a reproducible gibberish control."""
from __future__ import annotations

import pytest

from engine.real import gibberish
from engine.real.minilm import minilm_dir
from engine.real.probes import PROBES_DIR, ProbeError, available_concepts, load_probe, load_probes, parse_probe

REQUIRED = ("cat", "car", "house", "dog", "tree", "boat", "fortran", "spanish_poetry", "medical", "gibberish")


@pytest.fixture(scope="module")
def tokenizer():
    import transformers

    return transformers.AutoTokenizer.from_pretrained(minilm_dir(), local_files_only=True)


def test_required_concepts_are_shipped():
    assert set(REQUIRED) <= set(available_concepts())


@pytest.mark.parametrize("concept", REQUIRED)
def test_probe_has_provenance_and_enough_tokens(concept, tokenizer):
    probe = load_probe(concept)
    first_line = (PROBES_DIR / f"{concept}.txt").read_text(encoding="utf-8").splitlines()[0]
    assert first_line.startswith("# source: ") and probe.source
    n_tokens = sum(len(tokenizer(s, add_special_tokens=False)["input_ids"]) for s in probe.snippets)
    assert n_tokens >= 300, f"{concept} has only {n_tokens} tokens"
    assert len(probe.snippets) >= 20
    assert len(set(probe.snippets)) == len(probe.snippets)  # no duplicated snippet inflating the statistics


def test_gibberish_file_is_exactly_the_seeded_generator():
    shipped = (PROBES_DIR / "gibberish.txt").read_text(encoding="utf-8")
    assert shipped == gibberish.generate()
    assert "seed 0" in shipped.splitlines()[0]
    assert gibberish.generate(seed=1) != shipped
    assert not set("aeiouy") & set(shipped.lower().split("\n", 1)[1])  # consonants only: no words by accident


def test_fortran_looks_like_fortran():
    text = "\n".join(load_probe("fortran").snippets).lower()
    for keyword in ("implicit none", "end subroutine", "intent(in)", "allocate(", "end do", "end select"):
        assert keyword in text


def test_bad_probe_files(tmp_path):
    with pytest.raises(ProbeError, match="first line must say where the text came from"):
        parse_probe("x", "no header\ntext", tmp_path / "x.txt")
    with pytest.raises(ProbeError, match="no snippets"):
        parse_probe("x", "# source: me\n\n# only comments\n", tmp_path / "x.txt")
    with pytest.raises(ProbeError, match="no probe text for concept 'unicorn'"):
        load_probe("unicorn")
    with pytest.raises(ProbeError, match="more than once"):
        load_probes(["cat", "cat"])
    probe = parse_probe("x", "# source: me\n  one  \n\n# note\ntwo\n", tmp_path / "x.txt")
    assert probe.snippets == ("one", "two") and probe.source == "me"
