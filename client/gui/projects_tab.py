"""Projects: attach to a coordinator with an enrolment token (optionally pinning
project keys), detach, and opt in or out of each project."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from client.agent.preferences import Preferences
from client.agent.status import Snapshot
from client.gui.controller import AgentController


def parse_keys(text: str) -> dict[str, str]:
    """Lines of 'project = base64 public key'."""
    keys = {}
    for line in text.splitlines():
        if "=" in line.strip("= "):
            name, _, key = line.partition("=")
            keys[name.strip()] = key.strip()
    return keys


class ProjectsTab(QWidget):
    def __init__(self, controller: AgentController) -> None:
        super().__init__()
        self.controller = controller
        self.url = QLineEdit()
        self.url.setPlaceholderText("https://coordinator.example:8470")
        self.token = QLineEdit()
        self.token.setPlaceholderText("nre_…")
        self.keys = QPlainTextEdit()
        self.keys.setPlaceholderText("optional, one per line: project = public key (base64)")
        self.keys.setMaximumHeight(60)
        self.attach_button = QPushButton("Attach")
        self.detach_button = QPushButton("Detach")
        self.current = QLabel()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.projects = QListWidget()

        box = QGroupBox("Attach to a coordinator")
        form = QFormLayout(box)
        form.addRow("Coordinator URL", self.url)
        form.addRow("Enrolment token", self.token)
        form.addRow("Project keys", self.keys)
        buttons = QHBoxLayout()
        buttons.addWidget(self.attach_button)
        buttons.addWidget(self.detach_button)
        buttons.addStretch()
        form.addRow(buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.current)
        layout.addWidget(box)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("Projects (untick to opt out):"))
        layout.addWidget(self.projects)

        self.attach_button.clicked.connect(self._attach)
        self.detach_button.clicked.connect(controller.detach)
        self.projects.itemChanged.connect(self._toggled)
        controller.error.connect(self.show_error)
        controller.attached.connect(self._attached)
        controller.preferences_changed.connect(self.show_projects)
        self.show_projects(controller.prefs)

    def _attach(self) -> None:
        self.message.setText("Attaching…")
        self.controller.attach(self.url.text(), self.token.text(), parse_keys(self.keys.toPlainText()))

    def _attached(self, url: str) -> None:
        self.message.setStyleSheet("")
        self.message.setText(f"Attached to {url}.")
        self.token.clear()

    def show_error(self, text: str) -> None:
        self.message.setStyleSheet("color: #c0392b")
        self.message.setText(text)

    def show_projects(self, prefs: Preferences) -> None:
        self.projects.blockSignals(True)
        self.projects.clear()
        for name, entry in prefs.projects:
            key = f"key {entry.public_key[:10]}… pinned" if entry.public_key else "no key pinned"
            item = QListWidgetItem(f"{name}  ({key})")
            item.setData(Qt.ItemDataRole.UserRole, name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if entry.opted_in else Qt.CheckState.Unchecked)
            self.projects.addItem(item)
        self.projects.blockSignals(False)

    def _toggled(self, item: QListWidgetItem) -> None:
        self.controller.set_opted_in(item.data(Qt.ItemDataRole.UserRole),
                                     item.checkState() == Qt.CheckState.Checked)

    def update_from(self, snap: Snapshot) -> None:
        self.current.setText(f"Coordinator: {snap.coordinator}" if snap.coordinator else "Not attached.")
        self.detach_button.setEnabled(bool(snap.coordinator))
