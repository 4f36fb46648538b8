"""A small line chart of recent CPU use by our tasks (percent of the machine)."""

from __future__ import annotations

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QWidget


class CpuChart(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.values: tuple[float, ...] = ()
        self.setMinimumSize(320, 110)

    def set_values(self, values: tuple[float, ...]) -> None:
        self.values = values
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = self.rect().adjusted(30, 6, -6, -16)
        p.fillRect(self.rect(), QColor("#fbfcfd"))
        p.setPen(QPen(QColor("#d0d7de"), 1))
        for pct in (0, 50, 100):
            y = r.bottom() - r.height() * pct / 100
            p.drawLine(r.left(), int(y), r.right(), int(y))
            p.drawText(2, int(y) + 4, f"{pct}%")
        p.drawText(r.left(), self.height() - 2, "recent CPU use by tasks (1 point per second)")
        if len(self.values) >= 2:
            n = len(self.values)
            pts = QPolygonF([QPointF(r.left() + r.width() * i / (n - 1),
                                     r.bottom() - r.height() * min(max(v, 0.0), 100.0) / 100)
                             for i, v in enumerate(self.values)])
            p.setPen(QPen(QColor("#2e9e4f"), 2, Qt.PenStyle.SolidLine))
            p.drawPolyline(pts)
        p.end()
