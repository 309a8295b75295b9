"""Network importers: row-level errors, all-or-nothing appends, the two public data sets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sqm.ingest.network import (
    MeasurementDataset,
    NetworkIngestError,
    read_active_tests,
    read_cell_inventory,
    read_cn_crowd,
    read_counter_file,
    read_ucc_5g,
    read_ucc_5g_file,
    read_voice_calls,
    repair_gbk_mojibake,
    ucc_to_active_tests,
)
from sqm.services.network.kpi import DuckDbKpiEngine, Grain, Level

from .conftest import shared_data

DATA = Path(__file__).parent / "data"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


COUNTERS_OK = (
    "cell_id,ts,rrc_att,rrc_succ,ho_att,ho_succ\n"
    "C1,2026-01-05 10:00,100,99,10,10\n"
    "C2,2026-01-05 10:00,50,50,,\n"
    "C1,2026-01-06 10:00,80,70,5,4\n"
)


def test_counter_file_reads_and_keeps_not_reported_as_missing(tmp_path: Path) -> None:
    df = read_counter_file(_write(tmp_path, "pm.csv", COUNTERS_OK))
    assert df["rrc_att"].tolist() == [100, 50, 80]
    assert df["ho_att"].isna().tolist() == [False, True, False]
    assert (df["period_s"] == 900).all()


@pytest.mark.parametrize(
    ("line", "field", "bad_row", "rule"),
    [
        (3, "rrc_att", "C2,2026-01-05 10:00,abc,50,1,1", "not a number"),
        (3, "rrc_succ", "C2,2026-01-05 10:00,50,51,1,1", "exceeds rrc_att"),
        (3, "rrc_att", "C2,2026-01-05 10:00,-5,0,1,1", "at least 0"),
        (3, "rrc_att", "C2,2026-01-05 10:00,2.5,1,1,1", "whole number"),
        (3, "ts", "C2,yesterday,5,1,1,1", "not a timestamp"),
        (3, "ts", "C1,2026-01-05 10:00,5,1,1,1", "second row"),
    ],
)
def test_counter_file_errors_name_line_and_field(
    tmp_path: Path, line: int, field: str, bad_row: str, rule: str
) -> None:
    text = "cell_id,ts,rrc_att,rrc_succ,ho_att,ho_succ\nC1,2026-01-05 10:00,100,99,10,10\n"
    p = _write(tmp_path, "bad.csv", text + bad_row + "\n")
    with pytest.raises(NetworkIngestError, match=rule) as err:
        read_counter_file(p)
    assert (err.value.line, err.value.field) == (line, field)


def test_vendor_names_map_to_canonical_counters(tmp_path: Path) -> None:
    p = _write(
        tmp_path, "v.csv", "CELL,START,RRC.ConnEstabAtt,RRC.ConnEstabSucc\nX,2026-01-05 10:15,7,7\n"
    )
    df = read_counter_file(
        p,
        column_map={
            "CELL": "cell_id",
            "START": "ts",
            "RRC.ConnEstabAtt": "rrc_att",
            "RRC.ConnEstabSucc": "rrc_succ",
        },
    )
    assert df[["rrc_att", "rrc_succ"]].iloc[0].tolist() == [7, 7]


def test_append_partitions_by_day_and_a_retry_does_not_double(tmp_path: Path) -> None:
    ds = MeasurementDataset(tmp_path / "counters")
    src = _write(tmp_path, "pm.csv", COUNTERS_OK)
    first = ds.append_file(src)
    assert first.days == ("2026-01-05", "2026-01-06") and not first.repeat
    again = ds.append_file(src)
    assert again.repeat
    more = _write(tmp_path, "pm2.csv", "cell_id,ts,rrc_att,rrc_succ\nC1,2026-01-07 10:00,10,10\n")
    ds.append_file(more)
    parts = sorted(p.parent.name for p in (tmp_path / "counters").rglob("*.parquet"))
    assert parts == ["day=2026-01-05", "day=2026-01-06", "day=2026-01-07"]
    got = DuckDbKpiEngine(tmp_path / "counters").kpis(["rrc_setup_sr"], Level.NETWORK, Grain.MONTH)
    assert got["rrc_setup_sr__den"].iloc[0] == 100 + 50 + 80 + 10  # retry not counted twice
    # Daily values from the day partitions equal those from the rows' own timestamps.
    daily = DuckDbKpiEngine(tmp_path / "counters").kpis(["rrc_setup_sr"], Level.CELL, Grain.DAY)
    frame = pd.concat([read_counter_file(src), read_counter_file(more)])
    want = DuckDbKpiEngine(frame).kpis(["rrc_setup_sr"], Level.CELL, Grain.DAY)
    assert daily[["unit", "period", "rrc_setup_sr__den"]].values.tolist() == (
        want[["unit", "period", "rrc_setup_sr__den"]].values.tolist()
    )


def test_bad_file_leaves_the_dataset_untouched(tmp_path: Path) -> None:
    ds = MeasurementDataset(tmp_path / "counters")
    ds.append_file(_write(tmp_path, "ok.csv", COUNTERS_OK))
    before = sorted(str(p) for p in (tmp_path / "counters").rglob("*"))
    bad = _write(tmp_path, "bad.csv", COUNTERS_OK + "C9,2026-01-08 10:00,5,9,1,1\n")
    with pytest.raises(NetworkIngestError, match="line 5"):
        ds.append_file(bad)
    assert sorted(str(p) for p in (tmp_path / "counters").rglob("*")) == before


def test_inventory_rules(tmp_path: Path) -> None:
    head = "cell_id,site_id,district,city,province,tech,band,lat,lon\n"
    ok = head + "C1,S1,Tianhe,Guangzhou,Guangdong,5G,n78,23.1,113.3\n"
    assert read_cell_inventory(_write(tmp_path, "i.csv", ok))["band"].tolist() == ["n78"]
    for row, field in [
        ("C1,S2,Tianhe,Guangzhou,Guangdong,4G,B3,23.1,113.3", "cell_id"),
        ("C2,S2,Tianhe,Guangzhou,Guangdong,6G,B3,23.1,113.3", "tech"),
        ("C2,S2,Tianhe,Guangzhou,Guangdong,4G,B3,95,113.3", "lat"),
    ]:
        with pytest.raises(NetworkIngestError) as err:
            read_cell_inventory(_write(tmp_path, "i.csv", ok + row + "\n"))
        assert (err.value.line, err.value.field) == (3, field)


def test_active_tests_and_voice_calls(tmp_path: Path) -> None:
    t = read_active_tests(
        _write(
            tmp_path,
            "t.csv",
            "test_id,ts,service,access_ok,setup_time_s,dropped\n"
            "1,2026-01-05 10:00,voice,1,2.5,0\n2,2026-01-05 10:01,VOICE,0,,\n",
        )
    )
    assert t["service"].tolist() == ["voice", "voice"]
    with pytest.raises(NetworkIngestError, match="needs access_ok") as err:
        read_active_tests(
            _write(
                tmp_path,
                "t2.csv",
                "test_id,ts,service,access_ok,setup_time_s\n1,2026-01-05,voice,0,3\n",
            )
        )
    assert err.value.line == 2
    calls = read_voice_calls(
        _write(
            tmp_path,
            "c.csv",
            "call_id,ts,codec,packet_loss_pct,one_way_delay_ms,burst_ratio\n"
            "a,2026-01-05 10:00,G.711+PLC,1.0,80,\nb,2026-01-05 10:00,G.729A+VAD,0,150,2\n",
        )
    )
    assert calls["bpl"].tolist() == [25.1, 19.0] and calls["burst_ratio"].tolist() == [1.0, 2.0]
    with pytest.raises(NetworkIngestError, match=r"no G\.113") as err:
        read_voice_calls(
            _write(
                tmp_path,
                "c2.csv",
                "call_id,ts,codec,packet_loss_pct,one_way_delay_ms\na,2026-01-05,G.729,1,80\n",
            )
        )
    assert err.value.field == "codec"


UCC_HEADER = (
    "Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,RSRQ,SNR,CQI,RSSI,"
    "DL_bitrate,UL_bitrate,State,PINGAVG,PINGMIN,PINGMAX,PINGSTDEV,PINGLOSS,CELLHEX,NODEHEX,"
    "LACHEX,RAWCELLID,NRxRSRP,NRxRSRQ\n"
)
# Rows in the trace format: repeated seconds, `-` for missing values, V/VD states, a ping.
UCC_ROWS = (
    "2020.02.13_15.02.07,-8.39,51.88,0,B,11,5G,-96,-18,-7.0,11,-107,0,0,D,72.0,71.0,73.0,1.0,20.0,B,A4DF,9CBA,1,-93.0,-17.0\n"
    "2020.02.13_15.02.07,-8.39,51.88,0,B,11,5G,-96,-,-,11,-,40000,10,D,-,-,-,-,-,B,A4DF,9CBA,1,-93.0,-17.0\n"
    "2020.02.13_15.02.08,-8.39,51.88,0,B,11,5G,-96,-18,2.0,11,-107,20000,10,D,-,-,-,-,-,B,A4DF,9CBA,1,-,-\n"
    "2020.02.13_15.54.22,-8.38,51.93,38,B,10505,HSUPA,-73,-,-,-,-,0,0,V,-,-,-,-,-,2909,12D,75AA,2,-51.0,-\n"
    "2020.02.13_15.54.24,-8.38,51.93,38,B,10505,HSPA+,-67,-,-,-,-,0,1,VD,-,-,-,-,-,2909,12D,75AA,2,-51.0,-\n"
)


def test_ucc_trace_quirks(tmp_path: Path) -> None:
    d = tmp_path / "Download" / "Driving"
    d.mkdir(parents=True)
    p = _write(d, "B_2020.02.13_15.02.01.csv", UCC_HEADER + UCC_ROWS)
    df = read_ucc_5g_file(p)
    assert df["seq"].tolist() == [0, 1, 0, 0, 0]  # the repeated second is kept, numbered
    assert df["rsrq_db"].isna().tolist() == [False, True, False, True, True]
    assert df["state"].tolist() == ["D", "D", "D", "V", "VD"]
    assert (df["scenario"] == "Download").all() and (df["mobility"] == "Driving").all()
    tests = ucc_to_active_tests(df)
    assert tests["service"].value_counts().to_dict() == {"drive_dl": 3, "ping": 1}
    ping = tests[tests["service"] == "ping"].iloc[0]
    assert (ping["ping_sent"], ping["ping_ok"], ping["rtt_ms"]) == (5, 4, 72.0)  # 20 % loss
    # Mean data rate over the three download samples: (0 + 40 000 + 20 000) / 3 kbit/s.
    kpi = DuckDbKpiEngine(tests).kpis(["mean_data_rate"], Level.NETWORK, Grain.DAY)
    assert kpi["mean_data_rate__num"].iloc[0] / kpi["mean_data_rate__den"].iloc[0] / 1000 == 20000


def test_ucc_bad_state_is_named(tmp_path: Path) -> None:
    p = _write(tmp_path, "B_x.csv", UCC_HEADER + UCC_ROWS.replace(",VD,", ",XX,"))
    with pytest.raises(NetworkIngestError) as err:
        read_ucc_5g_file(p)
    assert (err.value.line, err.value.field) == (6, "State")


def test_cn_crowd_excerpt_quirks() -> None:
    df = read_cn_crowd(DATA / "cn_crowd_4g_excerpt.csv")
    assert len(df) == 129
    assert "未知" in set(df["isp"]) and "δ֪" not in set(df["isp"])
    first = df.iloc[0]
    # "-84;-84" → median −84 from 2 readings; 2147483647 bandwidth → missing.
    assert first["cell_rsrp"] == -84 and first["cell_rsrp_n"] == 2
    assert pd.isna(first["cell_bandwidth"])
    # line 101 has "Added in API level Q" for RSSI: missing, not an error.
    assert pd.isna(df.iloc[99]["cell_rssi"])
    five = read_cn_crowd(DATA / "cn_crowd_5g_excerpt.csv")
    assert (five["isp"] == "未知").sum() == 2
    assert pd.isna(five.iloc[0]["cell_csiSinr"])  # 2147483647 in the file


def test_cn_crowd_bad_series_value_is_named(tmp_path: Path) -> None:
    lines = (DATA / "cn_crowd_4g_excerpt.csv").read_text(encoding="utf-8").splitlines()
    assert "-92;-92;-92" in lines[2]
    lines[2] = lines[2].replace("-92;-92;-92", "-92;x;-92", 1)
    p = _write(tmp_path, "c.csv", "\n".join(lines) + "\n")
    with pytest.raises(NetworkIngestError, match="'x'") as err:
        read_cn_crowd(p)
    assert err.value.line == 3


def test_mojibake_repair_only_touches_gbk_read_as_utf8() -> None:
    assert repair_gbk_mojibake("δ֪") == "未知"
    assert repair_gbk_mojibake("中国移动") == "中国移动"
    assert repair_gbk_mojibake("Zürich") == "Zürich"


@pytest.mark.slow
def test_public_sets_load_whole_and_match_their_readme_figures() -> None:
    root = shared_data() / "network"
    if not root.exists():
        pytest.skip("shared/data/network is not beside the repository")
    ucc = read_ucc_5g(root / "ucc_5g")
    assert len(ucc) == 48_926
    dl = ucc[(ucc["scenario"] == "Download") & (ucc["state"] == "D")]
    med = dl.groupby("tech")["dl_kbps"].median()
    # README sanity figures: median DL 20,043 (5G), 6,767 (LTE), 2,556 (HSPA+) kbit/s.
    assert (
        med["5G"] == pytest.approx(20_043, abs=1) and med["LTE"] == 6_767 and med["HSPA+"] == 2_556
    )
    assert ucc[ucc["scenario"] == "Download"]["ping_avg_ms"].median() == 75
    for name, users, median in (("4G", 4_186, 26.1), ("5G", 4_509, 312.8)):
        crowd = read_cn_crowd(root / "cn_crowd" / f"{name}.csv")
        assert len(crowd) == 10_000 and crowd["user_uid"].nunique() == users
        assert crowd["bandwidth_mbps"].median() == pytest.approx(median, abs=0.06)
