"""The shared-neuron scene draws its timeline: golden last frame, the fixture is what the engine makes, and
every neuron ends beside exactly the objects it serves, linked to each (checked during the same render)."""
from __future__ import annotations

import numpy as np
from manim.utils.testing.frames_comparison import frames_comparison

from scenes.grid_shared import SharedNeurons
from tests.scenes import fixtures

__module_test__ = "shared_neurons"


def build_fixture():
    from engine.timelines.grid_shared import SharedSettings, build
    return build(SharedSettings())


TIMELINE = fixtures.load_or_none(__module_test__)

SEEN: dict[str, dict] = {}


def _look(scene, segment) -> None:
    """Called as each phase ends during the golden-frame render: node centres and links."""
    SEEN[segment.name] = {
        "centres": np.pad(scene.nodes.cell_centres(), ((0, 0), (0, 1))), "start": scene.start.copy(),
        "end": scene.end.copy(), "hubs": np.array(scene.hub_pos),
        "links": [(j, o, line.get_stroke_opacity()) for line, (j, o, _) in zip(scene.links, scene.link_ends)]}


class _Bound(SharedNeurons):
    def __init__(self, **kwargs):
        super().__init__(timeline=TIMELINE, on_segment_end=_look, **kwargs)


@frames_comparison(base_scene=_Bound, last_frame=True)
def test_last_frame(scene):
    SharedNeurons.construct(scene)
    # One render serves both the golden frame and the checks of every phase.
    assert list(SEEN) == [s.name for s in TIMELINE.segments]
    check_neurons_sit_with_the_objects_they_serve_linked_to_each(SEEN)


@frames_comparison(base_scene=fixtures.bound(SharedNeurons, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    SharedNeurons.construct(scene)


def check_neurons_sit_with_the_objects_they_serve_linked_to_each(phases):
    serves = TIMELINE.arrays["serves"].astype(bool)
    sizes = serves.sum(0)
    first = phases["size_1_hold"]
    moved = sizes == 1
    np.testing.assert_allclose(first["centres"][moved], first["end"][moved], atol=1e-6)
    np.testing.assert_allclose(first["centres"][~moved], first["start"][~moved], atol=1e-6)
    # A specific neuron is nearer its own object than any other; shared ones have not moved yet.
    for j in np.flatnonzero(moved):
        distances = np.linalg.norm(first["hubs"] - first["centres"][j], axis=1)
        assert np.argmin(distances) == np.flatnonzero(serves[:, j])[0]
    visible = sorted((j, o) for j, o, opacity in first["links"] if opacity > 0)
    assert visible == sorted((j, o) for j in np.flatnonzero(moved) for o in np.flatnonzero(serves[:, j]))

    last = phases["summary"]
    assert {(j, o) for j, o, _ in last["links"]} == {(j, o) for o, j in zip(*np.nonzero(serves))}
    assert all(opacity > 0 for _, _, opacity in last["links"])
    np.testing.assert_allclose(last["centres"], last["end"], atol=1e-6)
    pairs = [(a, b) for a in range(3) for b in range(a + 1, 3)]
    for j in np.flatnonzero(sizes == 2):  # a pair neuron sits by the edge between its two objects
        nearest = min(pairs, key=lambda p: _to_segment(last["centres"][j], last["hubs"][p[0]], last["hubs"][p[1]]))
        assert list(nearest) == np.flatnonzero(serves[:, j]).tolist()


def _to_segment(point: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    t = np.clip(np.dot(point - a, b - a) / np.dot(b - a, b - a), 0, 1)
    return float(np.linalg.norm(point - (a + t * (b - a))))


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.CAPTURED)
