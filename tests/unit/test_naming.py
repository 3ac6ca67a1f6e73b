"""Naming rules: properties over any unicode input, and one example per rule."""

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.services.rename import naming
from app.services.rename.naming import (
    CASES,
    RESERVED,
    TOKENS,
    compose_name,
    normalise_extension,
    unique_names,
    validate_template,
    words_from_filename,
)

PATTERNS = {
    "kebab": re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$"),
    "snake": re.compile(r"^[a-z0-9]+(_[a-z0-9]+)*$"),
    "camel": re.compile(r"^[a-z0-9][A-Za-z0-9]*$"),
    "title": re.compile(r"^[A-Z0-9][a-z0-9]*(-[A-Z0-9][a-z0-9]*)*$"),
}
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*\.[a-z]+$")
UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*\u202a-\u202e\u2066-\u2069]')
EXTS = ["jpg", "JPEG", ".jpe", "image/jpeg", "png", "image/png", "webp", "gif", "tiff", "tif", "heic", "heif"]

fields_strategy = st.dictionaries(st.sampled_from(TOKENS), st.text(max_size=80), max_size=len(TOKENS))
template_strategy = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=5).flatmap(
    lambda tokens: st.sampled_from(["-", "_", " ", "", "-x-"]).map(lambda sep: sep.join(f"{{{t}}}" for t in tokens))
)


@settings(max_examples=300, deadline=None)
@given(fields=fields_strategy, template=template_strategy, case=st.sampled_from(CASES),
       max_length=st.integers(10, 200), index=st.integers(0, 10_000))
@example(fields={"date": "000000:A0"}, template="{date}-{index}", case="title", max_length=10, index=0)  # a cut date
def test_any_input_gives_a_safe_name(fields, template, case, max_length, index):
    name = compose_name(fields, template=template, case=case, max_length=max_length, index=index)
    assert name.isascii()
    assert PATTERNS[case].match(name), name
    assert 0 < len(name) <= max_length
    assert name.lower() not in RESERVED
    assert compose_name(fields, template=template, case=case, max_length=max_length, index=index) == name


@settings(max_examples=200, deadline=None)
@given(batch=st.lists(st.tuples(fields_strategy, st.sampled_from(EXTS)), max_size=25),
       case=st.sampled_from(CASES), max_length=st.integers(10, 80))
def test_unique_names_are_unique_stable_and_bounded(batch, case, max_length):
    # Few distinct fields on purpose: many batches then hold duplicates to resolve.
    stems = [compose_name(fields, template="{subject}", case=case, max_length=max_length) for fields, _ in batch]
    exts = [ext for _, ext in batch]
    names = unique_names(stems, exts, case=case)
    assert len(names) == len(stems)
    assert len({n.lower() for n in names}) == len(names)
    assert unique_names(stems, exts, case=case) == names  # the same batch always gets the same names
    assert unique_names([n.rsplit(".", 1)[0] for n in names], exts, case=case) == names  # re-running is a no-op
    longest_suffix = 1 + len(str(len(stems) + 11))  # a separator and the largest number the batch can need
    seen: set[str] = set()
    for stem, ext, name in zip(stems, exts, names, strict=True):
        assert SAFE_NAME.match(name), name
        assert name.endswith(normalise_extension(ext))
        assert len(name) <= max_length + longest_suffix + len(normalise_extension(ext))
        assert name.rsplit(".", 1)[0].lower() not in RESERVED
        wanted = stem + normalise_extension(ext)
        if wanted.lower() not in seen:  # the first file with a name keeps it untouched
            assert name == wanted
        seen.add(wanted.lower())


@settings(max_examples=200, deadline=None)
@given(stems=st.lists(st.text(max_size=40), max_size=12), case=st.sampled_from([*CASES, None]))
def test_unique_names_survive_hand_typed_stems(stems, case):
    names = unique_names(stems, ["png"] * len(stems), case=case)
    assert len({n.lower() for n in names}) == len(stems)
    for name in names:  # a name a file can hold; the typed letters themselves may be of any script
        stem = name.removesuffix(".png")
        assert stem and not UNSAFE.search(stem) and stem[0] not in ".- " and stem[-1] not in ". ", name
        assert stem.lower() not in RESERVED


