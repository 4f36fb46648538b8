"""First run: coordinator, enrolment token and the basic limits, in one short dialog."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
)

from client.agent.preferences import Preferences


class SetupDialog(QDialog):
    def __init__(self, prefs: Preferences, coordinator: str = "") -> None:
        super().__init__()
        self.setWindowTitle("Welcome to Newral")
        self.prefs = prefs
        self.url = QLineEdit(coordinator)
        self.url.setPlaceholderText("https://coordinator.example:8470")
        self.token = QLineEdit()
        self.token.setPlaceholderText("the enrolment token the project gave you")
        self.cpu = QSpinBox()
        self.cpu.setRange(1, 100)
        self.cpu.setSuffix(" %")
        self.cpu.setValue(prefs.in_use.cpu_percent)
        self.cores = QSpinBox()
        self.cores.setRange(0, 1024)
        self.cores.setSpecialValueText("all allowed")
        self.cores.setValue(prefs.in_use.cores)
        self.battery = QCheckBox("Pause on battery")
        self.battery.setChecked(prefs.pause_on_battery)
        self.only_idle = QCheckBox("Only work when the computer is idle")
        self.only_idle.setChecked(prefs.only_when_idle)
        form = QFormLayout()
        form.addRow("Coordinator URL", self.url)
        form.addRow("Enrolment token", self.token)
        form.addRow("CPU while you use the computer", self.cpu)
        form.addRow("Cores while you use the computer", self.cores)
        form.addRow(self.battery)
        form.addRow(self.only_idle)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Lend your computer's spare time to science. Everything can be changed later "
                                "in the manager's Preferences."))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def chosen_preferences(self) -> Preferences:
        return replace(self.prefs, in_use=replace(self.prefs.in_use, cpu_percent=self.cpu.value(),
                                                  cores=self.cores.value()),
                       pause_on_battery=self.battery.isChecked(), only_when_idle=self.only_idle.isChecked())
