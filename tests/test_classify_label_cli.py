"""`postercensus classify label` as a user starts it: a real process serving the page until stopped."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.cli import run_cli

STARTUP_SECONDS = 60


def test_label_serves_the_page_on_localhost_and_stops_on_ctrl_c(home: Path) -> None:
    assert run_cli(home, "init").exit_code == 0  # `label` reads an existing home only
    command = [sys.executable, "-c", "from postercensus.cli import main; main()",
               "--home", str(home), "classify", "label", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, (line, process.stderr.read() if process.poll() is not None else "")
        with urllib.request.urlopen(match.group(0), timeout=STARTUP_SECONDS) as response:
            assert response.status == 200
            assert b"<html" in response.read().lower()
        with urllib.request.urlopen(match.group(0) + "api/queue?n=5", timeout=STARTUP_SECONDS) as response:
            assert b'"faces": []' in response.read()  # an empty catalogue: nothing to label yet
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        process.stdout.close()
        process.stderr.close()


def test_label_keys_that_do_not_parse_or_clash_with_skip_and_undo_are_errors(home: Path) -> None:
    assert run_cli(home, "init").exit_code == 0
    for keys, expected in (("bad", "--keys must look like"), ("s=soldier,m=male", "other than s (skip)")):
        result = run_cli(home, "classify", "label", "--keys", keys)
        assert result.exit_code == 1
        assert expected in result.stderr
