"""`newral-client`: the desktop client. A tray icon where the desktop has a tray,
the manager window otherwise (and on request), the first-run setup dialog when
the client is not attached yet."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QDialog

from client.agent.config import ConfigError, default_data_dir
from client.gui import icons
from client.gui.controller import AgentController
from client.gui.manager_window import ManagerWindow
from client.gui.setup_dialog import SetupDialog
from client.gui.tray import Tray


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="newral-client", description="The Newral desktop client.")
    p.add_argument("--data-dir", type=Path, default=None, help="where the client keeps its files")
    p.add_argument("--show", action="store_true", help="open the manager window at start")
    p.add_argument("--no-keyring", action="store_true", help="keep credentials in a 0600 file")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Newral")
    app.setWindowIcon(icons.app_icon())
    data_dir = args.data_dir or default_data_dir()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        controller = AgentController(data_dir, use_keyring=False if args.no_keyring else None)
    except ConfigError as exc:
        print(f"newral-client: {exc}", file=sys.stderr)
        return 2
    has_tray = Tray.available()
    window = ManagerWindow(controller, hide_on_close=has_tray)
    tray = Tray(controller)
    tray.open_manager.connect(lambda: (window.show(), window.raise_(), window.activateWindow()))
    tray.quit_requested.connect(app.quit)
    app.setQuitOnLastWindowClosed(not has_tray)
    app.aboutToQuit.connect(controller.shutdown)
    tray.show()

    if not controller.is_attached():
        dialog = SetupDialog(controller.prefs, controller.coordinator)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            controller.save_preferences(dialog.chosen_preferences())
            controller.attach(dialog.url.text(), dialog.token.text())
    else:
        controller.start_agent()
    if args.show or not has_tray:
        window.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
