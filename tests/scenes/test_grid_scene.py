"""The superposition grid draws its timeline: golden last frame, the fixture is what the engine makes, and
in every phase the discs, wedges and rings show what the timeline says (checked during the same render)."""
from __future__ import annotations

import numpy as np
from manim.utils.testing.frames_comparison import frames_comparison

from scenes import style
from scenes.grid import SuperpositionGrid, hex_rgb, mix
from tests.scenes import fixtures

__module_test__ = "grid_minilm"


def build_fixture():
    from engine.timelines.grid import GridSettings, build
    return build(GridSettings())  # MiniLM's timeline is already small: 3 objects x 49 neurons


TIMELINE = fixtures.load_or_none(__module_test__)

SEEN: dict[str, dict] = {}


def _look(scene, segment) -> None:
    """Called as each phase ends during the golden-frame render: what the scene shows then."""
    SEEN[segment.name] = {
        "discs": scene.discs.fills[:, 0].copy(),
        "wedges_on": scene.wedges in scene.mobjects, "rings_on": scene.rings in scene.mobjects,
        "rings": [(c, scene.rings.get_stroke_opacity()) for c in scene.rings.cell_centres()],
        "wedge_opacity": [scene.wedges.get_fill_opacity()],
        "updaters": {k: bool(getattr(scene, k).updaters) for k in ("discs", "wedges", "rings")},
        "centres": scene.centres.copy(), "weights": np.asarray(scene.sample("weights"), dtype=float).copy()}


class _Bound(SuperpositionGrid):
    def __init__(self, **kwargs):
        super().__init__(timeline=TIMELINE, on_segment_end=_look, **kwargs)


@frames_comparison(base_scene=_Bound, last_frame=True)
def test_last_frame(scene):
    SuperpositionGrid.construct(scene)
    # One render (about 10 s) serves both the golden frame and the checks of every phase.
    assert list(SEEN) == [s.name for s in TIMELINE.segments]
    check_each_object_phase_ends_with_that_objects_levels_on_the_discs(SEEN)
    check_the_combined_view_rings_exactly_the_shared_neurons_and_freezes_what_no_longer_moves(SEEN)


@frames_comparison(base_scene=fixtures.bound(SuperpositionGrid, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    SuperpositionGrid.construct(scene)


def check_each_object_phase_ends_with_that_objects_levels_on_the_discs(phases):
    """Each disc is its neuron's level of every shown object, newest object painted over older ones."""
    levels = TIMELINE.arrays["levels"]
    off = hex_rgb(style.GRID_CELL_OFF)
    colours = [hex_rgb(c) for c in style.object_colours(TIMELINE.meta, 3)]
    for i in range(3):
        end = phases[f"object_{i}_hold"]
        expected = np.broadcast_to(off, (levels.shape[1], 3))
        for o in range(3):
            expected = mix(expected, colours[o], end["weights"][o] * levels[o])
        np.testing.assert_allclose(end["discs"], expected, atol=2 / 255)
        assert end["weights"][i] == 1 and end["weights"].sum() < 1.2  # this object, at most a faint residual
        assert not end["wedges_on"] and not end["rings_on"]
    # When the second object has risen, the first one's residual is still visible on its neurons.
    assert phases["object_1"]["weights"][0] > 0.2


def check_the_combined_view_rings_exactly_the_shared_neurons_and_freezes_what_no_longer_moves(phases):
    end = phases["count"]
    shared = np.flatnonzero(TIMELINE.arrays["group_size"] >= 2)
    assert len(end["rings"]) == len(shared) > 0
    np.testing.assert_allclose([c for c, _ in end["rings"]], end["centres"][shared, :2], atol=1e-6)
    assert all(opacity == 1 for _, opacity in end["rings"])
    assert all(o == 1 for o in end["wedge_opacity"])
    assert phases["combined"]["wedges_on"] and not phases["combined"]["rings_on"]
    # Nothing changes in the last phase, so no layer keeps an updater: Cairo draws it once.
    assert end["updaters"] == {"discs": False, "wedges": False, "rings": False}
    assert phases["object_1"]["updaters"]["discs"]


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.CAPTURED)
