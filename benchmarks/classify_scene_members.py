"""The scene-painting faces' dlib descriptors and each default-model member's probabilities, cached.

Issue 22's levers (training the dlib head on scene faces, a per-domain stacked decision) need, for
the 636 hand-boxed scene faces of ../shared/data/painting-faces, what the face stage hands the
classifier (cut by `scene_faces.scene_faces`: the detection matched to the hand box) as a 128-d
descriptor, and what each member of the shipped model says on its own: the dlib head and every
CNN. None of these members ever trained on a scene face, so their probabilities here are
out-of-sample. Cutting 463 paintings takes minutes, so the result is cached per model version.

    python benchmarks/classify_scene_members.py [--model classify/default_model]
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

from bench_support import progress  # noqa: E402
from postercensus.classify.models import modelfolder  # noqa: E402
from postercensus.classify.recipes.faces import DEFAULT_CACHE  # noqa: E402

CACHE = DEFAULT_CACHE / "scene-faces-members.npz"


def scene_members(folder: Path, cache: Path = CACHE) -> dict[str, np.ndarray]:
    """files, painters, labels, matched, descriptors, the CNNs' input pixels (the aligned crops at their
    size), head and cnn-k probabilities (computed once per model version)."""
    version = modelfolder.model_version(folder)
    if not cache.is_file() or str(np.load(cache)["version"]) != version or "pixels" not in np.load(cache).files:
        from postercensus.classify.models.classifier import load_classifier
        from postercensus.classify.recipes.scenes import scene_faces

        progress("cutting the scene-painting faces as the face stage would, and predicting them per member")
        faces = scene_faces(progress=progress)
        classifier = load_classifier(folder)
        samples = [f.sample for f in faces]
        members = {"head": classifier.head.predict(classifier.backbone.features(samples), batch_size=256, verbose=0)}
        for k, cnn in enumerate(classifier.cnns, 1):
            members[f"cnn-{k}"] = cnn.probabilities(samples)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez(cache, files=np.array([f.file for f in faces]), painters=np.array([f.painter for f in faces]),
                 labels=np.array([f.label for f in faces]), matched=np.array([f.matched for f in faces]),
                 descriptors=np.stack([s.descriptor for s in samples]).astype(np.float32),
                 pixels=classifier.cnns[0].pixels(samples) if classifier.cnns else np.zeros((0,), np.uint8),
                 version=np.array(version), **members)
    with np.load(cache) as stored:
        return {key: stored[key] for key in stored.files}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=modelfolder.default_model_folder())
    args = parser.parse_args()
    members = scene_members(args.model)
    print(f"{len(members['labels'])} scene faces, {int(members['matched'].sum())} matched to a detection; "
          f"members {[k for k in members if k == 'head' or k.startswith('cnn-')]}")


if __name__ == "__main__":
    main()
