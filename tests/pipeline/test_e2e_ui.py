"""The Prefect UI end to end: a real server, `budget serve`, and a Quick run clicked in Chromium.

Starts `prefect server start` on a free port (its own PREFECT_HOME and SQLite), runs
`budget serve` against it, opens the UI in headless Chromium (Debian's, driven by Playwright),
starts the `solve/adhoc` deployment with Quick run, then checks through the Prefect API that
the flow run completed and through the database that its run row exists, and in the UI that
the run shows its answer: the `solve-answer` artifact (chosen projects, total, budget, status)
on the run's Artifacts tab and the answer line in its log; the Custom run form lists its fields
in order, the source as one button per kind, without a database URL; a benchmark's summary
page renders its embedded plot. The screenshots are kept under $E2E_SHOT_DIR, by default
<tmp>/budget-e2e/, never in the user's data/ (prefect-ui-solve.png,
prefect-ui-solve-artifact.png, prefect-ui-solve-form.png, prefect-ui-solve-form-csv.png,
prefect-ui-benchmark-summary.png). Without Chromium it skips, except under CI=true.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from db.engine import session_scope
from db.migrate import upgrade
from db.models import AlgorithmRun
from flows.names import SOLVE_ADHOC

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ROOT = Path(__file__).resolve().parents[2]
SHOT = (Path(os.environ.get("E2E_SHOT_DIR") or Path(tempfile.gettempdir()) / "budget-e2e")
        / "prefect-ui-solve.png")
ARTIFACT_SHOT = SHOT.with_name("prefect-ui-solve-artifact.png")
BENCH_SHOT = SHOT.with_name("prefect-ui-benchmark-summary.png")
BIN = Path(sys.executable).parent


def _need_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    reason = f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} [CI=true: failing instead of skipping]", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float, what: str, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"{what}: process exited with {p.returncode}")
        try:
            value = check()
            if value:
                return value
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _walk(node):
    """Every key of a JSON document (to look for a field anywhere in a schema)."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _check_custom_run_form(page, port: int, deployment_id: str) -> None:
    """The Custom run form of solve/adhoc lists the fields in FORM_ORDER (the source first),
    the source as one button per kind (the bundled example chosen, so a Quick run needs
    nothing), switching to CSV text shows one text box, the budget is one text input (no
    `str | None` toggle), and there is no database URL or data folder field."""
    page.goto(f"http://127.0.0.1:{port}/deployments/deployment/{deployment_id}/run",
              wait_until="networkidle")
    try:
        page.get_by_text("Model Version (Optional)").first.wait_for(timeout=15_000)
    except Exception:
        page.screenshot(path=str(SHOT.with_name("prefect-ui-form-failure.png")), full_page=True)
        raise
    text = page.inner_text("body")
    labels = ["Source", "Budget", "Algorithm", "Time Limit", "Model Version"]
    where = [text.find(f"{label} (Optional)") for label in labels]  # every field has a default
    assert -1 not in where and where == sorted(where), list(zip(labels, where, strict=True))
    buttons = ["Bundled example", "File", "CSV text", "Stored dataset", "Projects"]
    for name in buttons:
        page.get_by_role("button", name=name, exact=True).first.wait_for(timeout=5_000)
    assert "Which bundled example" in text  # the chosen variant's field
    assert "Path" not in text and "Dataset Id" not in text  # the other variants' are not shown
    assert "None" not in text.split("Budget (Optional)", 1)[1].split("Algorithm", 1)[0]
    assert "Database Url" not in text and "database_url" not in text
    assert "Data Dir" not in text and "data_dir" not in text
    page.screenshot(path=str(SHOT.with_name("prefect-ui-solve-form.png")), full_page=True)
    page.get_by_role("button", name="CSV text", exact=True).first.click()
    page.get_by_text("Needs a budget below").first.wait_for(timeout=5_000)
    assert "Which bundled example" not in page.inner_text("body")
    page.screenshot(path=str(SHOT.with_name("prefect-ui-solve-form-csv.png")), full_page=True)


