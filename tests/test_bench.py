"""The benchmark harness (`make bench`) end to end in quick mode, on a tiny data set in the test
database: every section runs, the load test answers without errors, and the JSON has the shape
bench/README.md documents, and the Markdown results file is written from it. Timings are not
asserted here; the benchmark table shows them."""

import json

import pytest
from django.conf import settings
from django.db import connection

from bench import compare, harness, results_table
from bench.config import Config
from registers import demo
from registers.authorities import AUTHORITIES
from registers.models import IntegrationAuthority

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def job_waits():
    """The waits `make bench` gets as a management command (DSR_DB_LONG_WAITS): its national build
    keeps a transaction open through the disclosure audit, longer than a request may."""
    options = connection.settings_dict["OPTIONS"]
    saved = options["options"]
    job = settings.DSR_DB_JOB_STATEMENT_TIMEOUT_MS
    options["options"] = (
        f"{saved} -c statement_timeout={job} -c idle_in_transaction_session_timeout={job}"
    )
    connection.close()
    yield
    connection.close()
    options["options"] = saved


def test_the_benchmark_harness_runs_every_section_and_writes_its_json(tmp_path, job_waits):
    # An earlier transactional test may have flushed the authorities the migrations created.
    for code, name, _weight in AUTHORITIES:
        IntegrationAuthority.objects.get_or_create(code=code, defaults={"name": name})
    demo.seed(scale=0.1)
    config = Config.quick_mode()
    config.results_dir = tmp_path
    config.load_seconds = 3

    results = harness.run(config, log=lambda *_: None)

    written = json.loads(next(tmp_path.glob("bench-quick-*.json")).read_text())
    assert set(written) == {"meta", "dataset", "pages", "api", "reporting", "load", "targets"}
    assert str(tmp_path) not in json.dumps(written), "results record no machine paths"
    assert written["dataset"]["people"] == results["dataset"]["people"] > 0
    assert written["dataset"]["status_changes_per_person"] >= 5
    names = {(page["name"], page["who"].split()[0]) for page in written["pages"]}
    for role in ("lead", "practitioner"):
        for page in ("register list, first page", "register list, search", "person page"):
            assert (page, role) in names
    for page in written["pages"]:
        assert page["requests"] == config.requests
        assert page["p95_ms"] >= page["median_ms"] > 0
        assert page["bare_sql_ms"] > 0, page.get("bare_sql_error")
        # Constant, small query counts on every page whatever the data (no N+1).
        assert 0 < page["queries"] <= 25, page
    assert {e["name"].split(",")[0] for e in written["api"]["endpoints"]} >= {
        "API: list",
        "API: retrieve",
        "API: update with If-Match",
        "API: bulk upsert of 500",
    }
    walls = {wall["name"].split(" (")[0]: wall for wall in written["reporting"]}
    assert walls["census snapshot"]["people"] > 0
    assert walls["authority quarterly summary PDF"]["pages"] >= 1
    assert walls["person profile PDF"]["pages"] == 1
    # The national PDF is timed on its own too (it has a goal of its own), and the files' line is
    # the CSV's and the PDF's sum.
    assert walls["national PDF"]["pages"] >= 1
    assert walls["national return files"]["ms"] == pytest.approx(
        walls["national CSV"]["ms"] + walls["national PDF"]["ms"], abs=0.2
    )
    assert written["load"]["requests"] > 0
    assert written["load"]["failures"] == written["load"]["server_errors"] == 0
    # The stack's ceiling, measured in the same run, and the mix as a share of it.
    assert written["load"]["ceiling_rps"] > 0
    assert written["load"]["share_of_ceiling"] == pytest.approx(
        written["load"]["rps"] / written["load"]["ceiling_rps"], abs=0.001
    )
    assert all(
        {"row", "metric", "value", "target", "pass"} <= set(row) for row in written["targets"]
    )
    assert "register list, first page" in harness.render(results)
    markdown = results_table.write(results, tmp_path / "RESULTS.md", source="run.json").read_text()
    assert markdown.startswith("# Benchmark results")
    assert "| register list, first page | lead |" in markdown
    assert "| API: retrieve | API client |" in markdown
    assert "| national return, all " in markdown