@pytest.mark.parametrize("typed, stem", [
    ("coffee-on-wooden-table", "coffee-on-wooden-table"),  # no stop word dropped
    ("שלום-עולם", "שלום-עולם"),  # no transliteration
    ("Été à Paris!.png", "Été à Paris!"),  # the file's own type gives the extension
    ("Golden  hour\t", "Golden hour"),
    ("v1.2 final", "v1.2 final"),
    ("a/b\\c: d?", "a-b-c- d-"),
    (".hidden.", "hidden"),
    ("-rf", "rf"),
    ("e\u0301te", "\u00e9te"),  # one way to write é (NFC), as macOS and the web differ
    ("x\u202egpj.exe", "x-gpj.exe"),  # a right-to-left override that would show "exe.jpg"
])
def test_a_typed_name_is_kept_but_for_what_a_file_cannot_hold(typed, stem):
    assert naming.typed_stem(typed) == stem


@pytest.mark.parametrize("typed, words", [
    ("", "cannot be empty"), ("   ", "cannot be empty"), ("---", "cannot be empty"), (".png", "cannot be empty"),
    ("con", "Windows keeps"), ("LPT1.draft", "Windows keeps"),
    ("a" * 201, "at most 200"), ("ש" * 130, "too long for a file name"),
])
def test_a_typed_name_a_file_cannot_take_is_refused_in_words(typed, words):
    with pytest.raises(ValueError, match=words):
        naming.typed_stem(typed)


def test_the_notice_says_what_changed_from_what_was_typed():
    assert naming.typed_name_notice("coffee on table", "coffee on table.jpg") == ""
    assert naming.typed_name_notice("coffee.jpg", "coffee.jpg") == ""
    assert naming.typed_name_notice("coffee", "coffee-2.jpg") == (
        "Saved as “coffee-2.jpg”: another image in this batch already has that name.")
    assert "cannot hold" in naming.typed_name_notice("a/b", "a-b.jpg")
    assert "own type" in naming.typed_name_notice("a.png", "a.jpg")


@given(name=st.text(max_size=60))
def test_filename_words_are_plain_ascii_words(name):
    words = words_from_filename(name)
    assert all(re.fullmatch(r"[a-z0-9]{2,}", w) for w in words)
    assert len(words) == len(set(words))


# --- one example per rule -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("Café crème", "cafe-creme"),
    ("Straße", "strasse"),
    ("北京", "bei-jing"),
    ("Dad's bike", "dads-bike"),
    ("Ørsted Æble Œuvre", "orsted-aeble-oeuvre"),
])
def test_transliteration(text, expected):
    assert compose_name({"subject": text}) == expected


def test_stop_words_and_duplicates_are_dropped():
    fields = {"keywords": "bike, red bike", "subject": "The red bike of the year", "detail": "with a bell in Paris"}
    assert compose_name(fields) == "bike-red-year-bell-paris"


def test_a_value_made_only_of_stop_words_is_kept():
    assert compose_name({"subject": "The The"}) == "the"


def test_words_in_the_template_itself_stay():
    assert compose_name({"subject": "bike", "place": "Paris"}, template="{subject}-in-{place}") == "bike-in-paris"


def test_cut_on_a_word_boundary():
    fields = {"subject": "lighthouse harbour sunset evening"}
    assert compose_name(fields, max_length=20) == "lighthouse-harbour"
    assert compose_name(fields, max_length=24) == "lighthouse-harbour"
    assert compose_name(fields, max_length=25) == "lighthouse-harbour-sunset"


def test_a_single_long_word_is_cut_mid_word():
    assert compose_name({"subject": "x" * 80 + " tail"}, max_length=12) == "x" * 12


def test_index_survives_the_cut():
    fields = {"subject": "lighthouse harbour sunset evening"}
    assert compose_name(fields, template="{subject}-{index}", max_length=22, index=12) == "lighthouse-harbour-12"


