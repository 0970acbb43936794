"""How many faces of their own a researcher should label: the transfer learning curve per domain.

For NK poster faces and for MetFaces painted faces (domain D): the base is every face of the base
model's base_faces.npz that is NOT of domain D, so D plays a collection the base never saw. D's
faces are dealt into grouped folds (posters by poster id, paintings by object id; 5, seed 0);
for each fold, n own faces are drawn by group (whole groups, seeded, in a random order, until
n are reached; all the training folds when they hold fewer) from the other folds and added to
the base as `classify train` adds them (classify.train.transfer.fit_with_base: base domain-balanced,
own faces weighted `--own-weight`, early stopping on 15 % of the own faces + 10 % of the base).
The held-out fold is predicted; the out-of-fold predictions of all D faces give the accuracy
and balanced accuracy, averaged over `--draws` draws. Three rows per n:

* head: the dlib head alone, on base + own faces;
* ensemble: that head averaged with a CNN that never saw domain D (its probabilities of D's
  faces come from --cnn-probabilities, key without/<D>/probabilities), CNN share --cnn-share;
* own alone: the head on the own faces alone (`classify train --base none`), no base, no CNN.

n = 0 is the base alone (one fit: no fold holds any D face). The own weight is fixed here (the
CLI chooses it by grouped CV per collection; a nested CV per point would take hours on a CPU).

    python benchmarks/classify_learning_curve.py --base-faces MODEL_DIR/base_faces.npz \
        --cnn-probabilities results.npz [--cnn-share 0.5] [--own-weight 10] [--draws 2] [--photos 2000]
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_support import print_table, progress  # noqa: E402
from postercensus.classify.models.basefaces import BaseFaces  # noqa: E402
from postercensus.classify.models.classifier import ensemble_probabilities  # noqa: E402
from postercensus.classify.models.head import HeadSettings  # noqa: E402
from postercensus.classify.train.metrics import evaluate_predictions  # noqa: E402
from postercensus.classify.train.splits import grouped_folds, grouped_holdout  # noqa: E402
from postercensus.classify.train.training import train_head  # noqa: E402
from postercensus.classify.train.transfer import BASE_VALIDATION_SHARE, fit_with_base  # noqa: E402

LABELS = ("female", "male")
CURVE_DOMAINS = ("posters", "paintings")
OWN_VALIDATION_SHARE = 0.15
RESULTS = Path(__file__).resolve().parent / "results" / "classify_learning_curve.txt"


@dataclass
class Domain:
    """One domain's faces (rows of base_faces.npz in order) and the unseen CNN's probabilities of them."""

    name: str
    descriptors: np.ndarray
    y: np.ndarray
    labels: list[str]
    groups: list[str]
    cnn: np.ndarray | None


def subset(faces: BaseFaces, rows: np.ndarray) -> BaseFaces:
    return BaseFaces(faces.descriptors[rows], [faces.labels[i] for i in rows], [faces.domains[i] for i in rows],
                     [faces.groups[i] for i in rows])


def base_without(faces: BaseFaces, domain: str, photos: int | None, seed: int) -> BaseFaces:
    """Every base face not of `domain`; photographs subsampled by group to `photos` (for CPU time)."""
    rows = np.array([i for i, d in enumerate(faces.domains) if d != domain])
    photo_rows = np.array([i for i in rows if faces.domains[i] == "photos"])
    if photos is not None and len(photo_rows) > photos:
        kept = np.random.default_rng(seed).choice(photo_rows, photos, replace=False)
        rows = np.sort(np.concatenate([[i for i in rows if faces.domains[i] != "photos"], kept]).astype(int))
    return subset(faces, rows)


def draw_own(domain: Domain, pool: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """About n faces of `pool`, whole groups in a random order (all of the pool when it is smaller)."""
    groups = sorted({domain.groups[i] for i in pool})
    rng.shuffle(groups)
    members: dict[str, list[int]] = {}
    for i in pool:
        members.setdefault(domain.groups[i], []).append(int(i))
    chosen: list[int] = []
    for group in groups:
        if len(chosen) >= n:
            break
        chosen.extend(members[group])
    return np.array(sorted(chosen), dtype=int)


def own_split(domain: Domain, own: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(fit, validation) of the own faces, by group; all to fit when too few groups to split."""
    try:
        fit_part, validation_part = grouped_holdout([domain.labels[i] for i in own], [domain.groups[i] for i in own],
                                                    OWN_VALIDATION_SHARE, seed)
    except ValueError:
        return own, own
    return own[fit_part], own[validation_part]


