"""Pack the labelled faces for the CNN's training run: aligned 64 px crops, labels, domains, folds.

The pack is what `train_depicted_cnn.py` reads on a GPU machine (which has no dlib, no data and
no network): UTKFace photographs, NK poster faces and MetFaces painted faces, found and aligned
as the face stage does (`stage_face_settings()`), resized as the CNN backbone reads them, and
stored as JPEG (quality 95) so the pack stays a few tens of MB. Folds are grouped per domain
(UTKFace by file, NK by poster, MetFaces by object id) with the seed the dlib head's grouped CV
uses, so both backbones are judged on the same held-out faces and can be combined out-of-fold.
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

import numpy as np
from PIL import Image

from bench_support import progress
from classify.facesamples import stage_face_settings
from classify_data import DEFAULT_CACHE, aligned_pixels, load_faces, metfaces_files, nk_files, utk_files
from classify_depicted_cv import DOMAINS, combine, domain_folds

CNN_SIZE = 64
JPEG_QUALITY = 95


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="the .npz to write")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--folds", type=int, default=5)
    arguments = parser.parse_args()
    files = {"utk": utk_files(arguments.data), "nk": nk_files(arguments.data), "metfaces": metfaces_files(arguments.data)}
    sets = {name: load_faces(name, rows, DEFAULT_CACHE, settings=stage_face_settings()) for name, rows in files.items()}
    data = combine(sets)
    fold = np.zeros(len(data.y), np.int8)
    for k, members in enumerate(domain_folds(data, arguments.folds)):
        fold[members] = k
    jpegs = []
    for _, name in DOMAINS:
        for crop in aligned_pixels(name, sets[name], CNN_SIZE):
            buffer = io.BytesIO()
            Image.fromarray(crop).save(buffer, "JPEG", quality=JPEG_QUALITY)
            jpegs.append(buffer.getvalue())
    domain = np.array([[d for d, _ in DOMAINS].index(name) for name in data.domain], np.int8)
    width = max(len(j) for j in jpegs)
    np.savez(arguments.out, jpegs=np.array(jpegs, dtype=f"S{width}"), y=data.y.astype(np.int8), domain=domain,
             fold=fold)
    progress(f"{len(y)} faces packed in {arguments.out} ({arguments.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
