"""The dashboard server reads while a refresh writes: the Dash app (tables reloaded on every
callback) is served on a free port and hammered from a background thread with page loads and
figure callbacks while the main thread refreshes the same SQLite home (harvest, faces, classify,
text, analyze, export, dashboard). Nothing may see "database is locked"."""
from __future__ import annotations

import threading
import time

import requests

from postercensus.catalog.home import Home
from postercensus.dashboards.app import make_app, make_local_server
from postercensus.dashboards.panels import PANELS
from tests.support.cli import run_cli
from tests.support.facedb import write_posters

CONTROLS = ("filter-years", "filter-keywords", "filter-source", "filter-probability")


def _figures_callback() -> dict:
    outputs = [{"id": panel.id, "property": "figure"} for panel in PANELS] + [
        {"id": "methods", "property": "children"}, {"id": "filter-summary", "property": "children"},
        {"id": "citation", "property": "children"}]
    return {
        "output": ".." + "...".join(f"{o['id']}.{o['property']}" for o in outputs) + "..",
        "outputs": outputs,
        "inputs": [{"id": control, "property": "value", "value": None} for control in CONTROLS],
        "changedPropIds": [],
        "state": [],
    }


def test_the_dashboard_keeps_answering_while_a_refresh_writes(shared_data, tmp_path):
    folder, home = tmp_path / "posters", tmp_path / "home"
    write_posters(folder, shared_data, {"poster0": 0})
    assert run_cli(home, "harvest", "folder", str(folder), "--workers", "1").exit_code == 0
    write_posters(folder, shared_data, {"poster1": 1, "poster2": 2})  # new work for the refresh

    app = make_app(Home(home), max_age=0)  # reload every time
    server = make_local_server(app, port=0)
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    base = f"http://127.0.0.1:{server.server_port}"
    answers: list[tuple[str, int, str]] = []
    problems: list[str] = []
    stop = threading.Event()

    def read_repeatedly() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                page = session.get(base + "/", timeout=60)
                answers.append(("page", page.status_code, page.text))
                update = session.post(base + "/_dash-update-component", json=_figures_callback(), timeout=60)
                answers.append(("callback", update.status_code, update.text))
            except Exception as error:  # noqa: BLE001 — every failure is the finding
                problems.append(f"{type(error).__name__}: {error}")
            time.sleep(0.02)

    reader = threading.Thread(target=read_repeatedly, daemon=True)
    reader.start()
    try:
        time.sleep(0.3)  # the reader is going before the writer starts
        result = run_cli(home, "refresh", "--workers", "1")
        time.sleep(0.3)
    finally:
        stop.set()
        reader.join(timeout=60)
        server.shutdown()
        server.server_close()
        serving.join(timeout=10)

    callbacks = [answer for answer in answers if answer[0] == "callback"]
    print(f"\n{len(answers)} requests answered during the refresh ({len(callbacks)} figure callbacks)")
    assert result.exit_code == 0, (result.output, result.exception)
    assert "database is locked" not in result.output
    assert problems == []
    assert len(callbacks) >= 5, "the reader must have run through the refresh"
    assert [status for _, status, _ in answers if status != 200] == []
    assert all(f'"{PANELS[0].id}"' in text and '"methods"' in text for _, _, text in callbacks), "real figures"
    assert not [kind for kind, _, text in answers if "database is locked" in text]
