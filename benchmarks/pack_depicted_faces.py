"""Pack the labelled faces for the CNN's training run: aligned 64 px crops, labels, domains, folds.

The pack is what `train_depicted_cnn.py` reads on a GPU machine (which has no dlib, no data and
no network): UTKFace photographs, NK poster faces and MetFaces painted faces, found and aligned
with the face stage's own functions and settings (`stage_face_settings()`: the largest face's
crop, aligned from the detector's five points, else dlib's 68; the whole image when no face is
found), resized as the CNN backbone reads them (`FaceSample.crop_rgb(64)`), and stored as JPEG
(quality 95) so the pack stays a few tens of MB. Only crops are made here, not dlib descriptors
(the costly part), so packing takes minutes; `classify_data.load_faces` gives the same crops.

Folds are grouped per domain (UTKFace by file, NK by poster, MetFaces by object id) exactly as
`classify_depicted_cv.domain_folds` deals them, so both backbones are judged on the same
held-out faces and can be combined out-of-fold.

    python benchmarks/pack_depicted_faces.py PACK.npz [--folds 5] [--workers 2]
"""
from __future__ import annotations

import argparse
import io
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

from bench_support import DATA, progress
from postercensus.classify.models.facesamples import sample_from_result, stage_face_settings
from postercensus.classify.train.splits import grouped_folds
from postercensus.classify.recipes.faces import metfaces_files, nk_files, utk_files
from postercensus.faces.pipeline import process_image

CNN_SIZE = 64
JPEG_QUALITY = 95
SETS = (("photos", utk_files), ("posters", nk_files), ("paintings", metfaces_files))  # classify_depicted_cv.DOMAINS
SETTINGS = stage_face_settings()


def packed_pixels(path: Path) -> bytes:
    """The CNN's input for this file (64 px, as the backbone reads a crop), as a JPEG."""
    data = path.read_bytes()
    pixels = sample_from_result(data, process_image(data, SETTINGS), SETTINGS).crop_rgb(CNN_SIZE)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="the .npz to write")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    arguments = parser.parse_args()
    paths, y, domain, fold = [], [], [], []
    for number, (name, list_files) in enumerate(SETS):
        rows = list_files(DATA)
        labels, groups = [row[1] for row in rows], [f"{name}:{row[2]}" for row in rows]
        in_fold = np.zeros(len(rows), np.int8)
        for k, members in enumerate(grouped_folds(labels, groups, arguments.folds, seed=0)):
            in_fold[members] = k
        paths += [row[0] for row in rows]
        y += [0 if label == "female" else 1 for label in labels]
        domain += [number] * len(rows)
        fold += list(in_fold)
    progress(f"cropping {len(paths)} faces with {SETTINGS.detector} on {arguments.workers} workers")
    with Pool(arguments.workers) as pool:
        jpegs = pool.map(packed_pixels, paths, chunksize=64)
    width = max(len(j) for j in jpegs)
    np.savez(arguments.out, jpegs=np.array(jpegs, dtype=f"S{width}"), y=np.array(y, np.int8),
             domain=np.array(domain, np.int8), fold=np.array(fold, np.int8), paths=np.array([str(p) for p in paths]))
    progress(f"{len(y)} faces packed in {arguments.out} ({arguments.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
