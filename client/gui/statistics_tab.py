"""Statistics: tasks done, CPU hours, credit and trust as the coordinator reports
them, a chart of recent CPU use, and what the sandbox protects on this machine."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QGroupBox, QLabel, QVBoxLayout, QWidget

from client.agent.status import Snapshot
from client.gui.cpu_chart import CpuChart

NOT_REPORTED = "not reported by this coordinator"


class StatisticsTab(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.done, self.failed, self.cpu_hours = QLabel("0"), QLabel("0"), QLabel("0.00")
        self.credit, self.trust = QLabel(NOT_REPORTED), QLabel(NOT_REPORTED)
        self.protections, self.idle = QLabel("—"), QLabel("—")
        self.protections.setWordWrap(True)
        self.idle.setWordWrap(True)
        self.chart = CpuChart()
        form = QFormLayout()
        form.addRow("Tasks done", self.done)
        form.addRow("Tasks failed", self.failed)
        form.addRow("CPU hours", self.cpu_hours)
        form.addRow("Credit", self.credit)
        form.addRow("Trust level", self.trust)
        machine = QGroupBox("This machine")
        mform = QFormLayout(machine)
        mform.addRow("Sandbox", self.protections)
        mform.addRow("Idle detection", self.idle)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.chart)
        layout.addWidget(machine)

    def update_from(self, snap: Snapshot) -> None:
        self.done.setText(str(snap.finished))
        self.failed.setText(str(snap.failed))
        self.cpu_hours.setText(f"{snap.cpu_hours:.2f}")
        self.credit.setText(f"{snap.credit:,.1f}" if snap.credit is not None else NOT_REPORTED)
        trust = snap.trust or (f"node {snap.node_status}" if snap.node_status else None)
        self.trust.setText(trust or NOT_REPORTED)
        if snap.protections:
            self.protections.setText("\n".join(snap.protections))
        self.idle.setText(snap.idle_method or "—")
        self.chart.set_values(snap.cpu_history)
