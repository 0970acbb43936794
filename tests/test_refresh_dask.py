"""`refresh --scheduler tcp://…` on a real LocalCluster (two worker processes over TCP) finds the
same faces as a local refresh of an identical home: same count, same boxes, same crops."""
from __future__ import annotations

import shutil

import pytest

from tests.support import facedb
from tests.support.cli import run_cli

distributed = pytest.importorskip("distributed")

POSTER_NAMES = {"poster0": 0, "poster1": 1}


def _key(row: dict) -> tuple:
    return row["image_sha256"], row["face_index"], facedb.box_of(row), tuple(row["detectors"]), row["crop_path"]


def test_refresh_on_a_dask_cluster_finds_the_faces_a_local_refresh_finds(shared_data, tmp_path):
    folder = tmp_path / "posters"
    facedb.write_posters(folder, shared_data, POSTER_NAMES)
    harvested = tmp_path / "harvested"
    result = run_cli(harvested, "harvest", "folder", str(folder), "--workers", "1")
    assert result.exit_code == 0, result.output
    local_home = shutil.copytree(harvested, tmp_path / "local")
    dask_home = shutil.copytree(harvested, tmp_path / "dask")

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, protocol="tcp",
                                  dashboard_address=None, host="127.0.0.1") as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        on_dask = run_cli(dask_home, "refresh", "--scheduler", address)
    on_local = run_cli(local_home, "refresh", "--workers", "1")

    assert on_dask.exit_code == 0, (on_dask.output, on_dask.exception)
    assert on_local.exit_code == 0, (on_local.output, on_local.exception)
    dask_faces, local_faces = facedb.faces(dask_home), facedb.faces(local_home)
    assert len(dask_faces) == len(local_faces) == 4
    assert [_key(row) for row in dask_faces] == [_key(row) for row in local_faces]
    for a, b in zip(dask_faces, local_faces):
        assert max(abs(x - y) for x, y in zip(a["embedding"], b["embedding"])) < 1e-4
        assert (dask_home / a["crop_path"]).is_file()
    [run] = facedb.runs(dask_home, "faces")
    assert run["status"] == "ok" and run["parameters"]["executor"].startswith(f"Dask cluster at {address}")
