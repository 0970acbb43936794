"""Images per minute: the seed pipeline against `faces scan` and `faces detect`, on the same images, in one run.

(a) Throughput. Each image set is copied into a temporary folder and harvested into a fresh
home (untimed). Then, on the same images:

* the seed study's pipeline (benchmarks/seed_pipeline.py: 2.5× enlargement, HOG, 68-point
  alignment), one image after another in one process, as the study ran it;
* `faces scan` — faces.scan.scan_folder, detection only, boxes to a CSV;
* `faces detect` — faces.stage.DetectFaces.scan: detection, landmarks, aligned crop, descriptor,
  crop files and catalogue rows;

both with the settings under test (default: FaceSettings()) on make_executor(None, None): a
process pool on every core. Each pipeline is timed warm (models loaded: the seed on one untimed
image, every pool worker on two); the start-up (pool and models) is reported apart. Beside each
figure, the cores the whole machine kept busy while it was timed (/proc/stat): on a shared
machine that says whether other jobs took a share (the seed alone keeps one core busy).

(b) Profile: the same steps in one process (`faces detect` with --workers 1), each function
wrapped by a timer (benchmarks/step_timer.py; nothing in faces/ is changed): milliseconds per
image in decode, resize, each detector, landmarks, alignment, descriptor, crop encoding and
storing, against the seed's own steps on the same images.

Peak RSS at 200 vs 2,000 images is benchmarks/faces_scaleout.py --part memory.

    python benchmarks/faces_seed_baseline.py [--set wpa,peopleart,paintings] [--repeat 7] [--paintings 150]
                                             [--profile-images 60] [--profile-set peopleart|paintings]
                                             [--settings "detector=hog,upsample=0"]
"""
from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

# The profile is one process on one core: NumPy's BLAS (the descriptor network) gets one thread,
# fixed when NumPy loads, as the pools' workers do (faces.executors.ProcessPoolFaceExecutor).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import DATA, cpu_count, per_minute, print_table, progress, ratio, require_data, timed  # noqa: E402
from paintingfaces import DATA as PAINTINGS  # noqa: E402
from peopleart import DATA as PEOPLEART, load_images  # noqa: E402
from step_timer import StepTimer, detector_targets  # noqa: E402

from postercensus.faces.settings import FaceSettings  # noqa: E402

WPA_IMAGES = DATA / "wpa-posters" / "images"
SCAN_TARGET, DETECT_TARGET = 3.0, 1.5
SETS = ("wpa", "peopleart", "paintings")