def figures(y: np.ndarray, probabilities: np.ndarray) -> tuple[float, float]:
    report = evaluate_predictions([LABELS[k] for k in y], probabilities, LABELS)
    return report["accuracy"], report["balanced_accuracy"]


def curve(domain: Domain, base: BaseFaces, sizes: list[int], draws: int, own_weight: float, cnn_share: float,
          settings: HeadSettings) -> list[list[object]]:
    """Rows (n, mean own faces, head acc/bal, ensemble acc/bal, own-alone acc/bal)."""
    base_y = np.array([LABELS.index(label) for label in base.labels])
    base_fit, base_validation = grouped_holdout(base.labels, base.groups, BASE_VALIDATION_SHARE, settings.seed)
    no_own = np.zeros(0, dtype=int)
    folds = grouped_folds(domain.labels, domain.groups, 5, seed=0)

    def ensemble(head: np.ndarray) -> np.ndarray | None:
        return None if domain.cnn is None else ensemble_probabilities(head, [domain.cnn], cnn_share)

    def transferred(own_fit: np.ndarray, own_validation: np.ndarray) -> np.ndarray:
        fitted = fit_with_base(base, base_y, base_fit, base_validation, domain.descriptors, domain.y, own_fit,
                               own_validation, own_weight, len(LABELS), settings)
        return fitted.head.predict(domain.descriptors, batch_size=512, verbose=0)

    rows: list[list[object]] = []
    for n in sizes:
        started = time.perf_counter()
        results: dict[str, list[tuple[float, float]]] = {"head": [], "ensemble": [], "own": []}
        counts: list[int] = []
        for draw in range(draws if n else 1):
            head = np.zeros((len(domain.y), len(LABELS)))
            alone = np.zeros_like(head)
            for k, tested in enumerate(folds):
                if n == 0:
                    head[:] = transferred(no_own, no_own)  # no fold holds a face of this domain: one fit for all
                    break
                pool = np.setdiff1d(np.arange(len(domain.y)), tested)
                own = draw_own(domain, pool, n, np.random.default_rng([draw, k, n]))
                counts.append(len(own))
                own_fit, own_validation = own_split(domain, own, settings.seed + draw)
                head[tested] = transferred(own_fit, own_validation)[tested]
                model, _ = train_head(domain.descriptors, domain.y, len(LABELS), own_fit, own_validation, settings)
                alone[tested] = model.predict(domain.descriptors[tested], verbose=0)
            results["head"].append(figures(domain.y, head))
            mixed = ensemble(head)
            if mixed is not None:
                results["ensemble"].append(figures(domain.y, mixed))
            if n:
                results["own"].append(figures(domain.y, alone))

        def mean(name: str) -> list[str]:
            if not results[name]:
                return ["–", "–"]
            return [f"{np.mean([r[0] for r in results[name]]):.3f}", f"{np.mean([r[1] for r in results[name]]):.3f}"]

        rows.append([n, f"{np.mean(counts):.0f}" if counts else 0, *mean("head"), *mean("ensemble"), *mean("own")])
        progress(f"{domain.name} n={n}: {rows[-1]} ({time.perf_counter() - started:.0f} s)")
    return rows


