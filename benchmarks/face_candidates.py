"""Every face-detector setting the detector benchmarks try, and how each is computed from cached runs.

A candidate is one setting a user could choose (a FaceSettings), but it is not always detected
on its own: where a stricter setting's boxes are exactly a subset of a looser run's, it is
derived from the looser run's cached boxes instead of detecting again.

* "filtered": a detector's run at its lowest threshold, keeping the boxes scoring at least the
  candidate's threshold. Exact for HOG: dlib keeps boxes above the threshold and then
  suppresses overlaps greedily by score, so a box above a higher threshold is suppressed only
  by a box that is itself above it.
* "composed": an ensemble whose votes need not be unanimous, from its members' own runs merged
  by faces.boxes.merge_boxes exactly as EnsembleDetector.detect merges them.
* "vote≈": a unanimous ensemble composed the same way. The detector itself confirms each
  first-member box by running the other members in a window around it (cheaper, and not
  always the same boxes as this whole-image vote: on People-Art it confirmed 26 people where
  the whole-image vote found 27), so these rows approximate it; the previous default is also run
  as set, as a check on the approximation.
* "run": detected as set.

A candidate's seconds per image are the sum of its runs' (for "composed" ones, what the
ensemble itself costs, less the merge).

Every run is detected and cached with the detector's own boxes (box scale 1). A candidate with
a `box_scale` (label suffix "×1.3") enlarges its boxes about their centres and clips them to
the upright image exactly as faces.pipeline.process_image stores them, so each scale of a
setting costs nothing to score and the scale is chosen inside the folds with the threshold.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from detection_cache import Detected, SeedSource, SettingsSource, Source, detections

from PIL import Image

from postercensus.faces.boxes import Box, merge_boxes
from postercensus.faces.settings import NEUTRAL_BOX_SCALE, FaceSettings

SEED_LABEL = "seed (2.5× resize, HOG u0, grayscale)"
HOG_LOWEST = -0.7
BOX_SCALES = (1.1, 1.2, 1.3, 1.4, 1.5)  # besides 1 (the detector's own box)
EXIF_TRANSPOSING = (5, 6, 7, 8)  # EXIF orientations that swap width and height


def raw(**values) -> FaceSettings:
    """Settings that keep the detector's own boxes, whatever FaceSettings' default box scale."""
    return FaceSettings(box_scale=NEUTRAL_BOX_SCALE, **values)


def upright_size(path: Path) -> tuple[int, int]:
    """(width, height) of the image as faces.imageload.load_rgb turns it upright, from its header."""
    with Image.open(path) as image:
        width, height = image.size
        return (height, width) if image.getexif().get(0x0112, 1) in EXIF_TRANSPOSING else (width, height)


@lru_cache(maxsize=None)
def source_for(settings: FaceSettings) -> SettingsSource:
    """One source per distinct settings, so candidates sharing a run share its cache lookup."""
    return SettingsSource(settings)


@dataclass(frozen=True, eq=False)
class Candidate:
    label: str
    settings: FaceSettings | None  # None: the seed pipeline (not a postercensus setting)
    sources: tuple[Source, ...]
    minimum_scores: tuple[float | None, ...]  # per source: keep boxes scoring ≥ this (None: all)
    min_votes: int = 1
    priority: tuple[str, ...] = ()  # ensemble member names, in the order the ensemble merges them
    how: str = "run"
    box_scale: float = NEUTRAL_BOX_SCALE
    unscaled: str | None = None  # the label of the same setting with the detector's own boxes

    def boxes(self, found: Sequence[list[Box]], size: tuple[int, int]) -> list[Box]:
        """The candidate's boxes in an image of `size` (width, height) from its sources' cached boxes."""
        kept = [
            [box for box in boxes if minimum is None or box.score >= minimum]
            for boxes, minimum in zip(found, self.minimum_scores)
        ]
        if len(kept) == 1:
            chosen = kept[0]
        else:
            merged = merge_boxes([box for boxes in kept for box in boxes], 0.5, self.priority)
            chosen = [box for box in merged if len(box.detectors) >= self.min_votes]
        return [box.enlarged(self.box_scale, *size) for box in chosen]


def seed() -> Candidate:
    return Candidate(SEED_LABEL, None, (SeedSource(),), (None,))


def scaled(candidate: Candidate, factor: float) -> Candidate:
    """`candidate` with its boxes enlarged `factor` times about their centres (the stored box at --box-scale)."""
    return replace(candidate, label=f"{candidate.label} ×{factor:g}", settings=replace(candidate.settings, box_scale=factor),
                   box_scale=factor, unscaled=candidate.label)


def run(label: str, settings: FaceSettings) -> Candidate:
    return Candidate(label, settings, (source_for(settings),), (None,))


def filtered(label: str, settings: FaceSettings, lowest: FaceSettings, minimum: float) -> Candidate:
    """`settings` derived from the run `lowest` (the same detector at a looser threshold)."""
    return Candidate(label, settings, (source_for(lowest),), (minimum,), how="filtered")


def composed(label: str, settings: FaceSettings, members: Sequence[Candidate]) -> Candidate:
    """An ensemble from its members' (possibly filtered) runs; "vote≈" when unanimous (see above)."""
    how = "vote≈" if settings.min_votes >= len(members) > 1 else "composed"
    sources = tuple(source for member in members for source in member.sources)
    minimums = tuple(minimum for member in members for minimum in member.minimum_scores)
    priority = tuple(member.settings.detector for member in members if member.settings)
    return Candidate(label, settings, sources, minimums, settings.min_votes, priority, how=how)