def test_the_comparison_judges_each_goal_against_the_reference_run_or_the_bare_sql(tmp_path):
    def run(
        *, dashboard, person, api, bulk_items, bulk_ratio, snapshot, national, pdf, rps, p95, errors
    ):
        return {
            "meta": {"commit": "abc1234", "started_at": "2026-11-29T15:00:00+00:00"},
            "dataset": {"people": 149_500, "history_entries": 1_741_463},
            "pages": [
                {
                    "name": "dashboard",
                    "who": "lead (Glasgow City)",
                    "p95_ms": dashboard,
                    "overhead_ratio": 1.0,
                },
                {
                    "name": "person page",
                    "who": "lead (Glasgow City)",
                    "p95_ms": 30.0,
                    "overhead_ratio": person,
                },
                {
                    "name": "person page",
                    "who": "practitioner (Glasgow City)",
                    "p95_ms": 30.0,
                    "overhead_ratio": person,
                },
            ],
            "api": {
                "endpoints": [
                    {
                        "name": "API: retrieve",
                        "who": "API client",
                        "p95_ms": 9.0,
                        "overhead_ratio": api,
                    },
                    {
                        "name": "API: update with If-Match",
                        "who": "API client",
                        "p95_ms": 9.0,
                        "overhead_ratio": api,
                    },
                    {
                        "name": "API: bulk upsert of 500",
                        "who": "API client",
                        "p95_ms": 300.0,
                        "overhead_ratio": bulk_ratio,
                        "items_per_second": bulk_items,
                    },
                ]
            },
            "reporting": [
                {"name": "census snapshot (Glasgow City)", "ms": snapshot, "queries": 9},
                {
                    "name": "national return, all 31 authorities (total)",
                    "ms": national,
                    "queries": 900,
                },
                {"name": "national PDF", "ms": pdf, "queries": 40},
            ],
            "load": {"rps": rps, "p95_ms": p95, "failures": errors, "server_errors": 0},
        }

    before = run(
        dashboard=400.0,
        person=6.0,
        api=4.3,
        bulk_items=300.0,
        bulk_ratio=16.0,
        snapshot=1600.0,
        national=20_000.0,
        pdf=5000.0,
        rps=40.0,
        p95=2000.0,
        errors=0,
    )
    met = run(
        dashboard=40.0,
        person=2.5,
        api=2.5,
        bulk_items=1500.0,
        bulk_ratio=4.0,
        snapshot=500.0,
        national=7000.0,
        pdf=1500.0,
        rps=90.0,
        p95=900.0,
        errors=0,
    )
    missed = run(
        dashboard=100.0,
        person=3.5,
        api=3.2,
        bulk_items=1000.0,
        bulk_ratio=6.0,
        snapshot=700.0,
        national=9000.0,
        pdf=2500.0,
        rps=70.0,
        p95=1100.0,
        errors=2,
    )

    assert all(row["pass"] for row in compare.judge(before, met))
    verdicts = {(row["what"], row["unit"]): row["pass"] for row in compare.judge(before, missed)}
    assert not any(verdicts.values()), verdicts
    assert len(verdicts) == len(compare.GOALS)
    out = tmp_path / "COMPARISON.md"
    before_file, after_file = tmp_path / "before.json", tmp_path / "after.json"
    before_file.write_text(json.dumps(before))
    after_file.write_text(json.dumps(met))
    assert compare.main([str(before_file), str(after_file), "--out", str(out)]) == 0
    page = out.read_text()
    assert "| lead's dashboard | p95 ms | 400.0 | 40.0 | 0.10 | <= 0.2x | pass |" in page
    assert "**MISS**" not in page
