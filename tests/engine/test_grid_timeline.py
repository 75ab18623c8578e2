"""The grid and shared-neuron timelines show what the engine measured: real MiniLM neurons, the toy model, a user's file."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.polysemantic import grid_neurons
from engine.real.grid import concept_means
from engine.real.sources import open_source
from engine.timelines.errors import SettingsError
from engine.timelines.grid import GridSettings, build
from engine.timelines.grid_data import grid_data, scaled_levels, toy_responses
from engine.timelines.grid_shared import SharedSettings, build as build_shared
from engine.toy import measure, train_cached

torch.set_num_threads(1)
OBJECTS = ("cat", "car", "house")
TOY = GridSettings(source="toy", objects=("0", "1", "2"))  # the grid_toy catalogue entry


@pytest.fixture(scope="module")
def acts():
    source = open_source("minilm")
    return source.capture([*OBJECTS, *[c for c in source.concepts if c not in OBJECTS]])


@pytest.fixture(scope="module")
def real():
    return build(GridSettings())


@pytest.fixture(scope="module")
def toy():
    return build(TOY)


# --- real neurons ---------------------------------------------------------------------------------

def test_grid_shows_the_grid_rules_49_minilm_neurons(real):
    selection = grid_neurons("minilm", OBJECTS)
    np.testing.assert_array_equal(real.arrays["indices"], selection.indices)
    np.testing.assert_allclose(real.arrays["responses"], selection.means, atol=1e-6)
    serves = np.array([[o in g for g in selection.groups] for o in OBJECTS])
    np.testing.assert_array_equal(real.arrays["serves"].astype(bool), serves)
    assert real.meta["names"] == list(selection.names)
    assert real.meta["grid"] == [7, 7]
    assert "all-MiniLM-L6-v2" in real.source and "blocks.5.mlp.hook_post" in real.source


def test_brightness_is_the_mean_activation_scaled_over_all_probe_concepts(real, acts):
    means = concept_means(acts)[:, real.arrays["indices"]].astype(np.float64)  # [10 concepts, 49]
    assert means.shape[0] == 10
    rows = [acts.concepts.index(o) for o in OBJECTS]
    expected = np.clip((means[rows] - means.min(0)) / (means.max(0) - means.min(0)), 0, 1)
    np.testing.assert_allclose(real.arrays["levels"], expected, atol=1e-5)
    # A neuron is brightest for the objects it serves: every specific neuron's own object is its brightest.
    levels, serves = real.arrays["levels"], real.arrays["serves"].astype(bool)
    specific = serves.sum(0) == 1
    assert np.all(levels[:, specific].argmax(0) == serves[:, specific].argmax(0))


def test_layer_wide_counts_are_the_detectors_beside_chance(real, acts):
    """Counts over the whole layer, tested against the objects' matched background, with chance levels."""
    from engine.polysemantic import detect
    from engine.real.grid import served_counts

    pool = acts.select(concepts=[*OBJECTS, "dog", "tree", "boat"])
    report = detect(pool, concepts=OBJECTS)
    sizes = served_counts(report.real)
    assert real.meta["layer_counts"] == np.bincount(sizes, minlength=4).tolist()
    assert real.meta["layer_size"] == 1536
    chance = real.meta["layer_chance"]
    for k in range(4):
        shuffled = [int((served_counts(c) == k).sum()) for c in report.shuffles]
        assert chance[k]["mean"] == pytest.approx(np.mean(shuffled)) and chance[k]["max"] == max(shuffled)
    shared = sum(real.meta["layer_counts"][2:])
    shared_chance = sum(c["mean"] for c in chance[2:])
    words = f"{shared:,} (chance {shared_chance:.1f}) serve two or more"
    assert words in real.segments[-2].caption  # the "shared" phase quotes the layer beside chance
    assert "superposition" not in " ".join(s.caption for s in real.segments)


