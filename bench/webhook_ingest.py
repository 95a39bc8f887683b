"""Benchmark: webhook deliveries acknowledged per second by `evobot serve`, and the p50/p99
acknowledgement latency, signatures checked, on SQLite and (when a server is given) PostgreSQL.

The service runs as its own process (`evobot serve --workers 0 --no-heal`: only the web edge,
which verifies, stores and answers); N signed deliveries are POSTed by C concurrent clients;
afterwards the store is counted, so a lost delivery shows. A figure, not a test:

    .venv/bin/python bench/webhook_ingest.py --deliveries 5000 --concurrency 16
    .venv/bin/python bench/webhook_ingest.py --json --postgres-url postgresql+psycopg://U@HOST/DB

Without --postgres-url, $EVOBOT_TEST_POSTGRES_URL is used when set (its role needs CREATEDB: a
throw-away database is created and dropped). The goal on 2 cores: >= 500 deliveries/s, p99 < 20 ms.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.forge.webhook import sign
from bot.store import Store

ROOT = Path(__file__).resolve().parents[1]
SECRET = "bench-webhook-secret"
EVOBOT = [sys.executable, "-c", "from bot.cli import main; main()"]


def payload(i: int) -> bytes:
    """A pull_request delivery of realistic size (~6 KB), distinct per i."""
    repo = {"id": 1000 + i % 50, "full_name": f"acme/svc{i % 50:03d}", "default_branch": "main"}
    pull = {
        "number": i,
        "state": "open",
        "title": f"Evolve to v1.{i}",
        "body": "evobot report\n" + "| file | + | - |\n" * 120,
        "head": {"ref": f"feature/{i}", "sha": f"{i:040x}", "repo": repo},
        "base": {"ref": "main", "sha": "0" * 40, "repo": repo},
        "merged": False,
    }
    data = {
        "action": "synchronize",
        "number": i,
        "pull_request": pull,
        "repository": repo,
        "installation": {"id": 77},
        "sender": {"login": "octocat", "type": "User"},
    }
    return json.dumps(data).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def fresh_postgres(base: str) -> Iterator[str]:
    name = f"evobot_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def serving(database_url: str, state: Path) -> Iterator[int]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = state / "app.pem"
    pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    port = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("EVOBOT_") or k == "EVOBOT_FIXTURES"
    }
    env.update(
        EVOBOT_APP_ID="1",
        EVOBOT_PRIVATE_KEY_FILE=str(pem),
        EVOBOT_WEBHOOK_SECRET=SECRET,
        EVOBOT_STATE_DIR=str(state),
        EVOBOT_DATABASE_URL=database_url,
        EVOBOT_GITHUB_URL="http://127.0.0.1:9/api/v3",
    )
    log = (state / "service.log").open("wb")
    process = subprocess.Popen(
        [*EVOBOT, "serve", "--port", str(port), "--workers", "0", "--no-heal"],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                connection.request("GET", "/readyz")
                if connection.getresponse().status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the service did not start; see {state / 'service.log'}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def post_all(
    port: int, deliveries: int, concurrency: int
) -> tuple[float, list[float], dict[int, int]]:
    requests: list[tuple[dict[str, str], bytes]] = []
    for i in range(deliveries):
        body = payload(i)
        headers = {
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": sign(body, SECRET),
            "Content-Type": "application/json",
        }
        requests.append((headers, body))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [requests[i::concurrency] for i in range(concurrency)]

    def client(chunk: list[tuple[dict[str, str], bytes]]) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.connect()
        assert connection.sock is not None
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mine: list[float] = []
        codes: list[int] = []
        for headers, body in chunk:
            started = time.perf_counter()
            connection.request("POST", "/webhook", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            codes.append(response.status)
        connection.close()
        with lock:
            latencies.extend(mine)
            for code in codes:
                statuses[code] = statuses.get(code, 0) + 1

    threads = [threading.Thread(target=client, args=(c,)) for c in chunks]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, statuses


def run(engine: str, database_url: str, deliveries: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="evobot-bench-") as tmp:
        state = Path(tmp)
        with serving(database_url, state) as port:
            post_all(port, min(200, deliveries), concurrency)  # warm-up, not counted
            elapsed, latencies, statuses = post_all(port, deliveries, concurrency)
        store = Store.open(database_url, upgrade_schema=False)
        try:
            stored = len(store.deliveries(limit=deliveries * 2 + 1000))
        finally:
            store.close()
    ordered = sorted(latencies)
    sent = deliveries + min(200, deliveries)
    return {
        "engine": engine,
        "deliveries": deliveries,
        "concurrency": concurrency,
        "seconds": round(elapsed, 3),
        "per_second": round(deliveries / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 2),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "stored": stored,
        "lost": sent - stored,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deliveries", type=int, default=2000, help="default 2000")
    parser.add_argument("--concurrency", type=int, default=8, help="clients (default 8)")
    parser.add_argument("--postgres-url", default=os.environ.get("EVOBOT_TEST_POSTGRES_URL"))
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="evobot-bench-db-") as tmp:
        url = f"sqlite+pysqlite:///{Path(tmp) / 'evobot.db'}"
        results.append(run("sqlite", url, args.deliveries, args.concurrency))
    if args.postgres_url:
        with fresh_postgres(args.postgres_url) as url:
            results.append(run("postgresql", url, args.deliveries, args.concurrency))
    if args.json:
        print(json.dumps({"results": results}, indent=2))
        return
    print(f"{'engine':<11} {'deliveries':>10} {'per s':>8} {'p50 ms':>7} {'p99 ms':>7} {'lost':>5}")
    for r in results:
        print(
            f"{r['engine']:<11} {r['deliveries']:>10} {r['per_second']:>8} "
            f"{r['p50_ms']:>7} {r['p99_ms']:>7} {r['lost']:>5}"
        )


if __name__ == "__main__":
    main()
