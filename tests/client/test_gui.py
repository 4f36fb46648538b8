"""The desktop client driven offscreen with pytest-qt: the tray menu and the
manager window against a real coordinator process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from client.agent.config import load_config
from client.agent.preferences import load_preferences
from client.agent.probes import FixedProbes
from client.gui.controller import AgentController
from client.gui.manager_window import ManagerWindow
from client.gui.setup_dialog import SetupDialog
from client.gui.tray import Tray
from tests.client.conftest import long_work, token
from tests.e2e.cluster import Cluster

pytestmark = pytest.mark.gui


class Gui:
    def __init__(self, qtbot, data: Path) -> None:  # type: ignore[no-untyped-def]
        self.probes = FixedProbes(on_battery=False, idle=0.0)
        self.controller = AgentController(data, probes=self.probes, use_keyring=False, poll_ms=50,
                                          heartbeat_interval=2.0)
        self.window = ManagerWindow(self.controller)
        self.tray = Tray(self.controller)
        qtbot.addWidget(self.window)
        self.window.show()
        self.qtbot = qtbot

    def wait_status(self, prefix: str, timeout: int = 30_000) -> None:
        self.qtbot.waitUntil(lambda: self.window.status.text().startswith(prefix), timeout=timeout)

    def attach(self, url: str, tok: str) -> None:
        projects = self.window.projects
        self.window.tabs.setCurrentWidget(projects)
        projects.url.setText(url)
        projects.token.setText(tok)
        with self.qtbot.waitSignal(self.controller.attached, timeout=30_000):
            self.qtbot.mouseClick(projects.attach_button, Qt.MouseButton.LeftButton)


@pytest.fixture
def gui(qtbot, tmp_path: Path) -> Iterator[Gui]:  # type: ignore[no-untyped-def]
    g = Gui(qtbot, tmp_path / "client")
    try:
        yield g
    finally:
        g.controller.shutdown()


def test_attach_then_pause_resume_and_snooze_from_the_tray(gui: Gui, cluster: Cluster) -> None:
    long_work(cluster)
    gui.attach(cluster.url, token(cluster))
    assert "Attached to" in gui.window.projects.message.text()
    assert load_config(environ={}, data_dir=gui.controller.data_dir).coordinator == cluster.url
    gui.qtbot.waitUntil(lambda: gui.window.tasks.table.rowCount() == 1, timeout=30_000)
    assert gui.window.tasks.table.item(0, 0).text() == "hunt"
    gui.wait_status("running")
    assert gui.tray.state in ("running", "throttled")

    gui.tray.pause_action.trigger()
    gui.wait_status("paused: paused by you")
    assert gui.tray.state == "paused" and gui.tray.pause_action.text() == "Resume"
    assert gui.tray.status_action.text() == "paused: paused by you"
    gui.qtbot.waitUntil(lambda: gui.window.tasks.table.item(0, 6).text() == "suspended", timeout=10_000)

    gui.tray.pause_action.trigger()  # now "Resume"
    gui.wait_status("running")
    assert gui.tray.pause_action.text() == "Pause"

    gui.tray.snooze_action.trigger()
    gui.wait_status("paused: snoozed for 60 more min")

    gui.window.tabs.setCurrentWidget(gui.window.log)
    gui.qtbot.waitUntil(lambda: "Sandbox protections on this machine" in gui.window.log.text(), timeout=5_000)
    assert "Started a task" in gui.window.log.text()
    assert "network:" in gui.window.statistics.protections.text()


def test_a_bad_enrolment_token_shows_an_error(gui: Gui, cluster: Cluster) -> None:
    projects = gui.window.projects
    projects.url.setText(cluster.url)
    projects.token.setText("nre_not-a-real-token")
    with gui.qtbot.waitSignal(gui.controller.error, timeout=30_000):
        projects.attach_button.click()
    assert "refused the enrolment" in projects.message.text()
    gui.wait_status("error: the coordinator refused the enrolment")
    gui.qtbot.waitUntil(lambda: gui.tray.state == "error", timeout=5_000)
    gui.window.tabs.setCurrentWidget(gui.window.log)
    gui.qtbot.waitUntil(lambda: "refused the enrolment" in gui.window.log.text(), timeout=5_000)


def test_an_unreachable_coordinator_and_a_bad_url_show_errors(gui: Gui) -> None:
    projects = gui.window.projects
    projects.url.setText("not a url")
    projects.token.setText("x")
    projects.attach_button.click()
    assert "must start with http" in projects.message.text()
    projects.url.setText("http://127.0.0.1:9")  # nothing listens on the discard port
    with gui.qtbot.waitSignal(gui.controller.error, timeout=60_000):
        projects.attach_button.click()
    assert "cannot reach the coordinator" in projects.message.text()


def test_preferences_are_saved_and_reloaded(gui: Gui, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    tab = gui.window.preferences
    tab.in_use.cores.setValue(2)
    tab.in_use.cpu.setValue(40)
    tab.idle.cpu.setValue(100)
    tab.only_idle.setChecked(True)
    tab.min_battery.setValue(30)
    tab.programs.setText("steam, zoom")
    tab.other_cpu.setValue(25)
    tab.disk.setValue(750)
    tab.network.setValue(200)
    tab.schedule["mon"].setText("08:00-18:00")
    qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
    assert tab.message.text() == "Saved."

    saved = load_preferences(gui.controller.data_dir)  # what the headless agent will read
    assert (saved.in_use.cores, saved.in_use.cpu_percent, saved.only_when_idle) == (2, 40, True)
    assert saved.exclusive_programs == ("steam", "zoom") and saved.schedule == (("mon", "08:00-18:00"),)
    assert (saved.min_battery_percent, saved.other_cpu_percent, saved.disk_cap_mb, saved.daily_network_mb) \
        == (30, 25, 750, 200)

    again = Gui(qtbot, gui.controller.data_dir)  # a fresh start of the client
    try:
        t2 = again.window.preferences
        assert (t2.in_use.cores.value(), t2.in_use.cpu.value(), t2.programs.text()) == (2, 40, "steam, zoom")
        assert t2.schedule["mon"].text() == "08:00-18:00" and t2.only_idle.isChecked()
    finally:
        again.controller.shutdown()

    tab.schedule["tue"].setText("all day")
    assert not tab.save()
    assert "schedule entry tue" in tab.message.text()
    assert load_preferences(gui.controller.data_dir).schedule == (("mon", "08:00-18:00"),)  # nothing lost


def test_without_a_system_tray_the_window_is_the_ui(gui: Gui) -> None:
    assert not Tray.available()  # offscreen has no tray
    assert gui.tray.show() is False
    assert gui.window.isVisible()
    gui.qtbot.waitUntil(lambda: gui.window.status.text() == "not attached to a coordinator", timeout=5_000)
    assert gui.window.preferences.idle_note.text() == "Idle time from injected readings."


def test_idle_detection_unavailable_is_said_in_preferences(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    g = Gui(qtbot, tmp_path / "c")
    try:
        g.window.preferences.set_idle_method("idle detection unavailable (no display server)")
        assert "unavailable on this desktop" in g.window.preferences.idle_note.text()
    finally:
        g.controller.shutdown()


def test_first_run_setup_dialog(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from client.agent.preferences import Preferences

    d = SetupDialog(Preferences(), "http://c:1")
    qtbot.addWidget(d)
    d.cpu.setValue(30)
    d.cores.setValue(1)
    d.only_idle.setChecked(True)
    p = d.chosen_preferences()
    assert (p.in_use.cpu_percent, p.in_use.cores, p.only_when_idle) == (30, 1, True)
    assert d.url.text() == "http://c:1"
