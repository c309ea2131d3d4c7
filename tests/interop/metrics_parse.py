"""Parses keyturn's /metrics text with the Prometheus project's own Python client (pinned in
requirements.txt), both as OpenMetrics (what keyturn serves) and with the classic Prometheus
text parser, and prints every sample as JSON lines: {"name", "labels", "value"}.
Usage: python3 metrics_parse.py FILE"""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics
from prometheus_client.parser import text_string_to_metric_families as classic

text = open(sys.argv[1], encoding="utf-8").read()
# The classic parser must read it too (a Prometheus server may be told to scrape either way).
classic_samples = sum(len(f.samples) for f in classic(text))
families = list(openmetrics(text))
samples = [s for f in families for s in f.samples]
assert classic_samples > 0, "the classic parser read no sample"
for f in families:
    assert f.type in ("counter", "gauge", "histogram", "unknown"), f.type
for s in samples:
    print(json.dumps({"name": s.name, "labels": s.labels, "value": s.value}))
