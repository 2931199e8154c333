"""``python -m analytics ...``: the same as the ``analytics`` command."""
from analytics.cli import main

main()