def hog(upsample: int, threshold: float) -> Candidate:
    return filtered(
        f"hog u{upsample} t{threshold:g}",
        raw(detector="hog", upsample=upsample, threshold=threshold),
        raw(detector="hog", upsample=upsample, threshold=HOG_LOWEST),
        threshold,
    )


def dlib_and_haar_candidates(slow: bool = False) -> list[Candidate]:
    """The settings tried before YuNet and MTCNN: HOG, Haar and their ensembles (with `slow`: HOG u2, CNN)."""
    candidates = [hog(upsample, threshold) for upsample in (0, 1) for threshold in (0.0, -0.3, -0.5, -0.7)]
    haar = run("haar", raw(detector="haar"))
    candidates.append(haar)
    candidates.append(composed(
        "hog u1 t0 + haar, 1 vote",
        raw(detector="ensemble", members=("hog", "haar"), upsample=1, threshold=0.0, min_votes=1),
        [hog(1, 0.0), haar],
    ))
    for threshold in (-0.3, -0.4, -0.5, -0.6, -0.7):
        settings = raw(detector="ensemble", members=("hog", "haar"), upsample=1, threshold=threshold, min_votes=2)
        candidates.append(composed(f"hog u1 t{threshold:g} + haar, 2 votes", settings, [hog(1, threshold), haar]))
    previous_default = raw(detector="ensemble", members=("hog", "haar"), upsample=1, threshold=-0.6, min_votes=2)
    candidates.append(run("previous default (hog u1 t-0.6 + haar, 2 votes)", previous_default))
    if slow:  # 3–15× the seed's seconds per image: never choosable, detected last
        candidates += [hog(2, threshold) for threshold in (0.0, -0.3, -0.5, -0.7)]
        candidates.append(run("cnn u0", raw(detector="cnn", upsample=0)))
    return candidates


YUNET_LOWEST, MTCNN_LOWEST = 0.3, 0.6
YUNET_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
MTCNN_THRESHOLDS = (0.6, 0.7, 0.8, 0.9, 0.95)
RESIZES = (0.5, 0.8, 1.0, 1.5, 2.0)  # YuNet's finest pyramid level, relative to the image


def yunet(threshold: float, resize: float = 1.0) -> Candidate:
    return filtered(
        f"yunet t{threshold:g}" + (f" r{resize:g}" if resize != 1.0 else ""),
        raw(detector="yunet", yunet_threshold=threshold, resize=resize),
        raw(detector="yunet", yunet_threshold=YUNET_LOWEST, resize=resize),
        threshold,
    )


def mtcnn(threshold: float) -> Candidate:
    return filtered(
        f"mtcnn t{threshold:g}",
        raw(detector="mtcnn", mtcnn_threshold=threshold),
        raw(detector="mtcnn", mtcnn_threshold=MTCNN_LOWEST),
        threshold,
    )


