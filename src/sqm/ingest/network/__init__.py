"""Network data importers: cell inventory, 15-minute counters, active tests, voice calls,
and the two public data sets (UCC 5G drive tests, Chinese crowd speed tests).

Every reader raises :class:`NetworkIngestError` naming file, line and field of the first
bad row; appends to the Parquet datasets are all-or-nothing.
"""

from sqm.ingest.network.active_tests import read_active_tests
from sqm.ingest.network.cn_crowd import read_cn_crowd, repair_gbk_mojibake
from sqm.ingest.network.counters import MeasurementDataset, read_counter_file
from sqm.ingest.network.errors import NetworkIngestError
from sqm.ingest.network.inventory import read_cell_inventory
from sqm.ingest.network.ucc_5g import read_ucc_5g, read_ucc_5g_file, ucc_to_active_tests
from sqm.ingest.network.voice_calls import read_voice_calls

__all__ = [
    "MeasurementDataset",
    "NetworkIngestError",
    "read_active_tests",
    "read_cell_inventory",
    "read_cn_crowd",
    "read_counter_file",
    "read_ucc_5g",
    "read_ucc_5g_file",
    "read_voice_calls",
    "repair_gbk_mojibake",
    "ucc_to_active_tests",
]
