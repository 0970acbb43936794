"""`faces detect|scan --scheduler ADDRESS` on a real local Dask cluster (two worker processes).

The workers get image bytes and settings and return plain results; the client writes the
catalogue. The faces must be the ones the local process pool finds on an identical home.
"""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from tests.support import facedb
from tests.support.cli import run_cli
from tests.support.posters import assert_finds_faces

distributed = pytest.importorskip("distributed")

POSTER_NAMES = {"a/poster6": 6, "poster7": 7, "poster8": 8}


@pytest.fixture(scope="module")
def cluster():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, host="127.0.0.1")
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def posters_folder(tmp_path_factory, shared_data):
    folder = tmp_path_factory.mktemp("dask-posters") / "posters"
    posters = facedb.write_posters(folder, shared_data, POSTER_NAMES)
    return folder, {f"{name}.jpg": poster for name, poster in posters.items()}


@pytest.fixture(scope="module")
def harvested(tmp_path_factory, posters_folder) -> Path:
    home = tmp_path_factory.mktemp("dask-harvested") / "home"
    result = run_cli(home, "harvest", "folder", str(posters_folder[0]))
    assert result.exit_code == 0, result.output
    return home


def _key(row: dict) -> tuple:
    return row["image_sha256"], row["face_index"], facedb.box_of(row), tuple(row["detectors"]), row["crop_path"]


def test_detect_on_a_dask_cluster_matches_the_local_pool(posters_folder, harvested, cluster, tmp_path):
    pool_home = shutil.copytree(harvested, tmp_path / "pool")
    dask_home = shutil.copytree(harvested, tmp_path / "dask")

    on_dask = run_cli(dask_home, "faces", "detect", "--scheduler", cluster.scheduler_address)
    on_pool = run_cli(pool_home, "faces", "detect", "--workers", "2")

    assert on_dask.exit_code == 0, on_dask.output
    assert on_pool.exit_code == 0, on_pool.output
    assert f"Dask cluster at {cluster.scheduler_address} (2 workers, 2 threads)" in on_dask.stdout
    assert "3 image(s) to process" in on_dask.stdout
    dask_faces, pool_faces = facedb.faces(dask_home), facedb.faces(pool_home)
    assert [_key(row) for row in dask_faces] == [_key(row) for row in pool_faces]
    for a, b in zip(dask_faces, pool_faces):
        assert len(a["embedding"]) == 128
        assert max(abs(x - y) for x, y in zip(a["embedding"], b["embedding"])) < 1e-4
        assert a["landmarks68"] == b["landmarks68"]
        assert (dask_home / a["crop_path"]).is_file()
    images = facedb.stored_images(dask_home)
    for name, poster in posters_folder[1].items():
        mine = [row for row in dask_faces if row["image_sha256"] == images[name].sha256]
        assert_finds_faces([facedb.box_of(row) for row in mine], poster.placements, max_stray=0)
    [run] = facedb.runs(dask_home, "faces")
    assert run["status"] == "ok" and run["counts"]["images_scanned"] == 3
    assert run["parameters"]["executor"].startswith("Dask cluster at")

    again = run_cli(dask_home, "faces", "detect", "--scheduler", cluster.scheduler_address)
    assert again.exit_code == 0 and "0 image(s) to process" in again.stdout
    assert facedb.faces(dask_home) == dask_faces


def test_scan_on_a_dask_cluster_matches_one_process(posters_folder, cluster, tmp_path):
    folder = posters_folder[0]
    on_dask, inline = tmp_path / "dask.csv", tmp_path / "inline.csv"

    first = run_cli(tmp_path / "home", "faces", "scan", str(folder), "--out", str(on_dask),
                    "--scheduler", cluster.scheduler_address)
    second = run_cli(tmp_path / "home", "faces", "scan", str(folder), "--out", str(inline), "--workers", "1")

    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    with on_dask.open(newline="") as a, inline.open(newline="") as b:
        dask_rows, inline_rows = list(csv.reader(a)), list(csv.reader(b))
    assert dask_rows == inline_rows
    assert {row[0] for row in dask_rows[1:]} == set(posters_folder[1])


def test_detect_with_yunet_on_a_dask_cluster_matches_the_local_pool(posters_folder, harvested, cluster, tmp_path):
    """The same with a landmark detector: boxes, YuNet's points, the alignment they chose and the crops."""
    pool_home = shutil.copytree(harvested, tmp_path / "pool")
    dask_home = shutil.copytree(harvested, tmp_path / "dask")
    options = ("--detector", "yunet", "--threshold", "0.7")

    on_dask = run_cli(dask_home, "faces", "detect", *options, "--scheduler", cluster.scheduler_address)
    on_pool = run_cli(pool_home, "faces", "detect", *options, "--workers", "2")

    assert on_dask.exit_code == 0, on_dask.output
    assert on_pool.exit_code == 0, on_pool.output
    dask_faces, pool_faces = facedb.faces(dask_home), facedb.faces(pool_home)
    assert [_key(row) for row in dask_faces] == [_key(row) for row in pool_faces]
    for a, b in zip(dask_faces, pool_faces):
        assert a["aligned_by"] == b["aligned_by"] == "detector5"
        assert a["detector_landmarks"] == b["detector_landmarks"] and len(a["detector_landmarks"]) == 5
        assert max(abs(x - y) for x, y in zip(a["embedding"], b["embedding"])) < 1e-4
        assert (dask_home / a["crop_path"]).read_bytes() == (pool_home / b["crop_path"]).read_bytes()
    images = facedb.stored_images(dask_home)
    for name, poster in posters_folder[1].items():
        mine = [row for row in dask_faces if row["image_sha256"] == images[name].sha256]
        assert_finds_faces([facedb.box_of(row) for row in mine], poster.placements, max_stray=0)
    [face_set] = facedb.face_sets(dask_home)
    assert face_set["detector"] == "yunet"
