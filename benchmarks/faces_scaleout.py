"""How the face stage scales out (Dask workers) and whether its memory stays flat (collection size).

(a) Dask: the same synthetic posters through DaskFaceExecutor on a LocalCluster of 1, then 2,
single-threaded worker processes, each warmed up first (models loaded on every worker); the
speed-up should approach the worker count (target ≥ 1.8× for 2).

(b) Memory: `postercensus harvest folder` of a small and a large folder of synthetic posters,
then `postercensus faces detect --workers 2` (the stage's default settings) on each, polling
the summed RSS of the detect process and all its descendants every 0.2 s. The executors keep a
bounded number of images in flight, so the peak should not grow with the collection (target
ratio ≈ 1.0).

    python benchmarks/faces_scaleout.py [--part dask|memory|both] [--images N] [--small N] [--large N]
                                         [--detect-options OPTS]
"""
from __future__ import annotations

import argparse
import importlib.util
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_support import (  # noqa: E402
    NK_FACES, cpu_count, per_minute, print_table, progress, ratio, require_data, synthetic_posters, timed,
    write_posters,
)

if TYPE_CHECKING:
    import psutil

DASK_TARGET = 1.8
POLL_SECONDS = 0.2
MIB = 1024 * 1024


def dask_rate(workers: int, posters: list[bytes]) -> float:
    """Images per minute on a fresh LocalCluster of `workers` single-threaded processes."""
    from distributed import Client, LocalCluster

    from postercensus.faces.executors import DaskFaceExecutor
    from postercensus.faces.pipeline import process_image
    from postercensus.faces.settings import FaceSettings

    settings = FaceSettings()
    with LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as cluster:
        with Client(cluster) as client:  # warm-up: one poster on every worker, so each loads its models
            client.run(process_image, posters[0], settings)
        executor = DaskFaceExecutor(cluster.scheduler_address)
        try:
            for _ in executor.run(enumerate(posters[:2 * workers]), settings):
                pass
            with timed() as watch:
                faces = sum(len(result.faces) for _, result in executor.run(enumerate(posters), settings))
        finally:
            executor.close()
    progress(f"  {workers} worker(s): {len(posters)} posters, {faces} faces in {watch.seconds:.1f} s")
    return per_minute(len(posters), watch.seconds)


def dask_part(count: int) -> None:
    progress(f"Dask: generating {count} synthetic posters")
    posters = synthetic_posters(count)
    rates = {workers: dask_rate(workers, posters) for workers in (1, 2)}
    speed_up = rates[2] / rates[1]
    print_table(
        ["Dask LocalCluster", "images/min", "speed-up"],
        [[f"{workers} worker(s) × 1 thread", f"{rate:.1f}", ratio(rate, rates[1])] for workers, rate in rates.items()],
        title=f"(a) Dask scale-out: {count} synthetic 800×1100 posters, FaceSettings(), detect + describe, "
              f"{cpu_count()} CPU cores",
    )
    print(f"target speed-up ≥ {DASK_TARGET}× with 2 workers: {'met' if speed_up >= DASK_TARGET else 'NOT met'}\n")


def postercensus_command() -> list[str]:
    """The installed CLI next to this interpreter (the benchmark runs the real entry point)."""
    script = Path(sys.executable).with_name("postercensus")
    found = str(script) if script.exists() else shutil.which("postercensus")
    if not found:
        sys.exit("the postercensus command is not installed; run `pip install -e .` first")
    return [found]


def detect_available(cli: list[str]) -> bool:
    return subprocess.run([*cli, "faces", "detect", "--help"], capture_output=True).returncode == 0


def tree_rss(process: psutil.Process) -> int:
    """Summed RSS of a process and its descendants (0 for any that exited meanwhile)."""
    import psutil

    total = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def peak_rss(command: list[str], log: Path) -> tuple[int, float]:
    """Run `command`, polling its process tree; the peak summed RSS in bytes and the seconds taken."""
    import psutil

    peak = 0
    with log.open("wb") as output, timed() as watch:
        process = psutil.Popen(command, stdout=output, stderr=subprocess.STDOUT)
        while process.poll() is None:
            try:
                peak = max(peak, tree_rss(process))
            except psutil.NoSuchProcess:
                break
            time.sleep(POLL_SECONDS)
    if process.returncode:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{log.read_text()[-3000:]}")
    return peak, watch.seconds


def summary_line(log: Path) -> str:
    """The detect command's "faces: N found in M image(s)" line, to check every poster was done."""
    lines = log.read_text().splitlines()
    return next((line for line in lines if " found in " in line), lines[-1] if lines else "(no output)")


def harvest_and_detect(cli: list[str], count: int, detect_options: list[str]) -> tuple[int, float]:
    """A fresh home with `count` harvested synthetic posters; the detect run's peak RSS and seconds."""
    with tempfile.TemporaryDirectory(prefix="postercensus-bench-") as temporary:
        root = Path(temporary)
        folder, home = root / "posters", root / "home"
        progress(f"  {count}: writing posters")
        write_posters(folder, count)
        progress(f"  {count}: harvest folder")
        harvest = subprocess.run([*cli, "--home", str(home), "harvest", "folder", str(folder)],
                                 capture_output=True, text=True)
        if harvest.returncode:
            sys.exit(f"harvest folder failed ({harvest.returncode}):\n{(harvest.stdout + harvest.stderr)[-3000:]}")
        progress(f"  {count}: faces detect {shlex.join(detect_options)}")
        log = root / "detect.log"
        peak, seconds = peak_rss([*cli, "--home", str(home), "faces", "detect", *detect_options], log)
        progress(f"  {count}: peak {peak / MIB:.0f} MiB in {seconds:.0f} s; {summary_line(log)}")
    return peak, seconds


def memory_part(small: int, large: int, detect_options: list[str]) -> None:
    if importlib.util.find_spec("psutil") is None:
        sys.exit("the memory benchmark polls process memory with psutil: `pip install psutil`")
    cli = postercensus_command()
    if not detect_available(cli):
        print("(b) memory: skipped — `postercensus faces detect` is not available in this installation")
        return
    progress(f"memory: {small} and {large} posters")
    results = {count: harvest_and_detect(cli, count, detect_options) for count in (small, large)}
    peak_small = results[small][0]
    print_table(
        ["posters", "peak RSS MiB (detect + children)", "vs small", "detect s", "images/min"],
        [[count, f"{peak / MIB:.0f}", ratio(peak, peak_small), f"{seconds:.0f}", f"{per_minute(count, seconds):.1f}"]
         for count, (peak, seconds) in results.items()],
        title=f"(b) Memory: postercensus faces detect {shlex.join(detect_options)} (RSS summed over the process tree)",
    )
    print("target: flat peak RSS (ratio ≈ 1.0)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("dask", "memory", "both"), default="both", help="default: both")
    parser.add_argument("--images", type=int, default=40, help="synthetic posters for the Dask runs (default 40)")
    parser.add_argument("--small", type=int, default=200, help="posters in the small collection (default 200)")
    parser.add_argument("--large", type=int, default=2000, help="posters in the large collection (default 2000)")
    parser.add_argument(
        "--detect-options", default="--workers 2",
        help='options for `faces detect` in (b) (default "--workers 2"; e.g. add "--detector hog --upsample 0" '
             "for a quicker check: the flatness comes from the executor, not the detector)",
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    require_data(NK_FACES)
    if args.part in ("dask", "both"):
        dask_part(args.images)
    if args.part in ("memory", "both"):
        memory_part(args.small, args.large, shlex.split(args.detect_options))


if __name__ == "__main__":
    main()
