"""The desktop client: a thin PySide6 layer (tray, manager window) over client.agent."""
