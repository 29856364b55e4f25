"""Big bodies never stall the server: a real uvicorn serving the app (a subprocess on a free
127.0.0.1 port) answers /health within 1 s while four in-limit ~16 MB requests are read,
decoded, validated and refused. Before, decoding and validation ran on the event loop and
/health went unanswered for over a minute."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from config.settings import Settings

pytestmark = pytest.mark.slow

SERVER = """
import sys
import uvicorn
from api import create_app
from config.settings import Settings
app = create_app(Settings(_env_file=None, database_url=sys.argv[1], api_auth="off"),
                 selector=None,
                 migrate=False, runtime=None)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _big_body(limit: int, projects: int) -> bytes:
    """Up to `projects` project objects with numeric metadata, as close to `limit` bytes as
    they come, and a budget the money rule refuses (so the whole body is decoded and validated,
    then answered 422 without a solve)."""
    def build(pad: int) -> bytes:
        items = [f'{{"name":"p{i:06d}","cost":{i % 99991 + 1}.{i % 100:02d},"metadata":'
                 f'{{"w":[1.5,{i}.25,3],"t":"{"x" * pad}"}}}}' for i in range(projects)]
        return ('{"projects":[' + ",".join(items) + '],"budget":"1_000"}').encode()

    body = build(0)
    body = build(max(0, (limit - len(body)) // projects))
    assert len(body) <= limit, len(body)
    return body


def test_health_answers_within_a_second_during_four_big_requests(pg_migrated_url: str,
                                                                 tmp_path: Path) -> None:
    """Four concurrent ~16 MB POST /solve/ bodies (200,000 projects each, at the default
    limits) are all answered 422 naming `budget`, and every /health asked meanwhile answers
    200 in under 1 s."""
    settings = Settings(_env_file=None)
    body = _big_body(settings.api_max_body_bytes, settings.api_projects_cap)
    assert len(body) > 15_000_000
    json.loads(body)  # well-formed
    port = _free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-c", SERVER, pg_migrated_url, str(port)],
                                env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)

        posts: list[tuple[float, float, httpx.Response]] = []

        def post() -> None:
            start = time.monotonic()
            response = httpx.post(f"{base}/solve/", content=body, timeout=300,
                                  headers={"content-type": "application/json"})
            posts.append((start, time.monotonic(), response))

        workers = [threading.Thread(target=post) for _ in range(4)]
        for worker in workers:
            worker.start()
        samples: list[tuple[float, float, int]] = []
        with httpx.Client(timeout=30) as health_client:
            while any(worker.is_alive() for worker in workers):
                asked = time.monotonic()
                status = health_client.get(f"{base}/health").status_code
                samples.append((asked, time.monotonic() - asked, status))
                time.sleep(0.1)
        for worker in workers:
            worker.join()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)

    assert len(posts) == 4
    for _start, _end, response in posts:
        assert response.status_code == 422, response.text[:300]
        assert response.json()["errors"][0]["field"] == "budget", response.text[:300]
    busy_from = min(start for start, _, _ in posts)
    busy_to = max(end for _, end, _ in posts)
    during = [(latency, status) for asked, latency, status in samples
              if busy_from <= asked <= busy_to]
    assert busy_to - busy_from > 1.0, "the requests were too quick to test anything"
    assert len(during) >= 5, (len(during), busy_to - busy_from)
    worst = max(latency for latency, _ in during)
    print(f"\n4 x {len(body) / 1e6:.1f} MB answered in {busy_to - busy_from:.1f} s; "
          f"{len(during)} /health meanwhile, slowest {worst * 1000:.0f} ms")
    assert all(status == 200 for _, status in during), during
    assert worst < 1.0, sorted(latency for latency, _ in during)[-5:]
