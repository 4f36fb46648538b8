"""Log: recent events and errors in plain words."""

from __future__ import annotations

from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget


class LogTab(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(2000)
        QVBoxLayout(self).addWidget(self.view)

    def append(self, lines: list[tuple[str, str]]) -> None:
        for level, text in lines:
            prefix = "" if level in ("INFO", "DEBUG") else f"{level.lower()}: "
            self.view.appendPlainText(prefix + text)

    def text(self) -> str:
        return self.view.toPlainText()
