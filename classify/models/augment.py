"""Drawing-style augmentation: make a photograph look printed, painted or drawn.

Most labelled faces are photographs (UTKFace); the faces the model is used on are drawn,
silkscreened, printed or painted. Each transform imitates one thing reproduction and
depiction do to a face (flat colour areas, smoothed skin with kept edges, one-colour print,
printing dots, soft focus, compression, mirror-image compositions, imperfect alignment), so a
network trained on photographs learns cues that survive them. Every function takes and returns
an (h, w, 3) uint8 RGB array of the same shape, and draws its randomness only from the
`numpy.random.Generator` it is given: a seed fixes the result.
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def posterise(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Few tones per channel (2–5 levels): the flat colour areas of silkscreen and poster print."""
    levels = int(rng.integers(2, 6))
    step = 256 / levels
    return (np.floor(rgb / step) * step + step / 2).clip(0, 255).astype(np.uint8)


def quantise_colours(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A palette of 4–12 colours (median cut): the limited inks of a poster."""
    from PIL import Image

    colours = int(rng.integers(4, 13))
    image = Image.fromarray(rgb).quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    return np.asarray(image.convert("RGB"))


def stylise(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Edge-preserving smoothing (bilateral, or OpenCV's edge-preserving filter): painted skin, kept contours."""
    import cv2

    if rng.random() < 0.5:
        diameter = int(rng.integers(5, 10))
        sigma = float(rng.uniform(40, 120))
        return cv2.bilateralFilter(rgb, diameter, sigma, sigma)
    return cv2.edgePreservingFilter(rgb, flags=cv2.RECURS_FILTER, sigma_s=float(rng.uniform(10, 60)),
                                    sigma_r=float(rng.uniform(0.2, 0.6)))


def greyscale(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One-colour print: luminance, optionally tinted (sepia, blue or red ink)."""
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    tint = np.ones(3, np.float32) if rng.random() < 0.5 else rng.uniform(0.6, 1.0, 3).astype(np.float32)
    return (grey[..., None] * tint).clip(0, 255).astype(np.uint8)


def halftone(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Printing dots: luminance against a dot screen of 2–3 px cells, inked in a random dark colour."""
    cell = int(rng.integers(2, 4))
    height, width = rgb.shape[:2]
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32) / 255
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    shift = rng.uniform(0, cell, 2)
    dy, dx = ((y + shift[0]) % cell) / cell - 0.5, ((x + shift[1]) % cell) / cell - 0.5
    # A dot grows with darkness: ink where the distance to the cell centre is under the dot radius.
    ink = np.sqrt(dx * dx + dy * dy) < np.sqrt((1 - grey) / np.pi)
    paper = rng.uniform(220, 255, 3)
    colour = rng.uniform(0, 90, 3)
    out = np.where(ink[..., None], colour, paper)
    mix = float(rng.uniform(0.3, 0.7))  # how much of the original colour shows through
    return (mix * out + (1 - mix) * rgb).clip(0, 255).astype(np.uint8)


def blur(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Soft focus or a low-resolution scan: Gaussian blur of sigma 0.5–1.5 px (of a 64–112 px crop)."""
    import cv2

    return cv2.GaussianBlur(rgb, (0, 0), float(rng.uniform(0.5, 1.5)))


def jpeg(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """JPEG at quality 15–70: the compression of harvested images."""
    import cv2

    quality = int(rng.integers(15, 71))
    ok, data = cv2.imencode(".jpg", rgb[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return np.ascontiguousarray(cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]) if ok else rgb


def flip(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mirror left-right (perceived gender does not depend on which way a face turns)."""
    return np.ascontiguousarray(rgb[:, ::-1])


def affine_jitter(rgb: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rotation ±8°, scale ±8 %, shift ±5 %: the alignment error of drawn faces' landmarks."""
    import cv2

    height, width = rgb.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), float(rng.uniform(-8, 8)), float(rng.uniform(0.92, 1.08)))
    matrix[:, 2] += rng.uniform(-0.05, 0.05, 2) * (width, height)
    return cv2.warpAffine(rgb, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# (transform, probability): a style at most once per image, the geometric and quality ones independently.
STYLES: tuple[Transform, ...] = (posterise, quantise_colours, stylise, greyscale, halftone)
INDEPENDENT: tuple[tuple[Transform, float], ...] = ((affine_jitter, 0.8), (flip, 0.5), (blur, 0.2), (jpeg, 0.3))


def augment(rgb: np.ndarray, rng: np.random.Generator, style_probability: float = 0.6) -> np.ndarray:
    """One training view of a face: with `style_probability` one drawing style, then jitter,
    flip, blur and JPEG each at its own rate."""
    out = rgb
    if rng.random() < style_probability:
        out = STYLES[int(rng.integers(len(STYLES)))](out, rng)
    for transform, probability in INDEPENDENT:
        if rng.random() < probability:
            out = transform(out, rng)
    return out


def augment_batch(images: np.ndarray, seed: int, style_probability: float = 0.6) -> np.ndarray:
    """`augment` over an (n, h, w, 3) uint8 batch; the same seed gives the same batch."""
    rng = np.random.default_rng(seed)
    return np.stack([augment(image, rng, style_probability) for image in images]) if len(images) else images.copy()
