"""Timeline for the neuron hunt: real MiniLM neurons across kinds of text (concepts).

Three acts, all from the detector (``engine/real/detect.py``) run on the concepts' probe texts:

(a) **Who responds to what**: a concept x concept matrix of neuron counts. Diagonal: neurons
    that respond to that concept only (monosemantic); off the diagonal: neurons that respond to
    exactly those two concepts (polysemantic with two responses, both carried by content). A
    response is one that beats the permutation null; every count is shown beside its chance level
    (the same count with the concept labels shuffled across whole snippets).
(b) **One polysemantic neuron**, chosen by :data:`INTERESTING_RULE`, on one snippet of each of its
    two concepts, token by token (Neuroscope style).
(c) **An artifact**: a neuron that seems to respond to a concept, but the response sits on token
    types it also fires on where they occur in other concepts' text (it answers the token, not the
    concept), chosen by :data:`ARTIFACT_RULE`; its snippets, and the share of each response carried
    by such tokens.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track
from engine.timelines.errors import SettingsError
from engine.timelines.hunt_common import (chance_meta, check_objects, check_source_choice, concept_label, concept_words,
                                          detect_concepts, join_words, jsonable, layer_words, open_activations,
                                          short_name)

KIND = "real.hunt"

INTERESTING_RULE = (
    "Among neurons the detector labels polysemantic with exactly two responses (both beat the null and are "
    "carried by content), the one whose weaker response beats the null most clearly (smallest larger p-value), "
    "then whose weaker response has the largest content-carried rate, rate x (1 - token share). "
    "Ties go to the lower index. "
    "(If no neuron responds to exactly two concepts, the same score over all polysemantic neurons' two "
    "strongest responses.)")
ARTIFACT_RULE = (
    "Among neurons the detector labels artifact with exactly two responses, one carried by content and one by "
    "tokens it also fires on in other concepts' text (if there are none: every artifact), the one that looks "
    "most like a real response: largest (weaker rate / the neuron's robust peak) x (token share of the "
    "token-carried response). Ties go to the lower index.")
SNIPPET_RULE = ("For each concept, the snippet holding the neuron's highest activation on that concept; "
                "at most max_tokens tokens of it, starting a third of the window before that token.")
ARTIFACT_TOKENS = 16  # tokens per snippet in the artifact panel, which also holds the share bars
CLOSING = {".", ",", ";", ":", "!", "?", ")", "]", "}", "'s"}  # stick to the token before
OPENING = {"(", "[", "{"}  # the token after sticks to them


@dataclass(frozen=True)
class HuntSettings:
    objects: tuple[str, ...] = ("fortran", "spanish_poetry", "medical", "gibberish")  # the concepts
    source: str = "minilm"
    layer: int | None = None  # None: the source's default (MiniLM block 5)
    activations: str | None = None  # a user's activation file; overrides ``source``
    max_tokens: int = 24  # tokens shown per snippet
    neuron: int | None = None  # force the polysemantic neuron (column index) instead of the rule
    artifact_neuron: int | None = None  # force the artifact neuron
    matrix_seconds: float = 12.0  # the three matrix phases together
    neuron_seconds: float = 10.0  # the two snippet phases together
    artifact_seconds: float = 11.0  # the artifact and the lesson together

    def validate(self) -> None:
        check_source_choice(self.source, self.activations, self.layer)
        check_objects(self.objects, self.source, self.activations, least=2, most=6, what="concepts")
        if not 8 <= self.max_tokens <= 32:
            raise SettingsError(f"max_tokens = {self.max_tokens}: show 8 to 32 tokens per snippet; try --set max_tokens=24")
        for name in ("neuron", "artifact_neuron"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise SettingsError(f"{name} = {v}: neuron indices start at 0")


# --- what the detector found, summarised ---------------------------------------------------------

def pair_matrix(classification, k: int) -> np.ndarray:
    """[K, K] int from one classification: diagonal = monosemantic neurons of each concept; [a, b] =
    polysemantic neurons whose responses are exactly a and b, both carried by content (symmetric)."""
    content, tokens, labels = classification.content, classification.tokens, classification.labels
    only_content = ~tokens.any(axis=0)
    m = np.zeros((k, k), dtype=np.int64)
    mono = (labels == "monosemantic") & only_content
    two = (labels == "polysemantic") & (content.sum(axis=0) == 2) & only_content
    for a in range(k):
        m[a, a] = int((mono & content[a]).sum())
        for b in range(a + 1, k):
            m[a, b] = m[b, a] = int((two & content[a] & content[b]).sum())
    return m


def pair_counts(report, concepts: tuple[str, ...]) -> np.ndarray:
    """:func:`pair_matrix` of the report's real labels."""
    return pair_matrix(report.real, len(concepts))


