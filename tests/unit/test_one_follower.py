"""Pages follow jobs through state/live.follow_jobs only: no page opens its own Redis subscription (issue 14:
four followers each held a connection per tab and read under the state lock)."""

import re
from pathlib import Path

STATE = Path(__file__).resolve().parents[2] / "state"
OWN_SUBSCRIPTION = re.compile(r"redis\.asyncio|\.pubsub\(|\.subscribe\(|\.psubscribe\(|get_message\(")


def test_no_page_state_subscribes_to_redis_itself():
    offenders = [f"{path.name}:{n}" for path in sorted(STATE.glob("*.py"))
                 for n, line in enumerate(path.read_text().splitlines(), start=1) if OWN_SUBSCRIPTION.search(line)]
    assert offenders == []


def test_every_page_that_follows_jobs_uses_the_shared_follower():
    followers = [path.name for path in sorted(STATE.glob("*.py"))
                 if path.name != "live.py" and "live.follow_jobs(" in path.read_text()]
    assert followers == ["assets.py", "generate.py", "rename.py", "slides.py", "workflows.py"]
