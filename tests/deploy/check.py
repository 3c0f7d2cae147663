"""Consistency of the deployment files with the code (run by .ci/run):

- every metric the alerts and the Grafana dashboard use is one the code records;
- every FATHOM_* variable the Kubernetes ConfigMap and the compose file set is a setting of
  `fathom config` (OTEL_* ones are OpenTelemetry's);
- every file the compose file mounts exists.

usage: python tests/deploy/check.py path/to/fathom
"""
import json
import pathlib
import re
import subprocess
import sys

import yaml

root = pathlib.Path(__file__).resolve().parents[2]
fathom = sys.argv[1]
problems = []

declared = set()
for source in root.glob("crates/*/src/**/*.rs"):
    declared |= set(re.findall(r'"(fathom_[a-z_]+)"', source.read_text()))
used = set()
alerts = (root / "deploy/prometheus/alerts.yml").read_text()
dashboard = json.loads((root / "deploy/grafana/fathom.json").read_text())
expressions = [alerts] + [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
for expression in expressions:
    used |= {re.sub(r"_(bucket|sum|count)$", "", m) for m in re.findall(r"\b(fathom_[a-z_]+)", expression)}
for name in sorted(used - declared):
    problems.append(f"metric {name} is used by a dashboard or alert but never recorded")

settings = json.loads(subprocess.run([fathom, "--config", "/nonexistent.toml", "config"], check=True,
                                     capture_output=True, text=True).stdout)
configmap = yaml.safe_load((root / "deploy/kubernetes/configmap.yaml").read_text())["data"]
compose = yaml.safe_load((root / "deploy/compose.yaml").read_text())
names = set(configmap) | set(compose["x-fathom"]["environment"])
for name in sorted(names):
    if name.startswith("OTEL_"):
        continue  # OpenTelemetry's own variables (docs/configuration.md)
    if not name.startswith("FATHOM_") or name[len("FATHOM_"):].lower() not in settings:
        problems.append(f"{name} is not a Fathom setting")

for service in compose["services"].values():
    for volume in service.get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith(".") and not (root / "deploy" / source).exists():
            problems.append(f"compose mounts {source}, which does not exist")

for problem in problems:
    print(problem, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"deployment files: {len(used)} metrics, {len(names)} settings, compose mounts: consistent")
