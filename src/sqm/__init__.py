"""SQM — service-quality management for telecom operators and their retail chains.

The package follows the layers of ``DESIGN.md``: ``domain`` (vocabulary),
``methods`` (pure numerics), ``store`` (persistence), ``ingest`` (importers),
``services`` (use cases), ``web`` and ``cli`` (interfaces).
"""

__version__ = "0.1.0"
