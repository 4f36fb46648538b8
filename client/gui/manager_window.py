"""The manager window: Tasks, Projects, Preferences, Statistics and Log tabs, and
a status line with the same words as the tray."""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from client.agent.status import Snapshot
from client.gui import icons
from client.gui.controller import AgentController
from client.gui.log_tab import LogTab
from client.gui.preferences_tab import PreferencesTab
from client.gui.projects_tab import ProjectsTab
from client.gui.statistics_tab import StatisticsTab
from client.gui.tasks_tab import TasksTab


class ManagerWindow(QMainWindow):
    def __init__(self, controller: AgentController, *, hide_on_close: bool = False) -> None:
        super().__init__()
        self.controller = controller
        self.hide_on_close = hide_on_close  # with a tray, closing the window keeps the client running
        self.setWindowTitle("Newral")
        self.setWindowIcon(icons.app_icon())
        self.state_icon = QLabel()
        self.status = QLabel("starting…")
        self.pause_button = QPushButton("Pause")
        self.tasks, self.projects = TasksTab(), ProjectsTab(controller)
        self.preferences, self.statistics, self.log = PreferencesTab(controller), StatisticsTab(), LogTab()
        self.tabs = QTabWidget()
        for widget, title in ((self.tasks, "Tasks"), (self.projects, "Projects"),
                              (self.preferences, "Preferences"), (self.statistics, "Statistics"),
                              (self.log, "Log")):
            self.tabs.addTab(widget, title)
        top = QHBoxLayout()
        top.addWidget(self.state_icon)
        top.addWidget(self.status, 1)
        top.addWidget(self.pause_button)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addLayout(top)
        layout.addWidget(self.tabs)
        self.setCentralWidget(body)
        self.resize(820, 560)
        self.state = "offline"

        self.pause_button.clicked.connect(self._toggle_pause)
        controller.snapshot_changed.connect(self.update_from)
        controller.log_lines.connect(self.log.append)

    def _toggle_pause(self) -> None:
        (self.controller.resume if self.state == "paused" else self.controller.pause)()

    def update_from(self, snap: Snapshot) -> None:
        self.state = snap.state
        self.status.setText(snap.status)
        self.state_icon.setPixmap(icons.state_icon(snap.state).pixmap(20, 20))
        self.pause_button.setText("Resume" if snap.state == "paused" else "Pause")
        self.pause_button.setEnabled(snap.state != "offline" or bool(snap.tasks))
        for tab in (self.tasks, self.projects, self.statistics):
            tab.update_from(snap)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.hide_on_close:
            event.ignore()
            self.hide()
        else:
            event.accept()
