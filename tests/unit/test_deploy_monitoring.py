"""The Grafana dashboard and the Prometheus alert rules under deploy/ parse, and use only metrics we expose.

promtool is not on these machines: the YAML and JSON are parsed here and each PromQL expression's metric
names are checked against the app's registry (a renamed series would leave a panel blank, an alert silent).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from app.observability.metrics import metric_names

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
# Words in PromQL that are not metric names.
PROMQL_WORDS = {"sum", "by", "rate", "increase", "deriv", "max", "min", "avg", "topk", "histogram_quantile",
                "absent", "and", "or", "unless", "without", "le", "on", "ignoring", "count"}


def names_in(expr: str) -> set[str]:
    without_labels = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "", expr)  # label matchers, range selectors
    without_groups = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", without_labels)
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", without_groups))
    return {w for w in words if w not in PROMQL_WORDS}


def test_names_in_reads_promql():
    assert names_in('sum by (queue) (atelier_queue_depth{queue="x"}) > 5') == {"atelier_queue_depth"}
    assert names_in("histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m])))") == {"a_bucket"}


def test_alert_rules_parse_and_use_our_metrics():
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    known = metric_names()
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    names = {rule["alert"] for rule in alerts}
    assert {"AtelierQueueBackingUp", "AtelierNoLiveWorkers", "AtelierHighErrorRate", "AtelierProviderBreakerOpen",
            "AtelierSlowRequests"} <= names
    for rule in alerts:
        assert rule["labels"]["severity"] in ("warning", "critical") and rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        used = names_in(rule["expr"])
        assert used and used <= known, (rule["alert"], used - known)


def test_the_dashboard_parses_and_uses_our_metrics():
    dashboard = json.loads((DEPLOY / "grafana" / "atelier.json").read_text())
    known = metric_names()
    assert dashboard["uid"] and dashboard["panels"]
    used_everywhere: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            used = names_in(target["expr"])
            assert used and used <= known, (panel["title"], used - known)
            used_everywhere |= used
    # Every family we export is on the dashboard.
    families = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in known}
    shown = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used_everywhere}
    assert families <= shown, families - shown


def test_a_wrong_name_would_be_caught():
    assert not names_in("rate(atelier_http_request_total[5m])") <= metric_names()
