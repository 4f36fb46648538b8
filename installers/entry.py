"""PyInstaller's entry script for the desktop client: all logic is in client/frozen.py."""

import sys

from client.frozen import main

if __name__ == "__main__":
    sys.exit(main())
