"""The Rename page's pure decisions: when the grid stops following, and what "add to every name" says."""

from state.rename import ROW_FILTERS, batch_settled, keyword_message


def test_the_grid_follows_a_regenerated_row_until_it_is_named():
    rows = [{"status": "done"}, {"status": "pending"}]
    # Regenerate puts the row back to pending while the batch still reads "ready": keep following.
    assert not batch_settled("ready", finished=True, rows=rows)
    assert batch_settled("ready", finished=True, rows=[{"status": "done"}, {"status": "failed"}])
    assert not batch_settled("analyzing", finished=True, rows=[{"status": "done"}])
    assert not batch_settled("ready", finished=False, rows=[{"status": "done"}])


def test_add_keyword_message_says_what_it_did():
    assert keyword_message("acme", {"added": 40, "edited": 3, "already": 0, "left": 0}) == \
        "Added “acme” to 40 names, 3 of them names you edited."
    assert keyword_message("acme", {"added": 1, "edited": 0, "already": 2, "left": 1}) == \
        "Added “acme” to 1 name; 2 already had it; 1 could not take it (no analysis, or no room under the " \
        "length limit)."


def test_needs_a_subject_is_a_filter():
    assert "needs a subject" in ROW_FILTERS
