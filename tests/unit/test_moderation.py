"""Moderation: the denylist against the prompt set, normalisation, entries, and the AI check on a fake API."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from app.errors import ValidationFailed
from app.providers.errors import ProviderError
from app.providers.http import HttpOptions, reset_breakers
from app.services.moderation.ai import UNAVAILABLE_REASON, OpenAIModeration, our_category
from app.services.moderation.service import (
    DEFAULT_DENYLIST,
    Decision,
    DenylistEntry,
    check_prompt,
    check_text,
    find_matches,
    inflections,
    reason_for,
)
from app.services.moderation.text import (
    MAX_TEXT_CHARS,
    normalise,
    rle,
    runs_match,
)
from tests import images
from tests.fake_moderation import FakeModeration
from tests.unit.moderation_cases import ACCEPTED_OVERBLOCKS, EVASIONS, INNOCENT, STRICT_CASES, STRICT_EXTRA, Case

STRICT = [*DEFAULT_DENYLIST, *(DenylistEntry(*row) for row in STRICT_EXTRA)]


def _id(case: Case) -> str:
    return case.prompt.encode("ascii", "backslashreplace").decode()[:40]


# The prompt set ----------------------------------------------------------------------------------------------

def test_the_prompt_set_has_enough_of_both_kinds():
    assert len(EVASIONS) >= 30 and len(INNOCENT) >= 30
    assert len({c.prompt for c in EVASIONS + INNOCENT}) == len(EVASIONS + INNOCENT)


@pytest.mark.parametrize("case", EVASIONS + ACCEPTED_OVERBLOCKS, ids=_id)
def test_evasions_are_refused(case: Case):
    decision = check_text(case.prompt, entries=DEFAULT_DENYLIST)
    assert (decision.allowed, decision.category) == (False, case.refuse), case.why
    assert decision.source == "denylist" and decision.matched and decision.reason == reason_for(case.refuse)


@pytest.mark.parametrize("case", INNOCENT, ids=_id)
def test_innocent_prompts_pass(case: Case):
    decision = check_text(case.prompt, entries=DEFAULT_DENYLIST)
    assert decision.allowed, f"{case.why}: refused by {decision.matched}"


@pytest.mark.parametrize("case", STRICT_CASES, ids=_id)
def test_an_admins_short_words_match_whole_words_only(case: Case):
    decision = check_text(case.prompt, entries=STRICT)
    assert (None if decision.allowed else decision.category) == case.refuse, case.why


# Normalisation ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "spelling"), [
    ("NUDE", "nude"), ("ｎｕｄｅ", "nude"), ("𝐧𝐮𝐝𝐞", "nude"), ("Ⓝⓤⓓⓔ", "nude"), ("ñúdé", "nude"),
    ("n\u200bu\u200cd\u2060e", "nude"), ("nu\u00adde", "nude"), ("n.u.d.e", "nude"), ("n u d e", "nude"),
    ("n-u-d-e", "nude"), ("n_u_d_e", "nude"), ("n * u * d * e", "nude"), ("nu-de", "nude"), ("p@$$", "pass"),
    ("n\u0430k\u0435d", "naked"), ("\u0455\u0435\u0445", "sex"), ("\u03bd\u03bfde", "vode"), ("k1ll", "kill"),
])
def test_normalise_undoes_evasions(text: str, spelling: str):
    assert spelling in normalise(text).spellings()


def test_ambiguous_characters_keep_every_plausible_reading():
    assert {"flame", "fiame"} <= normalise("f1ame").spellings()  # 1 → l or i
    assert {"hot", "not"} <= normalise("\u043dot").spellings()  # Cyrillic н looks like h, transliterates as n
    assert {"fack", "fuck"} <= normalise("f*ck").spellings()  # a masked vowel


def test_numbers_stay_numbers_and_neighbouring_words_stay_apart():
    assert all(s.isdigit() for s in normalise("1080 4 5 2024").spellings())
    assert "penis" not in normalise("pen is").spellings() | normalise("pen island").spellings()
    assert normalise("Ｈｅｌｌｏ   W0rld!").text == "hello world"


def test_normalise_refuses_overlong_text():
    with pytest.raises(ValidationFailed) as caught:
        normalise("a" * (MAX_TEXT_CHARS + 1))
    assert caught.value.code == "text_too_long" and str(MAX_TEXT_CHARS) in caught.value.message


@pytest.mark.parametrize(("token", "term", "matches"), [
    ("fuuuck", "fuck", True), ("seeeexxxx", "sex", True), ("niggger", "nigger", True), ("fuuck", "fuck", False),
    ("rapping", "raping", False), ("niger", "nigger", False), ("bob", "boob", False), ("sex", "sex", True),
])
def test_drawn_out_letters_need_three_repeats(token: str, term: str, matches: bool):
    (token_key, token_runs), (term_key, term_runs) = rle(token), rle(term)
    assert (token_key == term_key and runs_match(token_runs, term_runs)) is matches


def test_inflections():
    assert {"rape", "rapes", "raped", "raping"} <= inflections("rape")
    assert {"body", "bodies"} <= inflections("body") and {"kid", "kids"} <= inflections("kid")
    assert inflections("1girl") == {"1girl"} and inflections("ox") == {"ox"}


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gets_a_decision(text: str):
    assert isinstance(check_text(text, entries=DEFAULT_DENYLIST), Decision)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=15))
def test_a_plain_word_reads_as_itself(word: str):
    assert word in normalise(word).spellings() and normalise(word).text == word


# Entries -------------------------------------------------------------------------------------------------------

def test_entries_are_stored_in_canonical_form():
    assert DenylistEntry(" Child | KID+NUDE ", "combo", "minors").term == "child|kid + nude"
    assert DenylistEntry("child|kid + nude ~ 20", "combo", "minors").term == "child|kid + nude ~20"
    assert DenylistEntry("Ñude", "word", "sexual").term == "nude"
    assert DenylistEntry("Blow-Job", "phrase", "sexual").term == "blow job"
    assert DenylistEntry("Pedo-Phil", "substring", "minors").term == "pedophil"


@pytest.mark.parametrize(("fields", "says"), [
    ({"term": "x", "kind": "regex"}, "Kind must be one of"),
    ({"term": "x", "category": "spam"}, "Category must be one of"),
    ({"term": "!!!"}, "at least one letter"),
    ({"term": "two words"}, "use kind 'phrase'"),
    ({"term": "ass", "kind": "substring"}, "at least 4 letters"),
    ({"term": "child|kid", "kind": "combo"}, "at least two groups"),
    ({"term": "a + b ~0", "kind": "combo"}, "between 1 and 60"),
    ({"term": "a + b ~61", "kind": "combo"}, "between 1 and 60"),
    ({"term": "x" * 201}, "limited to 200"),
    ({"term": "x", "reason": "y" * 201}, "limited to 200"),
])
def test_bad_entries_are_refused_with_a_clear_message(fields: dict, says: str):
    with pytest.raises(ValidationFailed) as caught:
        DenylistEntry(**fields)
    assert caught.value.code == "invalid_denylist_entry" and says in caught.value.message


def test_entries_round_trip_through_json_and_fit_the_table():
    rows = json.loads(json.dumps([e.as_dict() for e in DEFAULT_DENYLIST]))
    assert [DenylistEntry.from_dict({**row, "id": 7, "created_by": None}) for row in rows] == DEFAULT_DENYLIST
    assert all(len(row["term"]) <= 200 and len(row["category"]) <= 32 for row in rows)
    assert len({(row["term"], row["kind"]) for row in rows}) == len(rows)  # the table's unique constraint
    assert {e.kind for e in DEFAULT_DENYLIST} == {"word", "phrase", "substring", "combo"}


def test_the_user_never_sees_the_term_but_the_log_does():
    decision = check_text("n1gg3r", entries=DEFAULT_DENYLIST)
    assert decision.reason == reason_for("hate") and "nigg" not in decision.reason.lower()
    assert decision.matched == "word: nigger"
    echoing = DenylistEntry("zorblax", "word", "other", "No Zorblax here.")
    assert check_text("a zorblax", entries=[echoing]).reason == reason_for("other")
    own = DenylistEntry("zorblax", "word", "other", "That brand name is reserved.")
    assert check_text("a zorblax", entries=[own]).reason == "That brand name is reserved."


def test_the_most_severe_category_wins_and_every_match_is_listed():
    matches = find_matches("nude schoolgirl, sex", entries=DEFAULT_DENYLIST)
    assert [m.category for m in matches][:1] == ["minors"] and "sexual" in {m.category for m in matches}
    assert check_text("nude schoolgirl, sex", entries=DEFAULT_DENYLIST).category == "minors"


def test_combos_need_every_group_within_the_window():
    entries = [DenylistEntry("red + blue ~2", "combo", "other"), DenylistEntry("a1 + b1 + c1 ~3", "combo", "other")]
    assert not check_text("red green blue", entries=entries).allowed
    assert not check_text("blue green red", entries=entries).allowed  # either order
    assert check_text("red green yellow blue", entries=entries).allowed
    assert check_text("red red red", entries=entries).allowed
    assert not check_text("a1 x b1 c1", entries=entries).allowed
    assert check_text("a1 xx yy b1 c1", entries=entries).allowed and check_text("a1 b1", entries=entries).allowed
    minors = " ".join(["a child"] + ["in a park"] * 9 + ["nude"])  # 29 words apart: one prompt, one image
    assert check_text(minors, entries=DEFAULT_DENYLIST).category == "minors"


def test_the_list_given_is_the_list_used():
    assert check_text("a zorblax", entries=[]).allowed
    assert not check_text("a zorblax", entries=[DenylistEntry("zorblax", "word", "other")]).allowed
    assert check_text("a zorblax", entries=DEFAULT_DENYLIST).allowed


def test_decisions_are_json_safe():
    decision = check_text("hentai", entries=DEFAULT_DENYLIST)
    assert json.loads(json.dumps(decision.as_dict()))["category"] == "sexual"


# The AI check ----------------------------------------------------------------------------------------------

FAST = HttpOptions(connect_timeout=0.5, read_timeout=0.3, retries=2, backoff=0.01, backoff_max=0.05,
                   retry_after_cap=2.0, breaker_fail_max=50, breaker_reset_seconds=30.0)


@pytest.fixture(autouse=True)
def _fresh_breakers() -> Iterator[None]:
    reset_breakers()
    yield
    reset_breakers()


@pytest.fixture
def fake() -> Iterator[FakeModeration]:
    with FakeModeration() as server:
        server.retry_after = "0"
        yield server


@pytest.fixture
def make(fake: FakeModeration) -> Iterator:
    made: list[OpenAIModeration] = []

    def build(**options) -> OpenAIModeration:
        made.append(OpenAIModeration(fake.base_url, "sk-test", **{"http": FAST, **options}))
        return made[-1]

    yield build
    for moderation in made:
        moderation.close()


def test_ai_refuses_flagged_text_with_the_documented_request(make, fake):
    decision = make().check_text("a dragon attack on a castle")
    assert (decision.allowed, decision.source, decision.category) == (False, "ai", "violence")
    assert decision.reason == reason_for("violence") and "violence=0.91" in decision.matched
    sent = fake.requests[0]
    assert sent.path == "/v1/moderations" and sent.headers["authorization"] == "Bearer sk-test"
    assert sent.json == {"model": "omni-moderation-latest", "input": "a dragon attack on a castle"}


def test_ai_allows_clean_text_and_keeps_the_scores(make):
    decision = make().check_text("a quiet harbour at dawn")
    assert (decision.allowed, decision.source) == (True, "ai")
    assert len(decision.scores) == 13 and max(decision.scores.values()) < 0.01


def test_our_threshold_flags_what_the_provider_did_not(make, fake):
    fake.words = {"moody": ("violence", 0.6)}  # below the fake's own flag_at: "flagged" is false
    assert not make(threshold=0.5).check_text("a moody alley").allowed
    assert make(threshold=0.7).check_text("a moody alley").allowed


def test_the_most_severe_ai_category_wins(make, fake):
    fake.words = {"beach": ("sexual", 0.95), "school": ("sexual/minors", 0.85)}
    decision = make().check_text("school beach")
    assert decision.category == "minors" and decision.matched.startswith("sexual/minors=0.85")


@pytest.mark.parametrize(("name", "ours"), [
    ("sexual/minors", "minors"), ("illicit/violent", "illegal"), ("self-harm/intent", "self-harm"),
    ("hate/threatening", "hate"), ("violence/graphic", "violence"), ("harassment", "harassment"),
    ("sexual/new-subcategory", "sexual"), ("spam", "other"),
])
def test_provider_categories_map_to_ours(name: str, ours: str):
    assert our_category(name) == ours


def test_ai_checks_an_image_as_a_downscaled_data_url(make, fake):
    moderation = make(max_image_side=200)
    assert moderation.check_image(images.png(400, 300)).allowed
    (part,) = fake.requests[0].json["input"]
    assert part["type"] == "image_url" and part["image_url"]["url"].startswith("data:image/jpeg;base64,")
    sent = Image.open(io.BytesIO(base64.b64decode(part["image_url"]["url"].split(",", 1)[1])))
    assert (sent.format, sent.size) == ("JPEG", (200, 150))
    fake.image_scores = {"sexual": 0.97}
    decision = moderation.check_image(images.png(400, 300))
    assert (decision.allowed, decision.category) == (False, "sexual")
    assert decision.reason == reason_for("sexual", surface="image")


def test_an_undecodable_image_is_our_bug_not_an_outage(make, fake):
    with pytest.raises(ProviderError) as caught:
        make(fail_closed=False).check_image(b"not an image")
    assert caught.value.code == "bad_image" and not fake.requests
    with pytest.raises(ValidationFailed):
        make().check_image(b"")


@pytest.mark.parametrize("fail_closed", [True, False])
@pytest.mark.parametrize(("mode", "code", "attempts"), [
    ("server_error", "provider_error", 3), ("unavailable", "provider_error", 3), ("unauthorized", "auth_failed", 1),
    ("malformed_body", "bad_response", 1), ("wrong_shape", "bad_response", 1),
])
def test_an_outage_follows_fail_closed(make, fake, mode: str, code: str, attempts: int, fail_closed: bool):
    fake.mode = mode
    decision = make(fail_closed=fail_closed).check_text("a quiet harbour")
    assert (decision.allowed, decision.source, decision.error_code) == (not fail_closed, "ai_unavailable", code)
    assert decision.reason == (UNAVAILABLE_REASON if fail_closed else "")
    assert decision.matched.startswith(f"{code}: ") and len(fake.requests) == attempts


@pytest.mark.parametrize("fail_closed", [True, False])
def test_a_timeout_follows_fail_closed(make, fake, fail_closed: bool):
    fake.mode, fake.hang_seconds = "timeout", 1.0
    quick = HttpOptions(read_timeout=0.2, retries=0, breaker_fail_max=50)
    decision = make(fail_closed=fail_closed, http=quick).check_text("a quiet harbour")
    assert (decision.allowed, decision.error_code) == (not fail_closed, "timeout")


def test_a_rate_limit_is_retried_then_answered(make, fake):
    fake.queue("rate_limited")
    decision = make(fail_closed=True).check_text("an attack")
    assert (decision.allowed, decision.source, decision.category) == (False, "ai", "violence")
    assert len(fake.requests) == 2


def test_a_long_retry_after_is_not_slept_in_process(make, fake):
    fake.mode, fake.retry_after = "rate_limited", "120"
    decision = make().check_text("a quiet harbour")
    assert (decision.allowed, decision.error_code) == (True, "rate_limited") and len(fake.requests) == 1


def test_bad_ai_settings_and_inputs_are_refused(fake):
    with pytest.raises(ValueError, match="threshold"):
        OpenAIModeration(fake.base_url, threshold=0)
    with pytest.raises(ValueError, match="base URL"):
        OpenAIModeration("")
    moderation = OpenAIModeration(fake.base_url, http=FAST)
    with pytest.raises(ValidationFailed):
        moderation.check_text("a" * (MAX_TEXT_CHARS + 1))
    moderation.close()


def test_check_prompt_asks_the_ai_only_when_the_denylist_passes(make, fake):
    ai = make()
    assert check_prompt("hentai", entries=DEFAULT_DENYLIST, ai=ai).source == "denylist"
    assert not fake.requests
    decision = check_prompt("a dragon attack", entries=DEFAULT_DENYLIST, ai=ai)
    assert (decision.source, decision.category) == ("ai", "violence") and len(fake.requests) == 1
    assert check_prompt("a quiet harbour", entries=DEFAULT_DENYLIST).source == "denylist"