@pytest.mark.parametrize("case, expected", [
    ("kebab", "red-bike-paris"),
    ("snake", "red_bike_paris"),
    ("camel", "redBikeParis"),
    ("title", "Red-Bike-Paris"),
])
def test_case_styles(case, expected):
    assert compose_name({"keywords": "red", "subject": "bike", "detail": "Paris"}, case=case) == expected


def test_unknown_case_style():
    with pytest.raises(ValueError, match="case style"):
        compose_name({"subject": "bike"}, case="shout")


def test_template_tokens_and_empty_tokens_vanish():
    fields = {"subject": "Bike", "color": "red", "date": "2024-05-01", "camera": "Canon EOS R5", "place": "Paris"}
    template = "{color}_{subject}-{keywords}-{detail}-{place}-{date}-{camera}-{index}"
    assert compose_name(fields, template=template, index=3, max_length=80) == \
        "red-bike-paris-2024-05-01-canon-eos-r5-3"
    # A date is one unit: its numbers are neither de-duplicated nor split by the cut.
    assert compose_name({"date": "2024-01-01"}, template="{date}") == "2024-01-01"
    assert compose_name({"date": "2024-01-01"}, template="{date}", case="camel") == "20240101"


def test_validate_template():
    assert validate_template("{keywords}-{subject}-{detail}") == ["keywords", "subject", "detail"]
    with pytest.raises(ValueError, match=r"Unknown token \{colour\}"):
        validate_template("{subject}-{colour}")
    with pytest.raises(ValueError, match="unmatched"):
        validate_template("{subject")
    with pytest.raises(ValueError, match="no token"):
        validate_template("holiday")
    with pytest.raises(ValueError, match="empty"):
        validate_template(" ")
    with pytest.raises(ValueError, match="Unknown token"):
        compose_name({"subject": "bike"}, template="{nope}")


def test_max_length_bounds():
    with pytest.raises(ValueError, match="between"):
        compose_name({"subject": "bike"}, max_length=3)


@pytest.mark.parametrize("subject, case, expected", [
    ("con", "kebab", "con-image"),
    ("PRN", "snake", "prn_image"),
    ("Aux", "camel", "auxImage"),
    ("nul", "title", "Nul-Image"),
    ("COM1", "kebab", "com1-image"),
    ("lpt9", "kebab", "lpt9-image"),
    ("console", "kebab", "console"),
])
def test_reserved_names_get_a_suffix(subject, case, expected):
    assert compose_name({"subject": subject}, case=case) == expected


def test_never_empty_hidden_or_dash_led():
    assert compose_name({}) == "image"
    assert compose_name({"subject": "…!!! 🚲"}, case="title") == "Image"
    assert unique_names([".htaccess", "-rf", ""], ["png", "png", "png"]) == ["htaccess.png", "rf.png", "image.png"]
    assert unique_names(["_draft", "Café crème"], ["png", "png"]) == ["_draft.png", "Café crème.png"]


@pytest.mark.parametrize("value, expected", [
    ("jpeg", ".jpg"), ("JPG", ".jpg"), (".jpe", ".jpg"), ("image/jpeg", ".jpg"), ("image/pjpeg", ".jpg"),
    ("png", ".png"), ("image/x-png", ".png"), ("image/webp", ".webp"), ("GIF", ".gif"),
    ("tiff", ".tif"), ("image/tiff", ".tif"), ("heic", ".heic"), ("heif", ".heic"), ("image/heif", ".heic"),
])
def test_normalise_extension(value, expected):
    assert normalise_extension(value) == expected


@pytest.mark.parametrize("value", ["", "exe", "text/plain", "application/jpeg"])
def test_normalise_extension_refuses_other_types(value):
    with pytest.raises(ValueError):
        normalise_extension(value)


