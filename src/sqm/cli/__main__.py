"""``python -m sqm.cli …`` runs the ``sqm`` command (as the console script does)."""

from sqm.cli.main import app

app(prog_name="sqm")
