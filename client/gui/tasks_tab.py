"""Tasks: project, progress, elapsed and estimated time, CPU use, state."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from client.agent.status import Snapshot

COLUMNS = ("Project", "Task", "Progress", "Elapsed", "Estimated", "CPU", "State")


def hms(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class TasksTab(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.empty = QLabel("No tasks running.")
        layout = QVBoxLayout(self)
        layout.addWidget(self.empty)
        layout.addWidget(self.table)

    def update_from(self, snap: Snapshot) -> None:
        self.empty.setText("No tasks running." if not snap.tasks else f"{len(snap.tasks)} task(s)")
        self.table.setRowCount(len(snap.tasks))
        for row, t in enumerate(snap.tasks):
            progress = "—" if t.progress is None else f"{t.progress * 100:.0f}%"
            cells = (t.project, f"#{t.result_id} ({t.app})", progress, hms(t.elapsed), hms(t.estimate),
                     f"{t.cpu_percent:.0f}%", t.state)
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
