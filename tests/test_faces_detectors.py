"""Face detectors on generated posters with real NK faces pasted at known places.

Each detector must find every pasted face (a box centred inside the pasted square) and little
else; the wrappers (`Resized`, `Tiled`) must report boxes in the original image's pixels. The
merge and tiling arithmetic is also checked exactly with stub detectors on synthetic images.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from postercensus.faces.boxes import Box, merge_boxes, overlap
from postercensus.faces.detectors import (
    CnnDetector,
    EnsembleDetector,
    HaarDetector,
    HogDetector,
    Resized,
    Tiled,
    tile_origins,
)
from postercensus.faces.settings import FaceSettings, build_detector
from tests.support.posters import (
    HOG_ONLY_FACE,
    VERIFIED_FACES,
    Placement,
    Poster,
    assert_finds_faces,
    make_poster,
    match,
    standard_poster,
)


@pytest.fixture(scope="module")
def poster(shared_data: Path) -> Poster:
    return standard_poster(shared_data)


@pytest.fixture(scope="module")
def poster_rgb(poster: Poster) -> np.ndarray:
    return poster.rgb()


_detections: dict[str, list[Box]] = {}


@pytest.fixture(scope="module")
def detected(poster_rgb):
    """Boxes per detector name on the standard poster, each detector run once per module."""
    _detections.clear()

    def run(name: str) -> list[Box]:
        if name not in _detections:
            _detections[name] = build_detector(FaceSettings(detector=name)).detect(poster_rgb)
        return _detections[name]

    return run


def _inside(box: Box, width: int, height: int) -> bool:
    return 0 <= box.left < box.right <= width and 0 <= box.top < box.bottom <= height


# -- the real detectors -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ["hog", "haar", "ensemble"])
def test_detector_finds_every_pasted_face_and_nothing_else(name, detected, poster):
    boxes = detected(name)

    assert_finds_faces(boxes, poster.placements, max_stray=0)
    width, height = poster.size
    assert all(_inside(box, width, height) for box in boxes)
    assert all(box.width > 40 and box.height > 40 for box in boxes)
    if name != "ensemble":
        assert {box.detectors for box in boxes} == {(name,)}


def test_detected_boxes_are_about_the_size_of_the_pasted_face(detected, poster):
    for name in ("hog", "haar"):
        matched = assert_finds_faces(detected(name), poster.placements)
        for placement, box in zip(poster.placements, matched):
            # both detectors box the inner face: between a half and the whole pasted square
            assert 0.45 * placement.size <= box.width <= 1.0 * placement.size, (name, placement, box)


def test_ensemble_boxes_keep_the_names_of_every_detector_that_found_them(detected, poster):
    boxes = detected("ensemble")

    matched = assert_finds_faces(boxes, poster.placements)
    assert [box.detectors for box in matched] == [("hog", "haar")] * len(poster.placements)
    # HOG is the first member, so its box (not Haar's larger one) is the one kept
    hog = assert_finds_faces(detected("hog"), poster.placements)
    assert [(b.left, b.top, b.right, b.bottom) for b in matched] == [(b.left, b.top, b.right, b.bottom) for b in hog]


def test_ensemble_min_votes_two_keeps_only_faces_both_members_found(shared_data):
    agreed = Placement(VERIFIED_FACES[0], 100, 150, 180)
    hog_only = Placement(HOG_ONLY_FACE, 500, 600, 160)
    rgb = make_poster(shared_data, [agreed, hog_only], size=(800, 900), seed=1).rgb()
    members = [HogDetector(1), HaarDetector(min_neighbors=5)]  # the face was checked to be HOG-only at 5

    union = EnsembleDetector(members, min_votes=1).detect(rgb)
    both = EnsembleDetector(members, min_votes=2).detect(rgb)

    found, stray = match(union, [agreed, hog_only])
    assert [[b.detectors for b in hits] for hits in found] == [[("hog", "haar")], [("hog",)]], union
    assert stray == []
    found, stray = match(both, [agreed, hog_only])
    assert [len(hits) for hits in found] == [1, 0], both
    assert stray == []
    assert both[0].detectors == ("hog", "haar")


def test_cnn_finds_the_faces_on_a_small_poster(shared_data):
    placements = [Placement(VERIFIED_FACES[6], 40, 60, 170), Placement(VERIFIED_FACES[7], 260, 180, 180)]
    small = make_poster(shared_data, placements, size=(500, 420), seed=3)

    boxes = CnnDetector(upsample=0).detect(small.rgb())

    assert_finds_faces(boxes, placements, max_stray=0)
    assert {box.detectors for box in boxes} == {("cnn",)}
    assert all(_inside(box, 500, 420) for box in boxes)


# -- Resized --------------------------------------------------------------------------------

def test_resized_detector_reports_boxes_in_original_pixels(detected, poster, poster_rgb):
    boxes = Resized(HogDetector(1), 0.5).detect(poster_rgb)

    matched = assert_finds_faces(boxes, poster.placements, max_stray=0)
    direct = assert_finds_faces(detected("hog"), poster.placements)
    for small, full in zip(matched, direct):
        assert abs(small.centre[0] - full.centre[0]) <= 15 and abs(small.centre[1] - full.centre[1]) <= 15
        assert 0.8 <= small.width / full.width <= 1.25, (small, full)


class _Recorder:
    """A stub detector: records the images it sees and answers fixed boxes."""

    def __init__(self, name: str, boxes: list[Box]) -> None:
        self.name = name
        self.boxes = boxes
        self.seen: list[tuple[int, ...]] = []

    def detect(self, rgb: np.ndarray) -> list[Box]:
        self.seen.append(rgb.shape)
        return list(self.boxes)


@pytest.mark.parametrize("factor", [0.5, 2.0, 2.5])
def test_resized_scales_the_image_and_maps_boxes_back_exactly(factor):
    rgb = np.zeros((400, 300, 3), dtype=np.uint8)
    inner = _Recorder("stub", [Box(50, 100, 150, 200, 1.0, ("stub",))])

    [box] = Resized(inner, factor).detect(rgb)

    assert inner.seen == [(round(400 * factor), round(300 * factor), 3)]
    assert (box.left, box.top, box.right, box.bottom) == (
        round(50 / factor), round(100 / factor), min(300, round(150 / factor)), min(400, round(200 / factor)))
    assert box.detectors == ("stub",)


# -- Tiled ----------------------------------------------------------------------------------

@pytest.mark.parametrize("length,tile,overlap_", [
    (3000, 1024, 256), (1500, 1024, 256), (1024, 1024, 256), (500, 1024, 256), (1025, 1024, 256),
    (1792, 1024, 256), (10_000, 512, 128), (777, 128, 32),
])
def test_tile_origins_cover_the_whole_length_with_the_overlap(length, tile, overlap_):
    origins = tile_origins(length, tile, overlap_)

    assert origins[0] == 0
    assert origins == sorted(set(origins)), "no repeated or unordered tiles"
    if length <= tile:
        assert origins == [0]
        return
    assert origins[-1] + tile == length, "the last tile ends at the edge"
    assert all(0 <= o <= length - tile for o in origins)
    for previous, following in zip(origins, origins[1:]):
        assert following - previous <= tile - overlap_, "neighbouring tiles overlap by at least `overlap`"
    covered = np.zeros(length, dtype=bool)
    for origin in origins:
        covered[origin:origin + tile] = True
    assert covered.all()


class _WhiteSquareFinder:
    """A stub detector: the bounding box of the pure-white pixels in the window (score = area)."""

    name = "marker"

    def __init__(self) -> None:
        self.windows: list[tuple[int, int]] = []

    def detect(self, rgb: np.ndarray) -> list[Box]:
        self.windows.append(rgb.shape[:2])
        ys, xs = np.nonzero(rgb[:, :, 0] == 255)
        if len(xs) == 0:
            return []
        box = Box(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1, 0.0, (self.name,))
        return [Box(box.left, box.top, box.right, box.bottom, float(box.area), (self.name,))]


@pytest.mark.parametrize("square", [
    (100, 100, 180, 180),  # inside the first tile only
    (990, 300, 1070, 380),  # across the first tile's right edge (x = 1024)
    (1700, 980, 1780, 1060),  # across a vertical and a horizontal tile edge
    (2900, 1400, 3000, 1500),  # in the bottom-right corner
])
def test_tiled_maps_tile_boxes_back_to_original_pixels(square):
    rgb = np.zeros((1500, 3000, 3), dtype=np.uint8)
    left, top, right, bottom = square
    rgb[top:bottom, left:right] = 255
    inner = _WhiteSquareFinder()

    boxes = Tiled(inner, 1024).detect(rgb)

    assert [(b.left, b.top, b.right, b.bottom) for b in boxes] == [square]
    tiles = len(tile_origins(1500, 1024, 256)) * len(tile_origins(3000, 1024, 256))
    assert inner.windows[:tiles] == [(1024, 1024)] * tiles
    assert len(inner.windows) == tiles + 1, "the tiles, then one downscaled overview"
    assert max(inner.windows[-1]) == 1024


def test_tiled_leaves_an_image_no_larger_than_a_tile_alone():
    inner = _Recorder("stub", [Box(1, 2, 30, 40, 1.0, ("stub",))])
    rgb = np.zeros((600, 1024, 3), dtype=np.uint8)

    boxes = Tiled(inner, 1024).detect(rgb)

    assert inner.seen == [(600, 1024, 3)]
    assert [(b.left, b.top, b.right, b.bottom) for b in boxes] == [(1, 2, 30, 40)]


@pytest.fixture(scope="module")
def wide_poster(shared_data: Path) -> Poster:
    """3000×1500 with six faces; tiles of 1024 start at x 0/768/1536/1976 and y 0/476."""
    faces = VERIFIED_FACES
    return make_poster(shared_data, [
        Placement(faces[0], 100, 200, 170),
        Placement(faces[1], 940, 300, 180),  # across x = 1024, the first tile's right edge
        Placement(faces[2], 2000, 150, 170),
        Placement(faces[3], 1300, 900, 170),  # across y = 1024, the first row's bottom edge
        Placement(faces[4], 2650, 1150, 200),  # only in the last column's tiles
        Placement(faces[5], 1500, 600, 300),  # larger than the overlap, cut by x = 1536 and 1792
    ], size=(3000, 1500), seed=2)


def test_tiled_finds_the_same_faces_as_untiled_in_original_coordinates(wide_poster):
    rgb = wide_poster.rgb()

    detector = build_detector(FaceSettings(detector="hog", upsample=1, tile=1024))
    assert isinstance(detector, Tiled) and detector.tile == 1024

    untiled = HogDetector(1).detect(rgb)
    tiled = detector.detect(rgb)

    plain = assert_finds_faces(untiled, wide_poster.placements, max_stray=0)
    tiles = assert_finds_faces(tiled, wide_poster.placements, max_stray=0)
    for placement, a, b in zip(wide_poster.placements, plain, tiles):
        assert abs(a.centre[0] - b.centre[0]) <= 20 and abs(a.centre[1] - b.centre[1]) <= 20, (placement, a, b)
        assert overlap(a, b) > 0.7, (placement, a, b)
    assert all(_inside(box, 3000, 1500) for box in tiled)


# -- merge_boxes ----------------------------------------------------------------------------

def _box(left, top, right, bottom, score=1.0, *names):
    return Box(left, top, right, bottom, score, names or ("a",))


def test_merge_keeps_separate_boxes_sorted_top_then_left():
    boxes = [_box(300, 10, 400, 110), _box(0, 200, 100, 300), _box(0, 10, 100, 110)]

    merged = merge_boxes(boxes)

    assert [(b.left, b.top) for b in merged] == [(0, 10), (300, 10), (0, 200)]


def test_merge_keeps_the_higher_score_and_collects_detector_names():
    weak = _box(0, 0, 100, 100, 0.5, "hog")
    strong = _box(10, 10, 110, 110, 2.0, "haar")

    [merged] = merge_boxes([weak, strong])

    assert (merged.left, merged.top, merged.score) == (10, 10, 2.0)
    assert merged.detectors == ("haar", "hog")


def test_merge_priority_wins_over_score():
    hog = _box(0, 0, 100, 100, 0.1, "hog")
    haar = _box(5, 5, 105, 105, 90.0, "haar")

    [merged] = merge_boxes([haar, hog], priority=["hog", "haar"])

    assert (merged.left, merged.score, merged.detectors) == (0, 0.1, ("hog", "haar"))


def test_merge_uses_the_smaller_box_so_a_box_inside_another_merges():
    head = _box(0, 0, 200, 200, 1.0, "haar")
    inner_face = _box(50, 50, 110, 110, 2.0, "hog")  # IoU 0.09, but wholly inside `head`

    assert overlap(head, inner_face) == 1.0
    [merged] = merge_boxes([head, inner_face])
    assert merged.detectors == ("hog", "haar")


def test_merge_threshold_is_strict_and_adjustable():
    a = _box(0, 0, 100, 100, 2.0)
    b = _box(50, 0, 150, 100, 1.0)  # half of either box overlaps

    assert overlap(a, b) == 0.5
    assert len(merge_boxes([a, b], threshold=0.5)) == 2
    assert len(merge_boxes([a, b], threshold=0.4)) == 1


def test_merge_does_not_repeat_names_and_handles_nothing():
    a = _box(0, 0, 100, 100, 2.0, "hog", "haar")
    b = _box(2, 2, 102, 102, 1.0, "haar")

    [merged] = merge_boxes([a, b])

    assert merged.detectors == ("hog", "haar")
    assert merge_boxes([]) == []


def test_ensemble_min_votes_counts_distinct_members_with_stub_detectors():
    face = Box(100, 100, 200, 200, 1.0, ("a",))
    elsewhere = Box(400, 400, 450, 450, 1.0, ("a",))
    a = _Recorder("a", [face, elsewhere])
    b = _Recorder("b", [Box(105, 95, 205, 195, 5.0, ("b",))])
    c = _Recorder("c", [])
    rgb = np.zeros((500, 500, 3), dtype=np.uint8)

    assert len(EnsembleDetector([a, b, c], min_votes=1).detect(rgb)) == 2
    [agreed] = EnsembleDetector([a, b, c], min_votes=2).detect(rgb)
    assert (agreed.left, agreed.top, agreed.detectors) == (100, 100, ("a", "b"))


def test_unanimous_ensemble_asks_later_members_only_around_the_first_members_boxes():
    face = Box(100, 100, 200, 200, 1.0, ("a",))
    a = _Recorder("a", [face, Box(400, 400, 450, 450, 1.0, ("a",))])
    b = _WhiteSquareFinder()
    rgb = np.zeros((500, 500, 3), dtype=np.uint8)
    rgb[100:200, 100:200] = 255  # b finds this square wherever its window lies

    [agreed] = EnsembleDetector([a, b], min_votes=2).detect(rgb)

    assert (agreed.left, agreed.top, agreed.right, agreed.bottom) == (100, 100, 200, 200)
    assert agreed.detectors == ("a", "marker")
    assert b.windows and all(max(window) < 500 for window in b.windows), "b only saw windows, never the whole image"


# -- the stored box: enlarged about its centre, clipped ------------------------------------------

def test_enlarged_box_keeps_its_centre_score_finders_and_landmarks():
    points = ((110.0, 120.0), (130.0, 120.0), (120.0, 130.0), (112.0, 140.0), (128.0, 140.0))
    box = Box(100, 100, 140, 160, 0.9, ("yunet",), points)

    bigger = box.enlarged(1.5, 1000, 1000)

    assert (bigger.left, bigger.top, bigger.right, bigger.bottom) == (90, 85, 150, 175)
    assert bigger.centre == box.centre
    assert (bigger.score, bigger.detectors, bigger.landmarks) == (box.score, box.detectors, box.landmarks)
    assert box.enlarged(1.0, 1000, 1000) is box


def test_enlarged_box_is_clipped_to_the_image():
    box = Box(0, 5, 40, 45, 0.9, ("yunet",))

    bigger = box.enlarged(2.0, 50, 60)

    assert (bigger.left, bigger.top, bigger.right, bigger.bottom) == (0, 0, 50, 60)
