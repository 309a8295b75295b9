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


def test_building_the_app_and_its_first_answer_import_no_heavy_library() -> None:
    # create_app imports every router, their services and methods; the first page a
    # visitor sees (the sign-in page) needs no data library, so none may load before it
    report = json.loads(
        _run(
            """
            import asyncio, json, sys
            from sqm.config import Settings
            from sqm.web.app import create_app
            from sqm.web.routes import ROUTER_MODULES

            app = create_app(Settings(database_url="sqlite://"))
            built = sorted(sys.modules)
            sent = []

            async def first_request():
                scope = {
                    "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                    "method": "GET", "scheme": "http", "path": "/login", "raw_path": b"/login",
                    "query_string": b"", "root_path": "", "headers": [(b"host", b"sqm.test")],
                    "client": ("127.0.0.1", 50000), "server": ("sqm.test", 80),
                }

                async def receive():
                    return {"type": "http.request", "body": b"", "more_body": False}

                async def send(message):
                    sent.append(message)

                await app(scope, receive, send)

            asyncio.run(first_request())
            print(json.dumps({
                "routers": [m for m in ROUTER_MODULES if m in sys.modules],
                "built": built,
                "answered": sorted(sys.modules),
                "status": sent[0]["status"],
                "body": b"".join(m.get("body", b"") for m in sent[1:]).decode()[:2000],
            }))
            """
        )
    )
    # the report is read right: every router was imported and the page was rendered
    assert len(report["routers"]) > 20
    assert report["status"] == 200 and "csrf_token" in report["body"]
    heaviest = tuple(m for m in HEAVY if m != "numpy")  # numpy types a few rules' arrays
    assert _roots(report["built"], heaviest) == []
    assert _roots(report["answered"], heaviest) == []


def test_a_library_imported_on_first_use_is_then_the_module_itself() -> None:
    # after its first use the name is the library, as after a plain import: no cost per
    # use, and patching the library (as the methods' tests do) reaches the code using it
    import scipy.linalg

    from sqm.methods import reliability

    assert reliability.linalg.inv is scipy.linalg.inv
    assert reliability.linalg is scipy.linalg
