"""The tray icon and its menu: status line, Pause/Resume, Snooze 1 hour, Open
manager, Quit. The menu exists even where the desktop has no system tray (the
manager window is the UI then), so nothing depends on a tray being there."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from client.agent.status import Snapshot
from client.gui import icons
from client.gui.controller import AgentController


class Tray(QObject):
    open_manager = Signal()
    quit_requested = Signal()

    def __init__(self, controller: AgentController) -> None:
        super().__init__()
        self.controller = controller
        self.menu = QMenu()
        self.status_action = QAction("starting…", self.menu)
        self.status_action.setEnabled(False)
        self.pause_action = QAction("Pause", self.menu)
        self.snooze_action = QAction("Snooze 1 hour", self.menu)
        self.open_action = QAction("Open manager", self.menu)
        self.quit_action = QAction("Quit", self.menu)
        for a in (self.status_action, None, self.pause_action, self.snooze_action, None, self.open_action,
                  self.quit_action):
            self.menu.addSeparator() if a is None else self.menu.addAction(a)
        self.pause_action.triggered.connect(self._toggle_pause)
        self.snooze_action.triggered.connect(lambda: controller.snooze(3600))
        self.open_action.triggered.connect(self.open_manager)
        self.quit_action.triggered.connect(self.quit_requested)
        self.state = "offline"
        self.icon = QSystemTrayIcon(icons.state_icon(self.state))
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        controller.snapshot_changed.connect(self.update_from)

    @staticmethod
    def available() -> bool:
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> bool:
        """Shows the icon where a tray exists; False where it does not."""
        if not self.available():
            return False
        self.icon.show()
        return True

    def _toggle_pause(self) -> None:
        if self.state == "paused":
            self.controller.resume()
        else:
            self.controller.pause()

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.open_manager.emit()

    def update_from(self, snap: Snapshot) -> None:
        self.state = snap.state
        self.status_action.setText(snap.status[:80])
        self.pause_action.setText("Resume" if snap.state == "paused" else "Pause")
        self.icon.setIcon(icons.state_icon(snap.state))
        self.icon.setToolTip(f"Newral: {snap.status}")
