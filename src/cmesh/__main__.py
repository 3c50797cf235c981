"""``python -m cmesh``."""

from cmesh.cli import main

main()
