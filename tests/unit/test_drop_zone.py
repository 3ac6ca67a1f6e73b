"""The drop zone takes its `on_done` event: the Rename page binds its handler, the Assets page none, and the
upload handler calls what was bound (state/assets.py `_dropped`) without importing the page that bound it."""

import re

from reflex_base.utils import format

from components.library.drop_zone import _start_upload, drop_zone
from state.assets import _dropped
from state.handoff import HandoffState
from state.rename import RenameState
from state.workflows import WorkflowsState


def test_the_rename_page_binds_its_handler_and_the_assets_page_none():
    def bound(spec) -> str:
        return next(str(value) for name, value in spec.args if str(name) == "on_done")

    assert bound(_start_upload(RenameState.take_uploads)) == \
        f'"{format.format_event_handler(RenameState.take_uploads)}"'
    assert bound(_start_upload(None)) == '""'
    drop_zone(on_done=RenameState.take_uploads).render()  # Reflex accepts it as the on_drop chain


def test_the_upload_calls_the_bound_handler_with_the_dropped_ids():
    spec = _dropped(format.format_event_handler(RenameState.take_uploads), ["4", "5"])
    assert spec.handler.fn.__name__ == "take_uploads" and spec.handler.state_full_name == \
        RenameState.get_full_name()
    assert [str(value) for _, value in spec.args] == ['["4", "5"]']
    # A name that is no handler (it comes from the browser): nothing is called.
    assert _dropped("state.no_such_state.take_uploads", ["4"]) is None
    assert _dropped(RenameState.get_full_name() + ".no_such_handler", ["4"]) is None


def test_a_handoff_is_taken_once_by_the_page_it_was_meant_for():
    handoff = HandoffState(_reflex_internal_init=True)
    handoff.give_chosen("/rename", [1, 2])
    assert handoff.take_chosen("/workflows") == []
    assert handoff.take_chosen("/rename") == ["1", "2"]
    assert handoff.take_chosen("/rename") == []
    handoff.give_deleted([7])
    assert handoff.take_deleted() == ["7"] and handoff.take_deleted() == []
    assert WorkflowsState.get_full_name() != RenameState.get_full_name()


def test_the_drop_sends_the_dropped_names_with_the_upload():
    # Read from the on_drop callback's own argument: the names of the files the upload is about to send, so an
    # interrupted upload can list those it never received (state/assets.py handle_upload).
    hooks = " ".join(drop_zone()._get_all_hooks())
    callback = re.search(r"on_drop_\w+ = useCallback\(\(\((\w+)\) => .*?\"uploadFiles\"", hooks)
    assert callback is not None
    files = callback.group(1)
    assert f'["files"] : {files},' in callback.group(0)
    assert re.search(rf'\["names"\] : {files}\.map\(\(\((\w+)\) => \1\?\.\["name"\]\)\)', callback.group(0))
    assert '["__reflex_event_arg_names"] : ["on_done", "names"]' in callback.group(0)
