"""Start-up imports only what it uses (issue 20): ``sqm --help`` and every command's
``--help`` load no data library and no layer of SQM below the CLI; building the web app
loads none of the libraries that no page needs to answer its first request.

Checked without timing: a new interpreter does the start-up and reports the modules it
imported (``-X importtime`` for the real ``sqm --help``, ``sys.modules`` otherwise).
The speed itself is measured by ``benchmarks/bench_startup.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

#: Libraries whose import alone costs from a tenth of a second to seconds; only the
#: commands, pages and services that use them import them.
HEAVY = (
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "sklearn",
    "openpyxl",
    "pyreadstat",
    "duckdb",
    "pyarrow",
    "ortools",
    "jieba",
    "qrcode",
    "pyspark",
    "matplotlib",
)
#: A ``--help`` needs neither the database nor the web stack nor SQM's lower layers.
NOT_FOR_HELP = (
    *HEAVY,
    "sqlalchemy",
    "fastapi",
    "sqm.store",
    "sqm.services",
    "sqm.ingest",
    "sqm.web",
)


def _run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def _roots(modules: list[str], banned: tuple[str, ...]) -> list[str]:
    return sorted({b for m in modules for b in banned if m == b or m.startswith(b + ".")})


def test_sqm_help_imports_no_heavy_library() -> None:
    # the console script's own entry point, in a new interpreter, as a user starts it
    out = subprocess.run(
        [
            sys.executable,
            "-X",
            "importtime",
            "-c",
            "import sys; from sqm.cli.main import app; sys.argv = ['sqm', '--help']; app(prog_name='sqm')",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "Usage: sqm" in out.stdout
    imported = [
        line.rsplit("|", 1)[1].strip()
        for line in out.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    ]
    assert "typer" in imported  # the report is read right
    assert _roots(imported, NOT_FOR_HELP) == []


def test_every_commands_help_imports_no_heavy_library() -> None:
    report = json.loads(
        _run(
            """
            import json, sys
            seen = set(sys.modules)  # what the interpreter starts with
            import typer.main
            from typer.testing import CliRunner
            from sqm.cli.main import app

            def walk(cmd, path):
                yield path
                for name, sub in sorted(getattr(cmd, "commands", {}).items()):
                    yield from walk(sub, [*path, name])

            runner, out = CliRunner(), {}  # "" (``sqm --help``) also gets the imports above
            for path in walk(typer.main.get_command(app), []):
                res = runner.invoke(app, [*path, "--help"])
                assert res.exit_code == 0, (path, res.output)
                new = sorted(set(sys.modules) - seen)
                seen |= set(new)
                out[" ".join(path)] = new
            print(json.dumps(out))
            """
        )
    )
    # every group and command (the root, db, import, export, survey, complaints, …)
    assert {"", "db upgrade", "survey import", "complaints watch", "network kpis"} <= set(report)
    assert len(report) > 30
    offenders = {cmd: bad for cmd, new in report.items() if (bad := _roots(new, NOT_FOR_HELP))}
    assert offenders == {}
