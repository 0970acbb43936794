"""What a killed process leaves behind, and how the next refresh clears it.

A process killed with SIGKILL runs no `finally`: its open run record stays `running` and its
temp files stay on disk. These tests kill real subprocesses (or leave a run open, as a kill
does) and check that the next refresh marks the run `interrupted` and removes only the temp
files whose writer is gone. The whole pipeline under kill -9 is tests/test_fault_kill.py.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from postercensus.catalog.database import default_url, open_engine
from postercensus.catalog.imagefiles import ImageFiles
from postercensus.catalog.runs import RunStatus, close_interrupted_runs, finish_run, start_run
from postercensus.catalog.tempfiles import make_temp, sweep_orphans
from postercensus import refresh
from tests.support.cli import run_cli, status
from tests.support.facedb import query

# A child that opens a temp file as the stages do, says where, and waits to be killed.
_WRITER = ("import sys, time; from pathlib import Path; from catalog.tempfiles import make_temp; "
           "handle, path = make_temp(Path(sys.argv[1])); print(path, flush=True); time.sleep(60)")


def _killed_writers_temp(folder: Path) -> Path:
    """A temp file in `folder` whose writer was killed with SIGKILL mid-write."""
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(folder)], stdout=subprocess.PIPE, text=True,
                              cwd=Path(__file__).resolve().parents[1])
    path = Path(writer.stdout.readline().strip())
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    assert path.is_file(), "a killed writer leaves its temp file"
    return path


def test_a_sweep_removes_the_temp_files_of_killed_writers_only(tmp_path):
    orphan = _killed_writers_temp(tmp_path)
    handle, ours = make_temp(tmp_path)  # this process is alive: still being written
    os.close(handle)
    users = tmp_path / "notes.part"  # not a name the tool makes
    users.write_text("mine", encoding="utf-8")

    removed = sweep_orphans([tmp_path, tmp_path / "absent"])

    assert removed == [orphan] and not orphan.exists()
    assert ours.is_file() and users.is_file()


def test_copying_in_an_unreadable_file_leaves_no_temp_file(tmp_path):
    images = ImageFiles(tmp_path)
    with pytest.raises(OSError):
        images.copy_in(tmp_path)  # a folder: the copy fails after the temp file exists
    assert list(images.incoming.iterdir()) == []


def test_interrupted_runs_are_marked_and_a_late_finish_still_wins(tmp_path):
    engine = open_engine(default_url(tmp_path))
    done = start_run(engine, "faces", {})
    finish_run(engine, done, RunStatus.OK, {"faces": 2}, [])
    killed, by_hand = start_run(engine, "text", {}), start_run(engine, "analyze", {})

    assert close_interrupted_runs(engine, "a test") == [killed, by_hand]
    finish_run(engine, by_hand, RunStatus.OK, {"files": 3}, [])  # a stage run by hand beside the refresh ends

    stored = {row["id"]: row for row in query(tmp_path, "SELECT id, status, finished_at, errors FROM runs")}
    assert stored[done]["status"] == RunStatus.OK
    assert stored[killed]["status"] == RunStatus.INTERRUPTED and stored[killed]["finished_at"] is None
    assert "found by a test" in json.loads(stored[killed]["errors"])["messages"][0]
    assert stored[by_hand]["status"] == RunStatus.OK and stored[by_hand]["finished_at"] is not None
    assert close_interrupted_runs(engine, "a test") == []


def test_refresh_closes_what_a_killed_refresh_left(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    engine = open_engine(default_url(home))
    killed_run = start_run(engine, "faces", {})
    temps = [_killed_writers_temp(folder) for folder in
             (home / "images" / "incoming", home / "faces" / "abc" / "12", home / "export", home)]
    handle, live = make_temp(home / "export")
    os.close(handle)
    monkeypatch.setattr(refresh, "refresh_stages", lambda *args: [])  # the cleanup alone

    result = run_cli(home, "refresh")

    assert result.exit_code == 0, (result.output, result.exception)
    assert "marked 1 run(s) left open by a killed process as interrupted" in result.stderr
    assert query(home, "SELECT status FROM runs WHERE id = ?", killed_run)[0]["status"] == RunStatus.INTERRUPTED
    assert status(home)["runs_interrupted_or_running"] == 1
    assert not [path for path in temps if path.exists()] and live.is_file()
