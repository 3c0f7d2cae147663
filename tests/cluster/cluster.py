#!/usr/bin/env python3
"""Replicas under faults (issue 27), as processes: nginx in front of two `fathom serve` replicas on one
PostgreSQL database, each relaying events to RabbitMQ (one at a time holds the lease).

Scenarios, each printing its figures and failing the run when its promise does not hold:
1. read your writes across replicas: a dataset created through one replica is read through the other
   at once, and found by its search within 1 s at p99; its event is delivered exactly once;
2. `kill -9` of the replica holding the relay's lease, under load: the lease moves to the survivor
   within 30 s;
3. a rolling restart of every replica (SIGTERM, drain, start) under load: no read fails (a few
   creates may get 502 as a replica stops: printed as not yet held);
4. PostgreSQL restarted under load: the replicas serve again by themselves (no request fails more
   than 5 s after it is back);
5. RabbitMQ stopped for 30 s under load: no request fails.
(6, Redis, is not here yet.) After each fault: nothing
acknowledged is lost, every create is acknowledged in the end (each carries an `Idempotency-Key` and
is retried as a careful client would: a create whose replica died after its write committed is
answered, once its claim counts as abandoned, with 303 See Other to the dataset it made), none is
made twice, and every acknowledged create's event reaches RabbitMQ (none doubled once de-duplicated
by event id). The load is 8 writers and 3 readers (reads by id and searches) through nginx.

Usage: cluster.py [--bin target/debug/fathom] [--seconds 20]. Needs nginx, the PostgreSQL of
FATHOM_TEST_POSTGRES_URL's server, RabbitMQ on 127.0.0.1:5672, and pika (PyPI).
"""

import argparse
import contextlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

import pika

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fthm_cluster-bootstrap-token-" + uuid.uuid4().hex
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2f"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else float("nan")


class Client:
    """One keep-alive HTTP connection, opened again after any failure."""

    def __init__(self, port):
        self.port = port
        self.connection = None

    def request(self, method, path, body=None, headers=None):
        headers = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            self.connection.request(method, path, body, headers)
            response = self.connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.getheader("Connection", "").lower() == "close":
            self.close()
        if response.status == 303:
            return 303, response.getheader("Location")
        return response.status, (json.loads(data) if data and data[:1] in b"{[" else data)

    def close(self):
        if self.connection is not None:
            self.connection.close()
        self.connection = None