def test_unique_names_suffixes_per_style():
    assert unique_names(["a", "a", "a-2", "A"], ["jpg", "jpeg", "jpg", "image/jpeg"]) == \
        ["a.jpg", "a-3.jpg", "a-2.jpg", "A-4.jpg"]
    assert unique_names(["red_bike", "red_bike"], ["png", "png"], case="snake") == ["red_bike.png", "red_bike_2.png"]
    assert unique_names(["redBike", "redBike"], ["png", "png"], case="camel") == ["redBike.png", "redBike2.png"]
    assert unique_names(["shot2024", "shot2024"], ["png", "png"], case="camel") == ["shot2024.png", "shot2024_2.png"]
    assert unique_names(["Red-Bike", "red-bike"], ["png", "png"], case="title") == ["Red-Bike.png", "red-bike-2.png"]
    # Same stem, different type: different files, no suffix needed.
    assert unique_names(["a", "a"], ["jpg", "png"]) == ["a.jpg", "a.png"]
    # A suffix never makes a device name ("com" + "2" would be COM2).
    assert unique_names(["com", "com"], ["jpg", "jpg"], case="camel") == ["com.jpg", "com10.jpg"]


def test_unique_names_reads_the_style_when_not_told():
    stems = ["red-bike", "red-bike", "red_bike", "red_bike", "redBike", "redBike", "Red-Bike", "bike", "bike"]
    assert unique_names(stems, ["jpg"] * len(stems)) == [
        "red-bike.jpg", "red-bike-2.jpg", "red_bike.jpg", "red_bike_2.jpg", "redBike.jpg", "redBike2.jpg",
        "Red-Bike-3.jpg", "bike.jpg", "bike-2.jpg"]


def test_unique_names_needs_one_extension_per_stem():
    with pytest.raises(ValueError):
        unique_names(["a"], [])


@pytest.mark.parametrize("name, expected", [
    ("IMG_1234.JPG", []),
    ("DSC01234.jpg", []),
    ("DSCF0001.JPG", []),
    ("PXL_20230101_123456789.jpg", []),
    ("IMG-20230101-WA0001.jpeg", []),
    ("P1010001.JPG", []),
    ("GOPR0001.jpg", []),
    ("Screenshot 2024-01-01 at 10.00.00 PM.png", ["screenshot"]),
    ("Screen Shot 2020-01-01 at 1.02.03.png", ["screenshot"]),
    ("3f2a9c1d-1234-4abc-9def-0123456789ab.png", []),
    ("a3f9c2e1b7.webp", []),
    ("Eiffel Tower copy (2) final edited.jpg", ["eiffel", "tower"]),
    ("beach2023_v2.jpg", ["beach"]),
    ("IMG_1234 Red Bicycle.heic", ["red", "bicycle"]),
    ("uploads/2024/Café-de-Flore.tiff", ["cafe", "de", "flore"]),
    ("SummerHoliday.png", ["summer", "holiday"]),
    ("iPhone15 sunset sunset.jpg", ["iphone15", "sunset"]),
])
def test_words_from_filename(name, expected):
    assert words_from_filename(name) == expected


# --- a name is never worse than the original --------------------------------------------------------

@pytest.mark.parametrize("fields, original, expected", [
    ({"subject": "", "keywords": ""}, "DSC_0412.JPG", "DSC_0412"),  # a bare camera name keeps its stem
    ({"subject": "", "keywords": ""}, "PXL_20240501_101112.jpg", "PXL_20240501_101112"),
    ({"subject": "", "keywords": "acme"}, "IMG_2001.JPG", "acme"),
    ({"subject": "", "keywords": "acme", "date": "2024-05-01", "place": "Paris"}, "DJI_0042.JPG",
     "acme-2024-05-01-paris"),
    ({"subject": "", "keywords": "", "date": "2024-05-01", "detail": "black"}, "IMG_1.jpg", "2024-05-01"),
    ({"subject": "beach sunset", "keywords": "acme", "detail": "orange"}, "beach-sunset-2.jpg",
     "acme-beach-sunset-orange"),
])
def test_compose_item_name(fields, original, expected):
    assert naming.compose_item_name(fields, original_name=original) == expected


def test_clean_tags():
    assert naming.clean_tags(["The", "of Acme", "red  Bicycle", "red bicycle", "", "at the beach"]) == [
        "acme", "red bicycle", "beach"]