def ensemble(members: Sequence[Candidate], min_votes: int, how: str = "composed") -> Candidate:
    """The ensemble of `members` (single-detector candidates at resize 1), composed or run as set."""
    settings = raw(
        detector="ensemble", members=tuple(m.settings.detector for m in members), min_votes=min_votes,
        **{field: getattr(m.settings, field) for m in members for field in ("threshold", "upsample", "yunet_threshold",
                                                                            "mtcnn_threshold")
           if field in m.settings.parameters()},
    )
    label = " + ".join(m.label for m in members) + f", {min_votes} vote{'s' if min_votes > 1 else ''}"
    return composed(label, settings, members) if how == "composed" else run(label + " (run as set)", settings)


def yunet_and_mtcnn_candidates() -> list[Candidate]:
    """YuNet at several score cuts and input scales, MTCNN at several cuts, and ensembles with them."""
    from postercensus.faces.settings import DETECTOR_NAMES

    if "yunet" not in DETECTOR_NAMES:
        return []
    candidates = [yunet(threshold, resize) for resize in RESIZES for threshold in YUNET_THRESHOLDS]
    candidates += [mtcnn(threshold) for threshold in MTCNN_THRESHOLDS]
    for y in (0.6, 0.7, 0.8):
        candidates += [ensemble([yunet(y), mtcnn(m)], 1) for m in (0.9, 0.95)]
    for y in (0.3, 0.5, 0.6):
        candidates += [ensemble([yunet(y), mtcnn(m)], 2) for m in (0.7, 0.9)]
    candidates.append(ensemble([yunet(0.5), mtcnn(0.9)], 2, how="run"))
    for y in (0.3, 0.5):
        candidates.append(ensemble([yunet(y), hog(1, -0.5)], 2))
        candidates.append(ensemble([yunet(y), run("haar", raw(detector="haar"))], 2))
        candidates += [ensemble([yunet(y), mtcnn(m), hog(1, -0.5)], 2) for m in (0.7, 0.9)]
    candidates += [ensemble([yunet(y), hog(1, 0.0)], 1) for y in (0.6, 0.7, 0.8)]
    return candidates


def default_family(candidates: Sequence[Candidate]) -> list[str]:
    """The labels of FaceSettings' default detector setting at every box scale tried (its box scale chosen alone)."""
    default = replace(FaceSettings(), box_scale=NEUTRAL_BOX_SCALE).parameters()
    return [c.label for c in candidates
            if c.settings is not None and replace(c.settings, box_scale=NEUTRAL_BOX_SCALE).parameters() == default]


def single_detector(candidate: Candidate) -> bool:
    """A postercensus setting with one detector (not the seed, not an ensemble): the ones tried at every box scale."""
    return candidate.settings is not None and candidate.settings.detector != "ensemble"


def all_candidates(slow: bool = False) -> list[Candidate]:
    """The seed first, then every setting tried (labels unique): each single detector also at every box scale."""
    candidates = [seed(), *dlib_and_haar_candidates(slow), *yunet_and_mtcnn_candidates()]
    candidates += [scaled(c, factor) for factor in BOX_SCALES for c in candidates if single_detector(c)]
    labels = [candidate.label for candidate in candidates]
    duplicates = {label for label in labels if labels.count(label) > 1}
    if duplicates:
        raise ValueError(f"duplicate candidate labels: {duplicates}")
    return candidates


@dataclass
class ImageResult:
    boxes: list[Box]
    seconds: float


def results(set_name: str, candidates: Sequence[Candidate], images: Sequence[tuple[str, Path]]) -> dict[str, dict[str, ImageResult]]:
    """candidate label → image key → its boxes and seconds, every source detected (or read from cache) once."""
    sizes = {key: upright_size(path) for key, path in images}
    found: dict[str, dict[str, Detected]] = {}
    for candidate in candidates:
        for source in candidate.sources:
            if source.key not in found:
                found[source.key] = detections(set_name, source, images, label=candidate.label)
    return {
        candidate.label: {
            key: ImageResult(
                candidate.boxes([found[source.key][key].boxes for source in candidate.sources], sizes[key]),
                sum(found[source.key][key].seconds for source in candidate.sources),
            )
            for key, _ in images
        }
        for candidate in candidates
    }
