"""Names typed in the rename review are the user's: kept as typed (stop words, any script, case, spaces) but for
what a file name cannot hold, refused in words when unusable (never replaced by "image"), still unique in the
batch, and the same through the page and the API; the ZIP and the library get them as they are."""

import io
import zipfile

from app.services.auth.sessions import COOKIE_NAME
from state.rename import RenameState, _batch_of
from tests.integration.test_api_auth import ORIGIN, login, register
from tests.integration.test_rename import make_batch
from tests.integration.test_rename_naming import owner_of
from tests.integration.test_state_guards import FakeState


def review_page(api, batch) -> FakeState:
    fake = FakeState(f"{COOKIE_NAME}={api.cookies.get(COOKIE_NAME)}")
    fake.batch_id, fake.regen_job_id = batch["id"], ""
    fake._load_batch = lambda workspace_id: RenameState._show_batch(fake, _batch_of(workspace_id, fake.batch_id, ""))
    fake._load_batch(owner_of(batch))
    return fake


async def save(fake, item_id, typed):
    return await RenameState.event_handlers["save_name"].fn(fake, str(item_id), typed)


def finals(fake) -> list[str]:
    return [r["final"] for r in fake.rows]


async def test_typed_names_are_kept_refused_in_words_and_unique(api, env):
    register(api)
    login(api)
    batch, _ = make_batch(api, count=3)
    first, second, third = (i["id"] for i in batch["items"])
    fake = review_page(api, batch)

    # The walk: "coffee-wooden-table" (a stop word dropped) and "shlvm-vlm" (transliterated).
    assert await save(fake, first, "coffee-on-wooden-table") is None
    assert await save(fake, second, "שלום-עולם") is None
    assert finals(fake)[:2] == ["coffee-on-wooden-table.jpg", "שלום-עולם.jpg"]
    assert [r["edited"] for r in fake.rows] == ["yes", "yes", ""]

    # Empty: refused in words, the stored name stays, and the box is put back to it (its key changes).
    before = dict(fake.rows[0])
    answer = await save(fake, first, "   ")
    assert "cannot be empty" in str(answer) and "image" not in finals(fake)[0]
    assert finals(fake)[0] == "coffee-on-wooden-table.jpg" and fake.rows[0]["reset"] != before["reset"]

    # The same name twice in a batch: the second gets a number, and the page says why.
    answer = await save(fake, third, "Coffee-On-Wooden-Table")
    assert finals(fake)[2] == "Coffee-On-Wooden-Table-2.jpg"
    assert "another image in this batch already has that name" in str(answer)
    # What a file cannot hold is replaced, and the page says so.
    answer = await save(fake, third, "menu: lunch/dinner")
    assert finals(fake)[2] == "menu- lunch-dinner.jpg" and "cannot hold" in str(answer)

    # A blur with no change is no edit.
    assert await save(fake, third, finals(fake)[2]) is None

    # The ZIP and the library get the names as they are.
    archive = zipfile.ZipFile(io.BytesIO(api.get(f"/api/v1/rename/batches/{batch['id']}/download").content))
    assert archive.namelist()[:3] == ["coffee-on-wooden-table.jpg", "שלום-עולם.jpg", "menu- lunch-dinner.jpg"]
    assert api.post(f"/api/v1/rename/batches/{batch['id']}/apply", headers=ORIGIN).json() == {"renamed": 3}
    names = {a["filename"] for a in api.get("/api/v1/assets").json()["assets"]}
    assert {"coffee-on-wooden-table.jpg", "שלום-עולם.jpg", "menu- lunch-dinner.jpg"} <= names


async def test_the_api_keeps_a_typed_name_the_same_way(api, env):
    register(api)
    login(api)
    batch, _ = make_batch(api, count=1)
    url = f"/api/v1/rename/batches/{batch['id']}/items/{batch['items'][0]['id']}"
    assert api.patch(url, json={"final_name": "coffee-on-wooden-table"}, headers=ORIGIN).json()["final_name"] == \
        "coffee-on-wooden-table.jpg"
    empty = api.patch(url, json={"final_name": ""}, headers=ORIGIN)
    assert empty.status_code == 422 and "cannot be empty" in empty.json()["error"]["message"]