def _check_benchmark_summary(api: str, port: int, env: dict[str, str]) -> None:
    """Run a small benchmark on the server; its summary page shows the plot and the winners."""
    from playwright.sync_api import sync_playwright

    bench = subprocess.run([str(BIN / "budget"), "benchmark", "--sizes", "6,12", "--per-size",
                            "1", "--families", "uniform", "--algorithms", "dp,greedy",
                            "--no-memory", "--json"], env=env, cwd=ROOT, capture_output=True,
                           text=True, timeout=300)
    assert bench.returncode == 0, bench.stderr[-3000:]
    run_id = json.loads(bench.stdout)["flow_run_id"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        artifacts = httpx.post(f"{api}/artifacts/filter", timeout=5, json={
            "artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
        summary = next(a for a in artifacts if a["key"] == "benchmark-summary")
        page.goto(f"http://127.0.0.1:{port}/artifacts/artifact/{summary['id']}",
                  wait_until="networkidle")
        page.get_by_text("Winner by size").first.wait_for(timeout=15_000)
        image = page.locator("img[src^='data:image/png;base64,']").first
        image.wait_for(timeout=15_000)
        page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=image.element_handle(),
                               timeout=15_000)
        assert image.evaluate("i => i.naturalWidth") >= 600  # the 700 px wide plot, decoded
        page.screenshot(path=str(BENCH_SHOT), full_page=True)
        browser.close()


def test_quick_run_of_solve_from_the_ui_completes_and_is_recorded(tmp_path) -> None:
    """Clicking Quick run on solve/adhoc in the UI runs the flow to Completed, row recorded,
    and the run page shows the answer (artifact and log line); the form has no database URL.
    Then a `budget benchmark` on the same server: its summary artifact page renders the
    embedded plot (a loaded image, not a dead file link) and the winner by size."""
    _need_chromium()
    from playwright.sync_api import sync_playwright

    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    db_url = f"sqlite:///{tmp_path / 'budget.db'}"
    upgrade(db_url, "head")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(tmp_path / "prefect-home"), PREFECT_UI_ENABLED="true",
               PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{tmp_path}/prefect.db",
               PREFECT_API_URL=api, DATABASE_URL=db_url, DATA_DIR=str(tmp_path / "data"))
    logs = tmp_path / "logs"
    logs.mkdir()
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=open(logs / "server.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
        start_new_session=True)
    serve = None
    try:
        _wait(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 90,
              "prefect server", [server])
        serve = subprocess.Popen([str(BIN / "budget"), "serve"], env=env, cwd=ROOT,
                                 stdout=open(logs / "serve.log", "w"),  # noqa: SIM115
                                 stderr=subprocess.STDOUT, start_new_session=True)
        deployment = _wait(
            lambda: (r := httpx.get(f"{api}/deployments/name/{SOLVE_ADHOC}", timeout=2))
            .status_code == 200 and r.json(), 60, "the solve/adhoc deployment", [serve])
        schema = deployment["parameter_openapi_schema"]
        assert not {"database_url", "data_dir"} & set(_walk(schema))  # not UI form fields

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            try:
                page.goto(f"http://127.0.0.1:{port}/deployments", wait_until="networkidle")
                page.locator(f"a[href*='{deployment['id']}']").first.click()
                page.wait_for_url(f"**/deployment/{deployment['id']}**")
                page.get_by_role("button", name="Run", exact=True).first.click()
                page.get_by_text("Quick run").first.click()
            except Exception:
                SHOT.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOT.with_name("prefect-ui-failure.png")))
                raise
            def created() -> list:
                return httpx.post(f"{api}/flow_runs/filter", timeout=5, json={
                    "deployments": {"id": {"any_": [deployment["id"]]}}}).json()

            try:
                flow_run = _wait(created, 25, "the flow run the click created")[0]
            except AssertionError:  # a loaded machine can swallow the menu's first click
                page.screenshot(path=str(SHOT.with_name("prefect-ui-first-click.png")))
                page.keyboard.press("Escape")
                page.get_by_role("button", name="Run", exact=True).first.click()
                page.get_by_text("Quick run").first.click()
                flow_run = _wait(created, 45, "the flow run the second click created")[0]
            final = _wait(lambda: (s := httpx.get(f"{api}/flow_runs/{flow_run['id']}",
                                                  timeout=5).json()["state"]["type"])
                          in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} and s, 90,
                          "the flow run to finish", [serve])
            page.goto(f"http://127.0.0.1:{port}/runs/flow-run/{flow_run['id']}",
                      wait_until="networkidle")
            page.get_by_text("Completed").first.wait_for(timeout=15_000)
            SHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOT), full_page=True)
            artifacts = httpx.post(f"{api}/artifacts/filter", timeout=5, json={
                "artifacts": {"flow_run_id": {"any_": [flow_run["id"]]}}}).json()
            answer = next(a for a in artifacts if a["key"] == "solve-answer")
            chosen = answer["data"] if isinstance(answer["data"], list) \
                else json.loads(answer["data"])
            page.get_by_text("answer: exact").first.wait_for(timeout=15_000)  # the log line
            page.get_by_text("Artifacts", exact=True).first.click()
            page.get_by_text("solve-answer").first.wait_for(timeout=15_000)
            page.get_by_text("projects chosen").first.wait_for(timeout=15_000)
            page.get_by_text("solve-answer").first.click()  # the artifact's own page
            page.get_by_text(chosen[0]["name"], exact=True).first.wait_for(timeout=15_000)
            page.screenshot(path=str(ARTIFACT_SHOT), full_page=True)
            _check_custom_run_form(page, port, deployment["id"])
            browser.close()
        assert answer["type"] == "table" and "exact" in answer["description"]
        assert "1500000.00" in answer["description"]  # the budget, exact
        assert final == "COMPLETED", (logs / "serve.log").read_text()[-3000:]
        with session_scope(db_url) as s:
            rows = s.scalars(select(AlgorithmRun).where(
                AlgorithmRun.flow_run_id == flow_run["id"])).all()
            assert len(rows) == 1 and rows[0].requested_algorithm == "auto"
        _check_benchmark_summary(api, port, env)
    finally:
        if serve is not None:
            _stop(serve)
        _stop(server)
        shutil.copy(logs / "server.log", tmp_path / "server.log.keep")