class Replica:
    def __init__(self, name, work, database_url, exchange):
        self.name = name
        self.port = free_port()
        self.data = work / name
        self.log = work / f"{name}.log"
        self.database_url = database_url
        self.exchange = exchange
        self.process = None

    def start(self, binary):
        env = {
            **os.environ,
            "FATHOM_DATABASE_URL": self.database_url,
            "FATHOM_BOOTSTRAP_TOKEN": TOKEN,
            "FATHOM_AMQP_URL": AMQP_URL,
            "FATHOM_AMQP_EXCHANGE": self.exchange,
            "FATHOM_RATE_LIMIT_PER_ADDRESS": "0",
            "FATHOM_RATE_LIMIT_PER_TOKEN": "0",
            "FATHOM_LOG": os.environ.get("FATHOM_CLUSTER_LOG", "warn"),
            "FATHOM_LOG_FORMAT": "text",
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [binary, "--data-dir", str(self.data), "serve", "--listen", f"127.0.0.1:{self.port}"],
                env=env, stdout=log, stderr=log,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"{self.name} exited at start:\n{self.log.read_text()}")
            try:
                if Client(self.port).request("GET", "/readyz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit(f"{self.name} was not ready within 120 s:\n{self.log.read_text()}")

    def relay_state(self):
        status, health = Client(self.port).request("GET", "/readyz")
        return {t["target"]: t["state"] for t in health.get("events", [])} if status == 200 else {}

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Nginx:
    """nginx configured from `deploy/compose/nginx.conf`, its upstream servers the replicas."""

    def __init__(self, work, replicas):
        self.port = free_port()
        self.prefix = work / "nginx"
        self.prefix.mkdir()
        conf = (ROOT / "deploy/compose/nginx.conf").read_text()
        servers = "".join(f"        server 127.0.0.1:{r.port};\n" for r in replicas)
        conf, count = re.subn(r"(?m)(^\s*server fathom-\d+:\d+;\n)+", servers, conf)
        assert count == 1, "deploy/compose/nginx.conf: no upstream servers found"
        conf, count = re.subn(r"listen 80;", f"listen 127.0.0.1:{self.port};", conf)
        assert count == 1, "deploy/compose/nginx.conf: no `listen 80;` found"
        # Run as whoever runs the harness, with every file under the prefix.
        conf = (
            f"pid {self.prefix}/nginx.pid;\nerror_log {self.prefix}/error.log warn;\n"
            + conf.replace(
                "http {",
                f"http {{\n    access_log off;\n    client_body_temp_path {self.prefix}/body;\n"
                f"    proxy_temp_path {self.prefix}/proxy;\n",
                1,
            )
        )
        if os.geteuid() == 0:
            conf = "user root;\n" + conf
        (self.prefix / "nginx.conf").write_text(conf)
        self.process = subprocess.Popen(
            ["nginx", "-p", str(self.prefix), "-c", "nginx.conf", "-g", "daemon off;"],
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit(f"nginx did not start:\n{(self.prefix / 'error.log').read_text()}")

    def stop(self):
        self.process.terminate()
        self.process.wait()


class Events:
    """A durable queue of the run's own, bound to every event of its exchange, consumed on a thread
    of its own that connects again after RabbitMQ comes back (scenario 5)."""

    def __init__(self, exchange):
        self.received = []  # (arrival, event)
        self.exchange = exchange
        self.queue = exchange
        self.stopping = False
        self.queue_ready = threading.Event()
        self.thread = threading.Thread(target=self.consume, daemon=True)
        self.thread.start()
        if not self.queue_ready.wait(10):
            sys.exit("no queue bound on RabbitMQ within 10 s")

    def consume(self):
        while not self.stopping:
            try:
                connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
                channel = connection.channel()
                # Declared as the relay declares it, so that the queue is bound before any event.
                channel.exchange_declare(self.exchange, exchange_type="topic", durable=True)
                channel.queue_declare(self.queue, durable=True)
                channel.queue_bind(self.queue, self.exchange, routing_key="#")
                self.queue_ready.set()
                for _method, _properties, body in channel.consume(
                    self.queue, auto_ack=True, inactivity_timeout=0.2
                ):
                    if self.stopping:
                        break
                    if body is not None:
                        self.received.append((time.monotonic(), json.loads(body)))
                connection.close()
            except pika.exceptions.AMQPError:
                time.sleep(0.5)

    def close(self):
        self.stopping = True
        self.thread.join(10)
        try:
            connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
            channel = connection.channel()
            channel.queue_delete(self.queue)
            channel.exchange_delete(self.exchange)
            connection.close()
        except pika.exceptions.AMQPError:
            pass

    def created(self):
        """The ids of the datasets created, by event id (so duplicates of one delivery collapse)."""
        events = {e["id"]: e for _, e in list(self.received) if e["type"] == "org.fathom.dataset.created"}
        return [e["data"]["id"] for e in events.values()]


def dataset(key):
    return {
        "title": f"Cluster probe {key}",
        "organisation": "cluster",
        "description": f"Written by the replica harness; its key is {key}.",
        "spatial": {"bbox": [8.0, 43.0, 10.5, 44.5]},
    }


def read_your_writes(replicas, events, count=50):
    """Scenario 1, with no fault: each write's event is also delivered exactly once."""
    a, b = (Client(r.port) for r in replicas)
    read_at_once = 0
    found_after = []
    written_ids = set()
    for n in range(count):
        key = f"ryw{n}x{uuid.uuid4().hex[:10]}"
        status, created = a.request("POST", "/api/v1/datasets", dataset(key), {"Idempotency-Key": key})
        assert status == 201, (status, created)
        written = time.monotonic()
        written_ids.add(created["id"])
        status, _ = b.request("GET", f"/api/v1/datasets/{created['id']}")
        read_at_once += status == 200
        while True:
            status, results = b.request("GET", f"/api/v1/search?q={key}&limit=5")
            if status == 200 and any(h["id"] == created["id"] for h in results["hits"]):
                found_after.append(time.monotonic() - written)
                break
            if time.monotonic() - written > 10:
                found_after.append(float("inf"))
                break
            time.sleep(0.01)
    p50, p99 = percentile(found_after, 0.5), percentile(found_after, 0.99)
    print(f"scenario 1, read your writes: {count} datasets written through {replicas[0].name}; "
          f"read through {replicas[1].name} at once: {read_at_once}/{count}; found by its search after "
          f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {max(found_after) * 1000:.0f} ms")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not written_ids <= set(events.created()):
        time.sleep(0.1)
    deliveries = [e["data"]["id"] for _, e in list(events.received)
                  if e["type"] == "org.fathom.dataset.created" and e["data"]["id"] in written_ids]
    once = sum(deliveries.count(i) == 1 for i in written_ids)
    print(f"  their creation events delivered once each: {once}/{count}")
    failures = []
    if once != count:
        failures.append(f"only {once} of {count} creation events were delivered exactly once")
    if read_at_once != count:
        failures.append(f"only {read_at_once} of {count} writes were read at once on the other replica")
    if p99 > 1.0:
        failures.append(f"search found a write after {p99:.2f} s at p99 (promise: 1 s)")
    return failures


class Load:
    """Readers, searchers and writers through nginx; writers retry each create with its key until
    it is acknowledged, as a careful client does."""

    def __init__(self, port, writers=8, readers=3):
        self.port = port
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acknowledged = {}  # key -> dataset id
        self.errors = []  # (when, what)
        self.requests = 0
        self.gave_up = []
        self.claims_waited = []  # when each create refused as "in progress" was at last acknowledged
        self.seen_other = 0  # creates answered 303 See Other: written by a replica that died
        self.threads = [threading.Thread(target=self.write, args=(n,)) for n in range(writers)]
        self.threads += [threading.Thread(target=self.read, args=(n,)) for n in range(readers)]

    def start(self):
        for thread in self.threads:
            thread.start()

    def finish(self):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def failed(self, what):
        with self.lock:
            self.errors.append((time.monotonic(), what))

    def call(self, client, *args):
        with self.lock:
            self.requests += 1
        return client.request(*args)

    def write(self, writer):
        client = Client(self.port)
        n = 0
        while not self.stop.is_set():
            key = f"w{writer}n{n}x{uuid.uuid4().hex[:8]}"
            n += 1
            deadline = time.monotonic() + 150
            pause, refused_in_progress = 0.05, False
            while True:
                try:
                    status, body = self.call(client, "POST", "/api/v1/datasets", dataset(key),
                                             {"Idempotency-Key": key})
                except OSError as error:
                    status, body = None, repr(error)
                if status in (201, 303):
                    with self.lock:
                        self.acknowledged[key] = body["id"] if status == 201 else body.rsplit("/", 1)[1]
                        self.seen_other += status == 303
                        if refused_in_progress:
                            self.claims_waited.append(time.monotonic())
                    break
                if status == 409:
                    refused_in_progress = True
                else:
                    self.failed(f"create: {status} {str(body)[:120]}")
                if time.monotonic() > deadline:
                    self.gave_up.append(key)
                    break
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def read(self, reader):
        client = Client(self.port)
        while not self.stop.is_set():
            with self.lock:
                ids = list(self.acknowledged.values())[-50:]
            path = (f"/api/v1/datasets/{ids[reader % len(ids)]}" if ids and reader % 2 == 0
                    else "/api/v1/search?q=cluster+probe&limit=10")
            try:
                status, body = self.call(client, "GET", path)
            except OSError as error:
                status, body = None, repr(error)
            if status != 200:
                self.failed(f"GET {path.split('?')[0]}: {status} {str(body)[:120]}")
                time.sleep(0.05)


@contextlib.contextmanager
def loaded(nginx, warm=3.0):
    """A load through nginx, `warm` seconds old when the fault comes; stopped after it."""
    load = Load(nginx.port)
    load.start()
    time.sleep(warm)
    try:
        yield load
    finally:
        load.finish()


def all_datasets(port):
    client = Client(port)
    path = "/api/v1/datasets?organisation=cluster&limit=1000"
    found = []
    while path:
        status, page = client.request("GET", path)
        assert status == 200, (status, page)
        found.extend(page["items"])
        path = page.get("next")
    return found


def settle(load, nginx, events, since):
    """What every fault scenario requires once its load has stopped: every create acknowledged in
    the end, and stored once; every acknowledged create's event delivered, once after de-duplication
    by id. Prints the figures from `since` (the fault); returns the failures."""
    by_key = {}
    for record in all_datasets(nginx.port):
        key = record["title"].removeprefix("Cluster probe ")
        by_key.setdefault(key, []).append(record["id"])
    lost = [k for k, i in load.acknowledged.items() if i not in by_key.get(k, [])]
    doubled = {k: ids for k, ids in by_key.items() if len(ids) > 1}
    wanted = set(load.acknowledged.values())
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and not wanted <= set(events.created()):
        time.sleep(0.2)
    arrived = time.monotonic() - since
    created = events.created()
    missing = wanted - set(created)
    events_doubled = len(created) - len(set(created))
    after = [when - since for when, _ in load.errors if when >= since]
    window = f"{after[0]:.2f} s to {after[-1]:.2f} s after the fault" if after else "none"
    print(f"  {load.requests} requests through nginx, {len(load.acknowledged)} creates acknowledged; "
          f"failed requests seen by clients: {len(after)} ({window}; each retried)")
    for what in sorted({w for _, w in load.errors})[:3]:
        print(f"    e.g. {what}")
    if load.claims_waited:
        print(f"  creates whose claim a replica left unfinished, refused as in progress until it was "
              f"taken over: {len(load.claims_waited)} ({load.seen_other} of them written already, "
              f"answered 303 See Other), the last acknowledged "
              f"{max(load.claims_waited) - since:.1f} s after the fault")
    print(f"  lost: {len(lost)}; created twice: {len(doubled)}; given up after 150 s of retries: "
          f"{len(load.gave_up)}; events of the acknowledged creates missing: {len(missing)} (all "
          f"in by {arrived:.1f} s after the fault), doubled after de-duplication by id: "
          f"{events_doubled}")
    failures = []
    if lost:
        failures.append(f"{len(lost)} acknowledged creates were lost, e.g. {lost[:3]}")
    if doubled:
        failures.append(f"{len(doubled)} creates were doubled, e.g. {list(doubled.items())[:3]}")
    if load.gave_up:
        failures.append(f"{len(load.gave_up)} creates never succeeded, e.g. {load.gave_up[:3]}")
    if missing:
        failures.append(f"{len(missing)} acknowledged creates have no event, e.g. {sorted(missing)[:3]}")
    if events_doubled:
        failures.append(f"{events_doubled} datasets have two creation events")
    if not load.acknowledged:
        failures.append("no create was acknowledged: the load did not run")
    return failures


def kill_under_load(replicas, nginx, events, seconds):
    """Scenario 2: `kill -9` of the replica holding the relay's lease."""
    states = {r.name: r.relay_state() for r in replicas}
    holders = [r for r in replicas if "delivering" in states[r.name].values()]
    victim = holders[0] if holders else replicas[1]
    survivor = next(r for r in replicas if r is not victim)
    print(f"scenario 2, kill -9 of {victim.name} (relay: {'holder' if holders else 'standby'}) "
          f"{seconds / 2:.0f} s into a load through nginx")
    with loaded(nginx, seconds / 2) as load:
        killed_at = time.monotonic()
        victim.kill()
        took_over = None
        while time.monotonic() - killed_at < 45:
            if "delivering" in survivor.relay_state().values():
                took_over = time.monotonic() - killed_at
                break
            time.sleep(0.2)
        time.sleep(max(0.0, seconds / 2 - (time.monotonic() - killed_at)))
    print(f"  relay lease on {survivor.name} after "
          f"{'%.1f s' % took_over if took_over is not None else 'more than 45 s'}")
    failures = settle(load, nginx, events, killed_at)
    if took_over is None or took_over > 30:
        failures.append("the relay's lease did not move to the survivor within 30 s")
    return failures


def rolling_restart(binary, replicas, nginx, events):
    """Scenario 3: each replica in turn stopped (SIGTERM: it drains) and started again, under load.
    nginx passes a request refused by a stopped replica to the other, and retries no write it has
    sent; the next replica stops once nginx has tried the first again (its `fail_timeout`, 10 s)."""
    print("scenario 3, a rolling restart of every replica under a load through nginx")
    with loaded(nginx) as load:
        began = time.monotonic()
        for replica in replicas:
            stopped = time.monotonic()
            replica.stop()
            drained = time.monotonic() - stopped
            replica.start(binary)
            print(f"  {replica.name} drained and stopped in {drained:.1f} s, serving again after "
                  f"{time.monotonic() - stopped:.1f} s")
            time.sleep(11)
    failures = settle(load, nginx, events, began)
    writes = [what for _, what in load.errors if what.startswith("create")]
    if len(writes) < len(load.errors):
        failures.append(f"{len(load.errors) - len(writes)} reads failed during the rolling restart")
    if writes:
        # Not yet held: a connection in the stopping replica's accept queue is reset when it closes
        # its port, and nginx does not resend a POST it has sent. The careful client's retry with
        # its key makes it good (checked above); docs/operations.md says what is left to do.
        print(f"  NOT YET HELD: {len(writes)} creates answered 502 by nginx as a replica stopped")
    return failures


def database_restart(replicas, nginx, events):
    """Scenario 4: PostgreSQL restarted under load: the replicas recover without being restarted, and
    no acknowledged write is lost. The requests that fail while it restarts are the window."""
    print("scenario 4, PostgreSQL restarted under a load through nginx")
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    with loaded(nginx) as load:
        restarted = time.monotonic()
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
                       check=True)
        back = time.monotonic() - restarted
        time.sleep(10)
    print(f"  PostgreSQL {version} restarted in {back:.1f} s")
    failures = settle(load, nginx, events, restarted)
    late = [when - restarted for when, _ in load.errors if when - restarted > back + 5]
    if late:
        failures.append(f"{len(late)} requests failed more than 5 s after PostgreSQL was back")
    unready = [r.name for r in replicas if Client(r.port).request("GET", "/readyz")[0] != 200]
    if unready:
        failures.append(f"not ready again after PostgreSQL's restart: {unready}")
    return failures


def broker_outage(nginx, events, seconds=30):
    """Scenario 5: RabbitMQ stopped for 30 s under load: writes go on, and every event arrives after."""
    print(f"scenario 5, RabbitMQ stopped for {seconds} s under a load through nginx")
    with loaded(nginx) as load:
        stopped = time.monotonic()
        before = len(load.acknowledged)
        subprocess.run(["rabbitmqctl", "-q", "stop_app"], check=True, stdout=subprocess.DEVNULL)
        try:
            time.sleep(seconds)
            during = len(load.acknowledged) - before
        finally:
            subprocess.run(["rabbitmqctl", "-q", "start_app"], check=True, stdout=subprocess.DEVNULL)
        print(f"  RabbitMQ back after {time.monotonic() - stopped:.1f} s; creates acknowledged "
              f"while it was down: {during}")
        time.sleep(3)
    failures = settle(load, nginx, events, stopped)
    if load.errors:
        failures.append(f"{len(load.errors)} requests failed while RabbitMQ was down")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", default=str(ROOT / "target/debug/fathom"))
    parser.add_argument("--seconds", type=float, default=20, help="the load's length in scenario 2")
    args = parser.parse_args()
    admin = os.environ.get("FATHOM_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    database = f"fathom_cluster_{os.getpid()}"
    server = urllib.parse.urlsplit(admin)
    database_url = urllib.parse.urlunsplit(server._replace(path=f"/{database}"))
    subprocess.run(["psql", admin, "-qc", f'CREATE DATABASE "{database}"'], check=True)
    work = Path(tempfile.mkdtemp(prefix="fathom-cluster-"))
    exchange = f"fathom.cluster.{os.getpid()}"
    replicas = [Replica(f"fathom-{n}", work, database_url, exchange) for n in (1, 2)]
    nginx = events = None
    failures = []
    try:
        events = Events(exchange)
        for replica in replicas:  # one after the other: the first creates the admin
            replica.start(args.bin)
        nginx = Nginx(work, replicas)
        status, body = Client(nginx.port).request(
            "POST", "/api/v1/organisations", {"slug": "cluster", "name": "Cluster", "nation": "ITA"})
        assert status == 201, (status, body)
        failures += read_your_writes(replicas, events)
        failures += kill_under_load(replicas, nginx, events, args.seconds)
        for replica in replicas:
            if replica.process.poll() is not None:
                replica.start(args.bin)
        failures += rolling_restart(args.bin, replicas, nginx, events)
        failures += database_restart(replicas, nginx, events)
        failures += broker_outage(nginx, events)
    finally:
        if nginx:
            nginx.stop()
        if events:
            events.close()
        for replica in replicas:
            replica.stop()
        subprocess.run(["psql", admin, "-qc", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'])
    if failures:
        for replica in replicas:
            print(f"--- {replica.name}'s log (last lines)\n" + "\n".join(
                replica.log.read_text(errors="replace").splitlines()[-20:]))
        print("FAILED:\n- " + "\n- ".join(failures))
        sys.exit(1)
    shutil.rmtree(work, ignore_errors=True)
    print("every scenario held")


if __name__ == "__main__":
    main()
