"""Preferences: every limit the agent enforces, saved to the per-user agent.toml
that the headless agent reads too."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from client.agent.config import ConfigError
from client.agent.preferences import WEEKDAYS, Preferences, UsageLimits
from client.gui.controller import AgentController


def spin(low: int, high: int, suffix: str = "", special: str = "") -> QSpinBox:
    s = QSpinBox()
    s.setRange(low, high)
    s.setSuffix(suffix)
    if special:
        s.setSpecialValueText(special)  # shown for the minimum, e.g. "off" for 0
    return s


class _ModeBox(QGroupBox):
    """Cores, CPU % and memory % for one mode (in use, or idle)."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.cores = spin(0, 1024, special="all allowed")
        self.cpu = spin(1, 100, " %")
        self.memory = spin(1, 100, " %")
        form = QFormLayout(self)
        form.addRow("Cores", self.cores)
        form.addRow("CPU time per task", self.cpu)
        form.addRow("Memory for tasks", self.memory)

    def load(self, limits: UsageLimits) -> None:
        self.cores.setValue(limits.cores)
        self.cpu.setValue(limits.cpu_percent)
        self.memory.setValue(limits.memory_percent)

    def read(self) -> UsageLimits:
        return UsageLimits(self.cores.value(), self.cpu.value(), self.memory.value())


class PreferencesTab(QWidget):
    def __init__(self, controller: AgentController) -> None:
        super().__init__()
        self.controller = controller
        self.in_use, self.idle = _ModeBox("While the computer is in use"), _ModeBox("While it is idle")
        self.idle_after = spin(1, 600, " min")
        self.only_idle = QCheckBox("Only work when the computer is idle")
        self.idle_note = QLabel()
        self.idle_note.setWordWrap(True)
        self.on_battery = QCheckBox("Pause on battery")
        self.min_battery = spin(0, 100, " %", "no threshold")
        self.programs = QLineEdit()
        self.programs.setPlaceholderText("e.g. steam, zoom, obs")
        self.other_cpu = spin(0, 100, " %", "off")
        self.disk = spin(0, 10_000_000, " MB", "no cap")
        self.network = spin(0, 10_000_000, " MB/day", "unlimited")
        self.task_memory = spin(64, 1_000_000, " MB")
        self.schedule = {d: QLineEdit() for d in WEEKDAYS}
        self.message = QLabel()
        self.save_button = QPushButton("Save")
        self.revert_button = QPushButton("Revert")

        general = QGroupBox("When to work")
        form = QFormLayout(general)
        form.addRow(self.only_idle)
        form.addRow("Idle after no input for", self.idle_after)
        form.addRow(self.idle_note)
        form.addRow(self.on_battery)
        form.addRow("Pause below battery charge", self.min_battery)
        form.addRow("Pause while these programs run", self.programs)
        form.addRow("Pause while other programs use more CPU than", self.other_cpu)
        resources = QGroupBox("Disk, network and memory")
        rform = QFormLayout(resources)
        rform.addRow("Data folder cap", self.disk)
        rform.addRow("Network quota (up + down)", self.network)
        rform.addRow("Memory per task", self.task_memory)
        hours = QGroupBox("Allowed hours (HH:MM-HH:MM; leave every day empty to allow any time)")
        grid = QGridLayout(hours)
        for i, (day, edit) in enumerate(self.schedule.items()):
            edit.setPlaceholderText("08:00-18:00")
            grid.addWidget(QLabel(day.capitalize()), i // 4, (i % 4) * 2)
            grid.addWidget(edit, i // 4, (i % 4) * 2 + 1)
        modes = QHBoxLayout()
        modes.addWidget(self.in_use)
        modes.addWidget(self.idle)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.message, 1)

        body = QWidget()
        inner = QVBoxLayout(body)
        for part in (modes, general, resources, hours):
            inner.addLayout(part) if isinstance(part, QHBoxLayout) else inner.addWidget(part)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addLayout(buttons)

        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(lambda: self.load(controller.prefs))
        controller.preferences_changed.connect(self.load)
        self.load(controller.prefs)
        self.set_idle_method(controller.probes.idle_method)

    def set_idle_method(self, method: str) -> None:
        if "unavailable" in method:
            self.idle_note.setText("Idle detection is unavailable on this desktop: the in-use limits "
                                   "always apply, and 'only when idle' would keep work paused.")
            self.idle_note.setStyleSheet("color: #b9770e")
        else:
            self.idle_note.setText(f"Idle time from {method}.")

    def load(self, p: Preferences) -> None:
        self.in_use.load(p.in_use)
        self.idle.load(p.idle)
        self.idle_after.setValue(max(1, round(p.idle_after_minutes)))
        self.only_idle.setChecked(p.only_when_idle)
        self.on_battery.setChecked(p.pause_on_battery)
        self.min_battery.setValue(p.min_battery_percent)
        self.programs.setText(", ".join(p.exclusive_programs))
        self.other_cpu.setValue(p.other_cpu_percent)
        self.disk.setValue(p.disk_cap_mb)
        self.network.setValue(p.daily_network_mb)
        self.task_memory.setValue(p.task_memory_mb)
        hours = dict(p.schedule)
        for day, edit in self.schedule.items():
            edit.setText(hours.get(day, ""))

    def read(self) -> Preferences:
        return replace(
            self.controller.prefs, in_use=self.in_use.read(), idle=self.idle.read(),
            idle_after_minutes=float(self.idle_after.value()), only_when_idle=self.only_idle.isChecked(),
            pause_on_battery=self.on_battery.isChecked(), min_battery_percent=self.min_battery.value(),
            exclusive_programs=tuple(x.strip() for x in self.programs.text().split(",") if x.strip()),
            other_cpu_percent=self.other_cpu.value(), disk_cap_mb=self.disk.value(),
            daily_network_mb=self.network.value(), task_memory_mb=self.task_memory.value(),
            schedule=tuple((d, e.text().strip()) for d, e in self.schedule.items() if e.text().strip()))

    def save(self) -> bool:
        try:
            self.controller.save_preferences(self.read())
        except ConfigError as exc:
            self.message.setStyleSheet("color: #c0392b")
            self.message.setText(str(exc))
            return False
        self.message.setStyleSheet("")
        self.message.setText("Saved.")
        return True
