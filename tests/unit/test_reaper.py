"""The reaper's decisions, on their own: when a row with no live job is left alone, finished or failed."""

from datetime import timedelta

import pytest

from app.models import Job
from app.services.reaper import asset_verdict, parent_verdict, queued_job_verdict, settle_reason

OLD, YOUNG = timedelta(hours=1), timedelta(seconds=10)


@pytest.mark.parametrize(("rq_status", "age", "verdict"), [
    ("queued", OLD, "wait"), ("scheduled", OLD, "wait"), ("started", OLD, "wait"), ("deferred", OLD, "wait"),
    (None, YOUNG, "wait"),  # being queued right now
    (None, OLD, "requeue"), ("failed", OLD, "requeue"), ("stopped", OLD, "requeue"),
    (None, timedelta(days=1), "fail"),
])
def test_queued_job(rq_status, age, verdict):
    assert queued_job_verdict(rq_status=rq_status, age=age) == verdict


@pytest.mark.parametrize(("job_status", "age", "verdict"), [
    ("queued", OLD, "wait"), ("running", OLD, "wait"), (None, YOUNG, "wait"),
    (None, OLD, "settle"), ("failed", OLD, "settle"), ("canceled", OLD, "settle"), ("succeeded", OLD, "settle"),
])
def test_parent(job_status, age, verdict):
    assert parent_verdict(job_status=job_status, age=age) == verdict


def test_settle_reason_says_why():
    assert settle_reason(None) == ("failed", "The job doing this work was lost.")
    assert settle_reason(Job(id="j", kind="k", status="canceled")) == ("canceled", "Canceled")
    status, reason = settle_reason(Job(id="j", kind="k", status="failed", error="Worker w was lost"))
    assert status == "failed" and reason.endswith("Worker w was lost")


@pytest.mark.parametrize(("statuses", "age", "verdict"), [
    ([], YOUNG, "wait"), (["running"], OLD, "wait"), (["failed", "queued"], OLD, "wait"),
    ([], OLD, "queue"), (["succeeded"], OLD, "queue"),
    (["failed"], OLD, "fail"), (["canceled"], OLD, "fail"),
])
def test_asset(statuses, age, verdict):
    assert asset_verdict(job_statuses=statuses, age=age) == verdict