def pair_chance(report, concepts: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(mean, max) of :func:`pair_matrix` over the report's label shuffles."""
    shuffled = np.stack([pair_matrix(c, len(concepts)) for c in report.shuffles]) if report.shuffles else \
        np.zeros((1, len(concepts), len(concepts)))
    return shuffled.mean(axis=0), shuffled.max(axis=0)


def interesting_polysemantic(report, forced: int | None = None):
    """The neuron of :data:`INTERESTING_RULE` (or ``forced``), and its two responses, strongest first."""
    if forced is not None:
        n = report.neurons[forced]
        if len(n.content_concepts) < 2:
            raise SettingsError(f"neuron {forced} is {n.label} (responds to {', '.join(n.concepts) or 'nothing'}), "
                                f"not polysemantic; leave 'neuron' unset to let the rule choose")
        return n, tuple(r for r in n.responses if r.carried_by == "content")[:2]

    def score(n) -> tuple[float, float]:
        two = n.responses[:2]
        return (-max(r.p_value for r in two), min(r.rate * (1 - r.token_share) for r in two))

    poly = report.with_label("polysemantic")
    pool = [n for n in poly if len(n.concepts) == 2] or poly
    if not pool:
        return None, ()
    best = max(pool, key=lambda n: (*score(n), -n.index))
    return best, tuple(r for r in best.responses if r.carried_by == "content")[:2]


def elsewhere(acts, neuron: int, concept: str, types: tuple[str, ...], threshold: float) -> list[dict]:
    """Where else the types of a token-carried response occur, and how often the neuron fires on them there."""
    from engine.real.tokens import token_type
    kinds = np.array([token_type(t) for t in acts.token.tolist()])
    on = np.isin(kinds, list(types))
    active = acts.activations[:, neuron] >= threshold
    out = []
    for c in acts.concepts:
        rows = on & (acts.concept == c)
        if rows.any():
            out.append({"concept": c, "occurrences": int(rows.sum()), "active": int((rows & active).sum()),
                        "tested": c == concept})
    return out


def artifact_example(report, acts, forced: int | None = None):
    """The neuron of :data:`ARTIFACT_RULE` (or ``forced``), or None if the layer has no such neuron."""
    if forced is not None:
        n = report.neurons[forced]
        if n.label != "artifact":
            raise SettingsError(f"neuron {forced} is {n.label}, not an artifact; leave 'artifact_neuron' unset")
        return n
    candidates = [n for n in report.with_label("artifact")
                  if len(n.concepts) == 2 and len(n.content_concepts) == 1 and len(n.artifact_concepts) == 1]
    if not candidates:
        candidates = [n for n in report.with_label("artifact") if n.artifact_concepts]
    if not candidates:
        return None

    def score(n) -> float:
        shared = next(r for r in n.responses if r.carried_by != "content")
        weaker = min(r.rate for r in n.responses)
        return weaker / max(n.peak, 1e-9) * shared.token_share

    return max(candidates, key=lambda n: (score(n), -n.index))


# --- snippets as token chips ---------------------------------------------------------------------

def display_tokens(tokens: list[str]) -> tuple[list[str], list[bool]]:
    """Readable chip texts, and whether each continues the previous word (drawn without a gap).

    Word pieces (``##ion``) continue a word; with byte-level BPE (tokens carrying their leading
    space) a token without one continues; closing punctuation sticks to what precedes it."""
    byte_level = any(t.startswith(" ") for t in tokens)
    texts, joined = [], []
    for t in tokens:
        if t.startswith("##"):
            texts.append(t[2:] or t)
            joined.append(True)
        elif byte_level:
            texts.append(t.strip() or "\u00b7")
            joined.append(not t.startswith(" ") and bool(texts[:-1]))
        else:
            texts.append(t.strip() or "\u00b7")
            joined.append(t.strip() in CLOSING or (bool(texts[:-1]) and texts[-2] in OPENING))
    if joined:
        joined[0] = False
    return texts, joined


def snippet(acts, neuron: int, concept: str, max_tokens: int) -> dict:
    """The rows of the concept's snippet holding the neuron's highest activation (:data:`SNIPPET_RULE`)."""
    rows = np.flatnonzero(acts.mask(concept))
    peak_row = int(rows[np.argmax(acts.activations[rows, neuron])])
    if acts.sequence is not None:
        same = rows[acts.sequence[rows] == acts.sequence[peak_row]]
        if acts.position is not None:
            same = same[np.argsort(acts.position[same], kind="stable")]
    else:  # no snippet ids: the concept's tokens in file order
        same = rows
    where = int(np.flatnonzero(same == peak_row)[0])
    start = max(0, min(where - max_tokens // 3, len(same) - max_tokens))
    window = same[start:start + max_tokens]
    texts, joined = display_tokens(acts.token[window].tolist())
    return {"concept": concept, "rows": window, "texts": texts, "joined": joined,
            "activations": acts.activations[window, neuron].astype(np.float32),
            "cut_before": bool(start > 0), "cut_after": bool(start + max_tokens < len(same))}


def p_text(p: float) -> str:
    """A permutation p-value for a caption: two significant digits (0.0005, 0.012), never a bare 0."""
    return f"{p:.2g}"


def _quoted(hits, n: int = 3) -> str:
    """The top tokens for a caption: whole words first (word pieces only if too few), in activation order."""
    words = [h.token.strip() for h in hits if not h.token.startswith("##") and h.token.strip()]
    pieces = [h.token[2:] for h in hits if h.token.startswith("##") and h.token[2:]]
    chosen = list(dict.fromkeys(words))[:n]
    if len(chosen) < n:
        chosen += [p for p in dict.fromkeys(pieces) if p not in chosen][: n - len(chosen)]
    return ", ".join(f"\u2018{w}\u2019" for w in chosen)


# --- the timeline --------------------------------------------------------------------------------

def build(settings: HuntSettings, progress: bool = False) -> Timeline:
    settings.validate()
    concepts = tuple(settings.objects)
    acts, description = open_activations(settings.source, settings.activations, settings.layer, concepts)
    for name in ("neuron", "artifact_neuron"):
        v = getattr(settings, name)
        if v is not None and v >= acts.n_neurons:
            raise SettingsError(f"{name} = {v}, but {description} has {acts.n_neurons} neurons (0..{acts.n_neurons - 1})")
    report = detect_concepts(acts, concepts)
    counts = report.counts()
    matrix = pair_counts(report, concepts)
    chance_mean, chance_max = pair_chance(report, concepts)
    labels = [concept_label(c) for c in concepts]
    lower = [concept_words(c) for c in concepts]
    word = dict(zip(concepts, lower))
    k = len(concepts)
    where = layer_words(acts)
    n_total = len(report.neurons)
    n_alone, n_pairs = int(np.trace(matrix)), int(np.triu(matrix, 1).sum())
    alone_chance = float(np.trace(chance_mean))
    pairs_chance = float(np.triu(chance_mean, 1).sum())
    more = report.measure(lambda c: int(((c.labels == "polysemantic") & (c.content.sum(axis=0) > 2)).sum()))
    n_more = int(more.real)

    poly, responses = interesting_polysemantic(report, settings.neuron)
    if poly is None:
        raise SettingsError(f"no neuron of {description} responds to two or more of {', '.join(concepts)}; "
                            f"try other concepts")
    art = artifact_example(report, acts, settings.artifact_neuron)

    a, b = responses
    pa, pb = (snippet(acts, poly.index, r.concept, settings.max_tokens) for r in responses)
    poly_short = short_name(poly.name)
    m3 = settings.matrix_seconds / 12.0
    n2 = settings.neuron_seconds / 2
    upper = np.where(np.triu(np.ones_like(matrix), 1) > 0, matrix, -1)
    busiest = np.unravel_index(np.argmax(upper), matrix.shape)  # the pair with the most neurons
    segments = [
        Segment("concepts", 3.5 * m3, f"All {n_total:,} neurons of {where}, recorded on {k} kinds of text: "
                f"{join_words(lower)}. Which kinds does each neuron respond to?", "smooth"),
        Segment("alone", 3.5 * m3, f"On the diagonal: neurons that respond to one kind of text only (beating "
                f"shuffled labels), {n_alone:,} in all; chance: {alone_chance:.1f}.", "smooth"),
        Segment("pairs", 5.0 * m3, f"Off the diagonal: neurons that respond to exactly those two kinds, {n_pairs:,} in "
                f"all (chance {pairs_chance:.1f}), most to {word[concepts[busiest[0]]]} and "
                f"{word[concepts[busiest[1]]]}. {n_more:,} more respond to three or more kinds (chance {more.mean:.1f}).",
                "smooth"),
        Segment("neuron_a", n2, f"The clearest two-kind neuron, {poly_short}, on a line of {word[a.concept]}: "
                f"it fires on {_quoted(a.top_tokens)}.", "linear"),
        Segment("neuron_b", n2, f"The same neuron on {word[b.concept]}: it fires on {_quoted(b.top_tokens)}. "
                f"Both responses beat shuffled labels (p = {p_text(a.p_value)}, {p_text(b.p_value)}): polysemantic.", "linear"),
    ]
    meta_art = None
    snippets = {"a": pa, "b": pb}
    if art is not None:
        content = next((r for r in art.responses if r.carried_by == "content"), None)
        shared = next(r for r in art.responses if r.carried_by != "content")
        short_window = min(settings.max_tokens, ARTIFACT_TOKENS)  # two snippets and the shares share a panel
        if content is not None:
            snippets["art_content"] = snippet(acts, art.index, content.concept, short_window)
        snippets["art"] = snippet(acts, art.index, shared.concept, short_window)
        art_short = short_name(art.name)
        other = f"{word[content.concept]} and {word[shared.concept]}" if content else word[shared.concept]
        where = [e for e in elsewhere(acts, art.index, shared.concept, shared.shared_types, art.threshold)
                 if not e["tested"] and e["active"]]
        others = join_words([word.get(e["concept"], concept_words(e["concept"])) for e in where]) or "other texts"
        types = ", ".join(f"\u2018{t}\u2019" for t in shared.shared_types[:3])
        seems = f"seems to respond to two kinds too: it fires on {other}." if content else f"seems to respond to {other}."
        segments += [
            Segment("artifact", 0.5 * settings.artifact_seconds, f"{art_short} {seems}", "linear"),
            Segment("lesson", 0.5 * settings.artifact_seconds,
                    f"But {shared.token_share:.0%} of its {word[shared.concept]} response sits on {types}, which it also "
                    f"fires on in {others}. It answers the tokens, not {word[shared.concept]}: an artifact.", "smooth"),
        ]
        meta_art = {
            "neuron": int(art.index), "name": art.name, "label": art_short,
            "responses": [{"concept": r.concept, "concept_index": concepts.index(r.concept), "rate": r.rate,
                           "token_share": r.token_share, "p_value": r.p_value, "carried_by": r.carried_by,
                           "shared_types": list(r.shared_types),
                           "top_tokens": [h.token[2:] if h.token.startswith("##") else h.token.strip()
                                          for h in r.top_tokens],
                           "elsewhere": elsewhere(acts, art.index, r.concept, r.shared_types, art.threshold)
                           if r.shared_types else []}
                          for r in art.responses],
            "peak": art.peak, "shared_threshold": report.config.token_share_max,
        }

    tl = Timeline(kind=KIND, title="Hunting polysemantic neurons in a real model",
                  source=f"{description} \u00b7 probe texts: {', '.join(concepts)}",
                  segments=segments)
    starts = {s.name: tl.segment_start(s.name) for s in segments}
    durs = {s.name: s.duration for s in segments}

    def step(name: str, at: list[tuple[str, float]], values: list) -> None:
        """A track holding its first value until the first key, then moving between keys given as
        (segment, fraction of it)."""
        times = [0.0] + [starts[seg] + f * durs[seg] for seg, f in at]
        tl.tracks[name] = Track(np.array(times), np.asarray([values[0], *values], dtype=np.float32))

    # Discrete changes happen at the very start of a segment (the scene fades them in its head).
    head = 0.08
    # Which panel is on screen: (a) matrix, (b) the polysemantic neuron, (c) the artifact.
    panel_a, panel_b, panel_c = np.eye(3)
    keys, vals = [("neuron_a", 0.0), ("neuron_a", head)], [panel_a, panel_b]
    if art is not None:
        keys += [("artifact", 0.0), ("artifact", head)]
        vals += [panel_b, panel_c]
    step("panels", keys, vals)
    # (a) the matrix: the diagonal's cells, then the rest, with the notes beside it.
    diag, off = np.eye(k), 1.0 - np.eye(k)
    step("cells", [("alone", 0.0), ("alone", head), ("pairs", 0.0), ("pairs", head)],
         [0 * diag, diag, diag, diag + off])
    step("notes", [("pairs", 0.0), ("pairs", head)], [0.0, 1.0])
    # (b), (c) token sweeps: how many tokens of each snippet have been read so far.
    sweeps = [("a", "neuron_a", 0.1, 0.7), ("b", "neuron_b", 0.1, 0.7)]
    if art is not None:
        both = "art_content" in snippets
        sweeps += [("art_content", "artifact", 0.08, 0.42)] if both else []
        sweeps += [("art", "artifact", 0.5 if both else 0.1, 0.84 if both else 0.7)]
    for key, seg, f0, f1 in sweeps:
        step(f"sweep_{key}", [(seg, f0), (seg, f1)], [0.0, float(len(snippets[key]["texts"]))])
    step("show_b", [("neuron_b", 0.0), ("neuron_b", head)], [0.0, 1.0])
    if art is not None:
        step("verdict", [("lesson", 0.0), ("lesson", head)], [0.0, 1.0])

    tl.arrays["pair_counts"] = matrix
    tl.arrays["pair_chance"] = chance_mean.astype(np.float32)
    for key, snip in snippets.items():
        tl.arrays[f"snippet_{key}"] = snip["activations"]
        tl.arrays[f"snippet_rows_{key}"] = snip["rows"].astype(np.int64)

    def snip_meta(s: dict) -> dict:
        return {"concept": s["concept"], "concept_index": concepts.index(s["concept"]), "texts": s["texts"],
                "joined": s["joined"], "cut_before": s["cut_before"], "cut_after": s["cut_after"]}

    tl.meta.update(
        concepts=list(concepts), concept_labels=labels, concept_words=lower, objects=list(concepts),
        counts=counts, chance=chance_meta(report), n_neurons=n_total, responds_to_more=n_more,
        responds_to_more_chance={"mean": more.mean, "max": more.max},
        pair_chance={"mean": chance_mean.tolist(), "max": chance_max.tolist()},
        polysemantic={"neuron": int(poly.index), "name": poly.name, "label": poly_short, "peak": poly.peak,
                      "concepts": [a.concept, b.concept],
                      "rates": [a.rate, b.rate], "token_shares": [a.token_share, b.token_share],
                      "p_values": [a.p_value, b.p_value]},
        snippets={key: snip_meta(snip) for key, snip in snippets.items()},
        artifact=meta_art, hook=acts.hook or "",
        rules={"interesting": INTERESTING_RULE, "artifact": ARTIFACT_RULE, "snippet": SNIPPET_RULE},
        settings=jsonable(settings),
    )
    return tl.validate()