def test_the_count_shown_is_the_grids_group_sizes(real):
    sizes = real.arrays["serves"].sum(0)
    counts = {row["size"]: row["n"] for row in real.meta["count_rows"]}
    assert counts == {k: int((sizes == k).sum()) for k in range(4) if (sizes == k).any()}
    assert sum(counts.values()) == 49
    # shared neurons of the layer that pass the null fill at most half the grid, and no other is shown as shared
    assert counts.get(2, 0) + counts.get(3, 0) == min(sum(real.meta["layer_counts"][2:]), 49 // 2)
    assert f"{counts[1]} neurons specific to one object" in real.segments[-1].caption


def test_a_users_activation_file_gives_the_same_grid(real, acts, tmp_path):
    """A file holding the objects and their matched background: the same null pool, so the same grid."""
    path = acts.select(concepts=[*OBJECTS, "dog", "tree", "boat"]).save(tmp_path / "mine.npz")
    mine = build(GridSettings(activations=str(path)))
    for name in ("indices", "serves", "responses"):
        np.testing.assert_array_equal(mine.arrays[name], real.arrays[name])
    assert "mine.npz" in mine.source
    assert "tokens labelled cat" in mine.segments[0].caption


def test_a_smaller_real_layer_shows_all_its_neurons():
    data = grid_data(GridSettings(source="digits", objects=("3", "5", "8")))
    assert data.cells == data.layer_size == 32 and data.labels == ("digit 3", "digit 5", "digit 8")
    tl = build(GridSettings(source="digits", objects=("3", "5", "8")))
    assert tl.meta["grid"] == [6, 6] and "images of the digits 3, 5 and 8" in tl.segments[0].caption


# --- the toy model --------------------------------------------------------------------------------

def test_toy_grid_shows_relu_of_w_for_the_shown_features(toy):
    run = train_cached(TOY.toy_config())
    responses = toy_responses(run.W[0])  # [80 features, 49 neurons]
    np.testing.assert_allclose(toy.arrays["responses"], np.maximum(run.W[0][:3], 0), atol=1e-6)
    levels = responses[:3] / responses.max(0)
    np.testing.assert_allclose(toy.arrays["levels"], levels, atol=1e-5)
    np.testing.assert_array_equal(toy.arrays["serves"].astype(bool), (levels >= 0.5) & (responses[:3] > 1e-6))
    np.testing.assert_array_equal(toy.arrays["indices"], np.arange(49))


def test_toy_model_is_in_superposition_and_its_neurons_are_polysemantic(toy):
    run = train_cached(TOY.toy_config())
    W = run.W  # [1, 80, 49]
    assert measure.n_represented(W)[0] >= 70  # far more features represented than the 49 neurons
    assert measure.dimensions_per_feature(W)[0] < 0.5
    shared = toy.arrays["serves"].sum(0) >= 2
    assert shared.sum() >= 3  # several neurons respond to two or more of the three shown features
    levels = scaled_levels(toy_responses(W[0]), 0.0, toy_responses(W[0]).max(0))
    assert ((levels >= 0.5).sum(0) >= 2).all()  # every neuron serves several of the 80 features


# --- the timelines over time ------------------------------------------------------------------------

def test_each_object_lights_in_turn_then_all_at_once(real):
    for i in range(3):
        end = real.segment_start(f"object_{i}_hold") + real.segments[real.segment_index(f"object_{i}_hold")].duration
        np.testing.assert_allclose(real.sample("weights", end - 1e-6), np.eye(3)[i], atol=1e-4)
        risen = real.sample("weights", real.segment_start(f"object_{i}_hold"))
        assert risen[i] == pytest.approx(1.0) and (i == 0 or risen[i - 1] == pytest.approx(0.35))
    assert real.sample("split", real.segment_start("combine")) == 0
    assert real.sample("split", real.segment_start("combined")) == 1
    assert real.sample("ring", real.segment_start("count")) == 1
    assert real.sample("ring", real.segment_start("shared") - 1e-6) == 0
    assert 15 <= real.duration <= 35


def test_shared_scene_moves_each_group_in_its_phase():
    tl = build_shared(SharedSettings())
    sizes = tl.arrays["group_size"]
    grid = build(GridSettings())
    np.testing.assert_array_equal(tl.arrays["serves"], grid.arrays["serves"])
    np.testing.assert_array_equal(tl.arrays["levels"], grid.arrays["levels"])
    for k in sorted({int(s) for s in sizes if s >= 1}):  # only group sizes that occur get a phase
        at = tl.segment_start(f"size_{k}_hold")
        np.testing.assert_array_equal(tl.sample("place", at) == 1, (sizes >= 1) & (sizes <= k))
        np.testing.assert_array_equal(tl.sample("place", tl.segment_start(f"size_{k}")) == 0, sizes >= k)
    assert sum(g["n"] for g in tl.meta["groups"]) == 49
    assert "size_3" not in [s.name for s in tl.segments] or (sizes == 3).any()
    pairs = {tuple(g["members"]): g["n"] for g in tl.meta["groups"]}
    assert pairs[(0, 1)] == int(((tl.arrays["serves"][0] == 1) & (tl.arrays["serves"][1] == 1)
                                 & (tl.arrays["serves"][2] == 0)).sum())
    assert 15 <= tl.duration <= 35


def test_timelines_are_deterministic(real, toy):
    for settings, first in ((GridSettings(), real), (TOY, toy)):
        again = build(settings)
        assert again.segments == first.segments and again.meta == first.meta
        for k in first.arrays:
            np.testing.assert_array_equal(again.arrays[k], first.arrays[k])


# --- bad settings: one line, before any work ------------------------------------------------------

@pytest.mark.parametrize("settings, says", [
    (GridSettings(objects=("zebra", "car")), "no probe text for object 'zebra'; available: boat, car, cat"),
    (GridSettings(activations="/no/such/acts.npz"), "no such activation file"),
    (GridSettings(source="toy"), "feature indices 0..79, not 'cat'"),
    (GridSettings(source="digits"), "the digits model knows the concepts 0..9, not 'cat'"),
    (GridSettings(source="gpt9"), "unknown source 'gpt9'"),
    (GridSettings(objects=("cat",)), "2 to 6 objects, got 1"),
    (GridSettings(objects=("cat", "cat")), "repeat"),
    (GridSettings(n_neurons=500), "n_neurons=500"),
    (GridSettings(layer=9), "layer 9 does not exist"),
    (GridSettings(source="toy", objects=("0", "1"), n_neurons=90), "toy model: n_hidden=90"),
    (SharedSettings(objects=("cat", "car", "house", "dog")), "2 to 3 objects, got 4"),
])
def test_bad_settings_are_one_line(settings, says):
    with pytest.raises(SettingsError) as err:
        settings.validate()
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_broken_activation_file_is_one_settings_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(SettingsError) as err:
        GridSettings(activations=str(bad)).validate()
    assert str(err.value).startswith(str(bad)) and "\n" not in str(err.value)
    np.savez(tmp_path / "few.npz", activations=np.ones((3, 2), np.float32), concept=np.array(["cat", "car", "cat"]),
             token=np.array(["a", "b", "c"]))
    with pytest.raises(SettingsError, match="labels no tokens with concept 'house'"):
        GridSettings(activations=str(tmp_path / "few.npz")).validate()


def test_shared_scene_summary_quotes_the_layer_beside_chance():
    tl = build_shared(SharedSettings())
    lc, chance = tl.meta["layer_counts"], tl.meta["layer_chance"]
    several = sum(c["mean"] for c in chance[2:])
    summary = tl.segments[-1].caption
    assert f"{lc[1]:,} (chance {chance[1]['mean']:.1f}) serve one object" in summary
    assert f"{sum(lc[2:]):,} (chance {several:.1f}) two or more" in summary
    assert f"{int((tl.arrays['group_size'] >= 2).sum())} of these 49 neurons are shared" in summary
    assert "superposition" not in " ".join(s.caption for s in tl.segments)


def test_object_captions_quote_the_layer_beside_chance(real, acts):
    """Each object's phase says how many of the grid's neurons serve it and how many of the layer's do, with chance."""
    from engine.polysemantic import detect

    report = detect(acts.select(concepts=[*OBJECTS, "dog", "tree", "boat"]), concepts=OBJECTS)
    for i, o in enumerate(OBJECTS):
        counts = report.measure(lambda c, i=i: int((c.content[i] & ~c.tokens.any(axis=0)).sum()))
        caption = real.segments[real.segment_index(f"object_{i}")].caption
        assert f"whole layer: {counts.real:,.0f} (chance {counts.mean:.1f})" in caption
        assert f"{int(real.arrays['serves'][i].sum())} neuron" in caption