def source_images(name: str, repeat: int, count: int) -> list[Path]:
    """The set's images: WPA's 7 posters `repeat` times; `count` of People-Art's or the paintings, evenly spaced."""
    if name == "wpa":
        return sorted(WPA_IMAGES.glob("*.jpg")) * repeat
    every = [image.path for image in load_images()] if name == "peopleart" else sorted((PAINTINGS / "images").iterdir())
    return every[:: max(1, len(every) // count)][:count]


def _with_comment(data: bytes, text: str) -> bytes:
    """The JPEG with a COM segment after SOI: the same pixels, other bytes (so repeats are distinct images)."""
    payload = text.encode()
    return data[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + data[2:]


def prepare(name: str, sources: list[Path], root: Path) -> tuple[Path, list[Path], Path]:
    """Copy the images (repeats made distinct) into root/images and harvest them into root/home."""
    folder, home = root / "images", root / "home"
    folder.mkdir(parents=True)
    files = []
    for index, source in enumerate(sources):
        target = folder / f"{index:05d}-{source.name}"
        data = source.read_bytes()
        target.write_bytes(_with_comment(data, f"copy {index}") if sources.count(source) > 1 else data)
        files.append(target)
    command = [sys.executable, "-c", "from postercensus.cli import main; main()",
               "--home", str(home), "harvest", "folder", str(folder)]
    harvest = subprocess.run(command, capture_output=True, text=True)
    if harvest.returncode:
        sys.exit(f"harvest folder failed for {name}:\n{(harvest.stdout + harvest.stderr)[-3000:]}")
    return folder, files, home


def _busy_and_total_ticks() -> tuple[int, int] | None:
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat (None off Linux)."""
    try:
        fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


@dataclass
class MachineLoad:
    busy_cores: float | None = None  # cores busy on average over the window, every process counted

    def __str__(self) -> str:
        return "n/a" if self.busy_cores is None else f"{self.busy_cores:.2f}"


@contextmanager
def machine_load() -> Iterator[MachineLoad]:
    """How many cores the whole machine kept busy during the `with` body (ours and everyone else's).

    On a shared machine a figure depends on what else runs: the seed uses one core and the
    pools all of them, so a busy-core count above that says other jobs took a share of the
    cores while the figure beside it was measured.
    """
    load = MachineLoad()
    start = _busy_and_total_ticks()
    try:
        yield load
    finally:
        end = _busy_and_total_ticks()
        if start and end and end[1] > start[1]:
            load.busy_cores = (os.cpu_count() or 1) * (end[0] - start[0]) / (end[1] - start[1])


@dataclass
class Timing:
    images: int
    faces: int
    startup_seconds: float
    seconds: float
    load: MachineLoad

    @property
    def rate(self) -> float:
        return per_minute(self.images, self.seconds)


def time_seed(files: list[Path]) -> Timing:
    from seed_pipeline import SeedPipeline

    with timed() as startup:
        pipeline = SeedPipeline()
        pipeline.run(files[0])
    with machine_load() as load, timed() as watch:
        faces = sum(len(pipeline.run(path)) for path in files)
    return Timing(len(files), faces, startup.seconds, watch.seconds, load)


def _warm_pool(settings: FaceSettings, files: list[Path], describe: bool):
    """A fresh pool on every core with each worker's models loaded (two images per worker, untimed)."""
    from postercensus.faces.executors import default_workers, make_executor

    executor = make_executor(None, None)
    warm = files[: 2 * default_workers()]
    for _ in executor.run(((i, p.read_bytes()) for i, p in enumerate(warm)), settings, describe=describe):
        pass
    return executor


def time_scan(settings: FaceSettings, folder: Path, files: list[Path], out: Path) -> tuple[Timing, str]:
    from postercensus.faces.scan import scan_folder

    with timed() as startup:
        executor = _warm_pool(settings, files, describe=False)
    try:
        with machine_load() as load, timed() as watch:
            report = scan_folder(folder, files, out, settings, executor)
    finally:
        executor.close()
    if report.errors:
        progress(f"  scan: {len(report.errors)} errors, e.g. {report.errors[0]}")
    return Timing(report.counts["images"], report.counts["faces"], startup.seconds, watch.seconds, load), executor.description


def _stage(home: Path, settings: FaceSettings):
    """A face scan of `home` with `settings` on a given executor (the face set registered first)."""
    from postercensus.catalog.home import Home
    from postercensus.faces.stage import DetectFaces

    opened, stage = Home(home), DetectFaces(settings)
    stage.pending(opened)
    return lambda executor: stage.scan(opened, executor)


def time_detect(settings: FaceSettings, home: Path, files: list[Path]) -> Timing:
    with timed() as startup:
        executor = _warm_pool(settings, files, describe=True)
    try:
        stage = _stage(home, settings)
        with machine_load() as load, timed() as watch:
            report = stage(executor)
    finally:
        executor.close()
    if report.errors:
        progress(f"  detect: {len(report.errors)} errors, e.g. {report.errors[0]}")
    return Timing(report.counts["images_scanned"], report.counts["faces"], startup.seconds, watch.seconds, load)


def throughput(name: str, sources: list[Path], settings: FaceSettings) -> tuple[list[list[object]], list[str]]:
    progress(f"{name}: {len(sources)} images")
    with tempfile.TemporaryDirectory(prefix="postercensus-bench-") as temporary:
        folder, files, home = prepare(name, sources, Path(temporary))
        seed = time_seed(files)
        progress(f"  seed: {seed.seconds:.1f} s")
        scan, pool = time_scan(settings, folder, files, Path(temporary) / "scan.csv")
        progress(f"  scan: {scan.seconds:.1f} s")
        detect = time_detect(settings, home, files)
        progress(f"  detect: {detect.seconds:.1f} s")
    rows = [
        [name, label, timing.images, timing.faces, f"{timing.startup_seconds:.1f}", f"{timing.rate:.1f}",
         "1.00×" if timing is seed else ratio(timing.rate, seed.rate), str(timing.load)]
        for label, timing in (("seed (1 process)", seed), (f"faces scan ({pool})", scan),
                              (f"faces detect ({pool})", detect))
    ]
    verdicts = [
        f"{name} {step} {ratio(t.rate, seed.rate)} ({'met' if t.rate >= target * seed.rate else 'NOT met'}, target ≥ {target:g}×)"
        for step, t, target in (("scan", scan, SCAN_TARGET), ("detect", detect, DETECT_TARGET))
    ]
    return rows, verdicts


PIPELINE_STEPS = [  # faces.pipeline names → step
    ("load_rgb", "decode (Pillow → RGB)"),
    ("shape_of", "landmarks (dlib shape predictor)"),
    ("shape_points", "landmarks (dlib shape predictor)"),
    ("alignment_matrix", "align (warp to 224 px)"),
    ("detector_alignment_matrix", "align (warp to 224 px)"),
    ("warp", "align (warp to 224 px)"),
    ("face_descriptors", "descriptor: ResNet (NumPy, dlib's weights)"),
    ("_jpeg", "crop JPEG encode"),
]


def load_models(settings: FaceSettings, image: Path) -> None:
    """Load the detector, landmark and descriptor models outside the timed run (they load lazily, on first use)."""
    from postercensus.faces import align, embed, models
    from postercensus.faces.pipeline import process_image

    process_image(image.read_bytes(), settings)
    for file_name in (models.LANDMARKS_5_FILE, models.LANDMARKS_68_FILE):
        align._predictor(file_name)
    embed._network()


def profile_ours(settings: FaceSettings, home: Path) -> tuple[StepTimer, float, int]:
    """`faces detect --workers 1` on an already harvested home, every step timed."""
    import cv2

    import postercensus.faces.embed as embed
    import postercensus.faces.pipeline as pipeline
    from postercensus.faces.executors import InlineExecutor
    import postercensus.faces.stage as face_stage

    stage = _stage(home, settings)
    pipeline._detector_for(settings)  # build (and import) the detector chain so its classes are found
    timer = StepTimer()
    targets = [(pipeline, name, label) for name, label in PIPELINE_STEPS]
    targets.append((embed, "face_chips", "descriptor: 150 px chips (dlib)"))
    targets += [(cv2, "resize", "resize (cv2.resize)"), (face_stage, "_save", "store (crop files + catalogue rows)")]
    targets += detector_targets()
    with timer.patched(targets), timed() as watch:
        report = stage(InlineExecutor())
    return timer, watch.seconds, report.counts["images_scanned"]


def profile_seed(files: list[Path]) -> tuple[StepTimer, float]:
    import cv2

    from seed_pipeline import SeedPipeline

    pipeline = SeedPipeline()
    pipeline.run(files[0])
    timer = StepTimer()
    pipeline.detector = timer.wrap(pipeline.detector, "detect: seed HOG (grayscale, 2.5×)")
    pipeline.predictor = timer.wrap(pipeline.predictor, "landmarks (dlib shape predictor)")
    pipeline._align = timer.wrap(pipeline._align, "align (warp to 224 px)")
    targets = [(cv2, "imread", "decode (cv2.imread)"), (cv2, "resize", "resize (cv2.resize)"),
               (cv2, "cvtColor", "grayscale (cv2.cvtColor)")]
    with timer.patched(targets), timed() as watch:
        for path in files:
            pipeline.run(path)
    return timer, watch.seconds


def profile(name: str, sources: list[Path], settings: FaceSettings) -> None:
    progress(f"profile: {len(sources)} {name} images, one process")
    with tempfile.TemporaryDirectory(prefix="postercensus-bench-") as temporary:
        _, files, home = prepare(name, sources, Path(temporary))
        load_models(settings, files[0])
        with machine_load() as load:
            seed, seed_seconds = profile_seed(files)
            ours, our_seconds, images = profile_ours(settings, home)
    count = len(files)
    steps = list(dict.fromkeys([*seed.seconds, *ours.seconds]))
    rows = [
        [step, f"{1000 * seed.seconds.get(step, 0) / count:.1f}" if step in seed.seconds else "–",
         f"{1000 * ours.seconds.get(step, 0) / count:.1f}" if step in ours.seconds else "–",
         f"{ours.seconds.get(step, 0) / our_seconds:.0%}" if step in ours.seconds else "–"]
        for step in steps
    ]
    rows.append(["other (loop, scheduling, Python)", f"{1000 * (seed_seconds - sum(seed.seconds.values())) / count:.1f}",
                 f"{1000 * (our_seconds - sum(ours.seconds.values())) / count:.1f}",
                 f"{(our_seconds - sum(ours.seconds.values())) / our_seconds:.0%}"])
    rows.append(["total", f"{1000 * seed_seconds / count:.1f}", f"{1000 * our_seconds / count:.1f}", "100%"])
    print_table(["step", "seed ms/image", "faces detect ms/image", "share (faces detect)"], rows,
                title=f"Where the time goes per image: {count} {name} images, one process, exclusive time per step "
                      f"({images} scanned by faces detect; {load} of {os.cpu_count()} cores busy, every process counted)")


def parse_settings(text: str) -> FaceSettings:
    """"detector=yunet,threshold=0.6" → FaceSettings(detector="yunet", threshold=0.6); "" → FaceSettings()."""
    values = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, value = item.partition("=")
        values[key] = tuple(value.split("+")) if key == "members" else ast.literal_eval(value) if value[:1] in "-.0123456789" else value
    return FaceSettings(**values)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="wpa,peopleart,paintings",
                        help=f"comma-separated from {', '.join(SETS)} (\"\": profile only)")
    parser.add_argument("--repeat", type=int, default=7,
                        help="repeat the 7 WPA posters N times, each copy a distinct file (default 7: 49 posters)")
    parser.add_argument("--paintings", type=int, default=150, help="paintings to use, evenly spaced (default 150)")
    parser.add_argument("--profile-images", type=int, default=60,
                        help="images (evenly spaced) for the profile table; 0 skips it (default 60)")
    parser.add_argument("--profile-set", choices=("peopleart", "paintings"), default="peopleart",
                        help="image set of the profile table (default peopleart)")
    parser.add_argument("--settings", default="",
                        help='settings under test as key=value pairs, members joined by "+" (default: FaceSettings())')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    names = [name.strip() for name in args.set.split(",") if name.strip()]
    unknown = [name for name in names if name not in SETS]
    if unknown:
        sys.exit(f"unknown set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
    require_data(*[{"wpa": WPA_IMAGES, "peopleart": PEOPLEART, "paintings": PAINTINGS}[n] for n in names])
    settings = parse_settings(args.settings)
    rows: list[list[object]] = []
    verdicts: list[str] = []
    for name in names:
        count = args.paintings if name == "paintings" else 10 ** 6
        set_rows, set_verdicts = throughput(name, source_images(name, args.repeat, count), settings)
        rows += set_rows
        verdicts += set_verdicts
    if rows:
        print_table(
            ["set", "pipeline", "images", "faces", "start-up s", "images/min (warm)", "vs seed", "busy cores (all processes)"],
            rows, title=f"Seed pipeline vs faces scan / faces detect with {settings}, {cpu_count()} CPU cores "
                        f"(busy cores: the whole machine's average while timed; the seed alone keeps 1 busy, the pools {cpu_count()})",
        )
        print("\n".join(verdicts) + "\n")
    if args.profile_images:
        profile(args.profile_set, source_images(args.profile_set, 1, args.profile_images), settings)

if __name__ == "__main__":
    main()