def load_domain(faces: BaseFaces, name: str, cnn_file: Path | None, pack: Path | None) -> Domain:
    rows = np.array([i for i, d in enumerate(faces.domains) if d == name])
    labels = [faces.labels[i] for i in rows]
    cnn = None
    if cnn_file is not None:
        with np.load(cnn_file) as stored:
            cnn = stored[f"without/{name}/probabilities"].astype(np.float64)
        if len(cnn) != len(rows):
            raise SystemExit(f"{cnn_file}: {len(cnn)} {name} probabilities for {len(rows)} base faces of {name}")
    if pack is not None:
        check_order(faces, rows, name, pack)
    return Domain(name, faces.descriptors[rows], np.array([LABELS.index(label) for label in labels]), labels,
                  [faces.groups[i] for i in rows], cnn)


def check_order(faces: BaseFaces, rows: np.ndarray, name: str, pack: Path) -> None:
    """The CNN's rows follow the device pack's order of that domain: it must be base_faces.npz's order
    (same labels, and each group the id its crop's file name starts with)."""
    with np.load(pack) as stored:
        selected = stored["domain"] == (1 if name == "posters" else 2)
        paths, y = stored["paths"][selected], stored["y"][selected]
    same = len(paths) == len(rows) and all(
        LABELS[int(label)] == faces.labels[i] and faces.groups[i].split(":", 1)[1] == Path(str(path)).stem.split("_")[0]
        for path, label, i in zip(paths, y, rows))
    if not same:
        raise SystemExit(f"{pack}: the {name} faces are not in base_faces.npz's order")
    progress(f"{name}: {len(rows)} faces in the same order as {pack.name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-faces", type=Path, required=True, help="a model's base_faces.npz")
    parser.add_argument("--cnn-probabilities", type=Path, help="npz with without/<domain>/probabilities")
    parser.add_argument("--pack", type=Path, help="the device pack (paths, domain, y) to check the CNN rows' order")
    parser.add_argument("--cnn-share", type=float, default=0.5)
    parser.add_argument("--own-weight", type=float, default=10.0)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 25, 50, 100, 200])
    parser.add_argument("--draws", type=int, default=2)
    parser.add_argument("--photos", type=int, default=2000, help="photographs kept in the base (0: all)")
    parser.add_argument("--max-epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--domains", nargs="+", default=list(CURVE_DOMAINS), choices=CURVE_DOMAINS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    faces = BaseFaces.load(args.base_faces.parent) if args.base_faces.name == "base_faces.npz" else None
    if faces is None:
        raise SystemExit(f"{args.base_faces}: not a base_faces.npz")
    settings = HeadSettings(batch_size=128, max_epochs=args.max_epochs, patience=args.patience, seed=0)
    buffer = io.StringIO()
    started = time.perf_counter()
    header = (f"learning curve: grouped 5-fold out-of-fold accuracy on a domain the base never saw, after adding n own "
              f"faces\nbase faces: {args.base_faces} ({len(faces.labels)} faces; photographs subsampled to "
              f"{args.photos or 'all'}); own weight {args.own_weight:g}; CNN share {args.cnn_share:g}; draws {args.draws}; "
              f"head: batch {settings.batch_size}, at most {settings.max_epochs} epochs, patience {settings.patience}\n")
    print(header)
    buffer.write(header + "\n")
    for name in args.domains:
        domain = load_domain(faces, name, args.cnn_probabilities, args.pack)
        base = base_without(faces, name, args.photos or None, seed=0)
        rows = curve(domain, base, args.sizes, args.draws, args.own_weight, args.cnn_share, settings)
        table = io.StringIO()
        with contextlib.redirect_stdout(table):
            print_table(["n own", "mean drawn", "head acc", "head bal", "ensemble acc", "ensemble bal",
                         "own alone acc", "own alone bal"], rows,
                        f"{name} ({len(domain.y)} faces, {len(set(domain.groups))} groups); base: "
                        f"{len(base.labels)} faces of {', '.join(sorted(set(base.domains)))}")
        print(table.getvalue(), end="")
        buffer.write(table.getvalue())
    footer = f"run time {time.perf_counter() - started:.0f} s\n"
    print(footer)
    buffer.write(footer)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(buffer.getvalue(), encoding="utf-8")


if __name__ == "__main__":
    main()
