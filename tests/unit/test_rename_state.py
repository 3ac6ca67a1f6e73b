"""The Rename page's pure decisions: when the grid stops following, and what "add to every name" says."""

from state.rename import ROW_FILTERS, batch_settled, keyword_message


def test_the_grid_follows_a_regenerated_row_until_its_job_ends():
    # Regenerate leaves the batch "ready" while the row's job is queued or running: keep following.
    assert not batch_settled("ready", finished=True, regenerating=True)
    assert batch_settled("ready", finished=True, regenerating=False)
    assert not batch_settled("analyzing", finished=True, regenerating=False)
    assert not batch_settled("ready", finished=False, regenerating=False)


def test_add_keyword_message_says_what_it_did():
    assert keyword_message("acme", {"added": 40, "edited": 3, "already": 0, "left": 0}) == \
        "Added “acme” to 40 names, 3 of them names you edited."
    assert keyword_message("acme", {"added": 1, "edited": 0, "already": 2, "left": 1}) == \
        "Added “acme” to 1 name; 2 already had it; 1 could not take it (no analysis, or no room under the " \
        "length limit)."


def test_needs_a_subject_is_a_filter():
    assert "needs a subject" in ROW_FILTERS
