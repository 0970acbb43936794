"""Where the shipped models live on disk, and the versions that identify a result set.

All weights come inside installed packages (face_recognition_models for dlib's files, OpenCV
for its Haar cascades): nothing is ever downloaded. `face_recognition_models` imports the
removed `pkg_resources` at import time, so its folder is located without importing it.
"""
from __future__ import annotations

import importlib.util
from functools import lru_cache
from importlib import metadata
from pathlib import Path

DLIB_MODEL_PACKAGE = "face_recognition_models"
CNN_DETECTOR_FILE = "mmod_human_face_detector.dat"
LANDMARKS_5_FILE = "shape_predictor_5_face_landmarks.dat"
LANDMARKS_68_FILE = "shape_predictor_68_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"


class ModelMissing(RuntimeError):
    """A model file is not on disk; the message says which package to install."""


@lru_cache(maxsize=None)
def dlib_models_folder() -> Path:
    spec = importlib.util.find_spec(DLIB_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(
            f"the package {DLIB_MODEL_PACKAGE} is not installed; run `pip install {DLIB_MODEL_PACKAGE}`"
        )
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def dlib_model(file_name: str) -> Path:
    path = dlib_models_folder() / file_name
    if not path.is_file():
        raise ModelMissing(f"{path} is missing; reinstall {DLIB_MODEL_PACKAGE}")
    return path


def haar_cascade(file_name: str) -> Path:
    import cv2

    path = Path(cv2.data.haarcascades) / file_name
    if not path.is_file():
        raise ModelMissing(
            f"OpenCV's cascade {file_name} is missing; install opencv-python-headless<5 (5.x drops them)"
        )
    return path


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


@lru_cache(maxsize=None)
def model_versions() -> dict[str, str]:
    """Versions of the code and weights that shape detections, stored with every face."""
    import cv2
    import dlib

    return {
        "dlib": dlib.__version__,
        "face_recognition_models": _version(DLIB_MODEL_PACKAGE),
        "opencv": cv2.__version__,
    }
