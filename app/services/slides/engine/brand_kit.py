"""Brand kits: an uploaded .pptx/.potx whose masters, layouts, fonts, colours and logo decks are
generated into.

`load_brand_kit` checks the upload (a real OOXML presentation, no macros, bounded sizes, no zip
bomb), opens it as the base presentation with its own slides removed, and reads what the preview
and the fitter need (`brand_design.py`): theme fonts and colours, the logo, and which of its
layouts each of our slide kinds goes into.
"""

from __future__ import annotations

import io
import logging
import zipfile
from dataclasses import dataclass

from lxml import etree
from pptx import Presentation
from pptx.opc.constants import RELATIONSHIP_TYPE as RT
from pptx.oxml.ns import qn

from app.errors import TooLarge, ValidationFailed
from app.services.slides.engine.brand_design import design_from_presentation
from app.services.slides.engine.layout import Design

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 40 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_ENTRY_BYTES = 80 * 1024 * 1024
MAX_ENTRIES = 3000
MAX_RATIO = 150  # uncompressed ÷ compressed for a large entry; XML rarely passes 30, media stays near 1

_CT_NS = "{http://schemas.openxmlformats.org/package/2006/content-types}"
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_OFFICE_DOCUMENT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
_PML = "application/vnd.openxmlformats-officedocument.presentationml"
PRESENTATION_CT = f"{_PML}.presentation.main+xml"
_CONVERTIBLE = {f"{_PML}.template.main+xml": ".potx", f"{_PML}.slideshow.main+xml": ".ppsx"}
_VBA_CT = "application/vnd.ms-office.vbaProject"
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


# What the designer sees, with what to do: not how the file failed to parse.
NOT_A_PRESENTATION = ("This file is not a PowerPoint presentation or template. Save your brand template "
                      "as a .pptx or .potx file (File → Save As in PowerPoint or Keynote), then upload it again.")
INCOMPLETE = ("This PowerPoint file is incomplete: parts of it are missing. Open it in PowerPoint, save it "
              "again as a .pptx or .potx file, then upload it again.")


class BrandKitInvalid(ValidationFailed):
    code = "brand_kit_invalid"


class BrandKitTooLarge(TooLarge):
    code = "brand_kit_too_large"


@dataclass(frozen=True)
class BrandKit:
    name: str  # the template's theme name
    base_pptx: bytes  # the upload as a .pptx with no slides: decks are built on it
    design: Design
    heading_font: str
    body_font: str
    colors: dict[str, str]  # dk1, lt1, dk2, lt2, accent1..6 → RRGGBB
    logo: bytes | None  # the logo picture found on the master (or first layout), as stored
    layout_names: dict[str, str]  # our slide kind → the template layout used


def load_brand_kit(data: bytes) -> BrandKit:
    """Validate an uploaded .pptx/.potx and prepare it as a brand kit.

    Raises BrandKitInvalid (not a presentation, macros, damaged) or BrandKitTooLarge.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise BrandKitTooLarge(f"the brand template is {len(data) / 1e6:.1f} MB; the limit is "
                               f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    package = _checked_package(data)
    try:
        prs = Presentation(io.BytesIO(package))
    except Exception as exc:  # python-pptx raises KeyError, XMLSyntaxError, ValueError… on damaged parts
        raise BrandKitInvalid(f"the brand template is damaged and could not be opened ({exc})") from exc
    _remove_slides(prs)
    if len(prs.slide_layouts) == 0:
        raise BrandKitInvalid("the brand template has no slide layouts")
    try:
        theme_xml = prs.slide_master.part.part_related_by(RT.THEME).blob
        design, info = design_from_presentation(prs, etree.fromstring(theme_xml, _SAFE_XML))
    except BrandKitInvalid:
        raise
    except (KeyError, ValueError, TypeError, AttributeError, etree.XMLSyntaxError) as exc:
        # A structure we do not understand (no theme part, odd attribute values): a clear refusal,
        # with the cause in the log for us.
        log.warning("brand template not readable", exc_info=True)
        raise BrandKitInvalid(f"the brand template's masters and layouts could not be read ({exc})") from exc
    out = io.BytesIO()
    prs.save(out)
    return BrandKit(name=info.name, base_pptx=out.getvalue(), design=design, heading_font=info.heading_font,
                    body_font=info.body_font, colors=info.colors, logo=info.logo, layout_names=info.layout_names)


def _checked_package(data: bytes) -> bytes:
    """The package bytes python-pptx can open, after every check; a template or slide show gets the
    presentation content type (same parts, different label)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise BrandKitInvalid(NOT_A_PRESENTATION) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ENTRIES:
            raise BrandKitInvalid(f"the brand template holds {len(infos)} files; at most {MAX_ENTRIES} are allowed")
        declared = sum(info.file_size for info in infos)
        if declared > MAX_UNCOMPRESSED_BYTES:
            raise BrandKitTooLarge(f"the brand template unpacks to {declared / 1e6:.0f} MB; the limit is "
                                   f"{MAX_UNCOMPRESSED_BYTES // (1024 * 1024)} MB")
        for info in infos:
            if info.file_size > 1024 * 1024 and info.file_size > MAX_RATIO * max(1, info.compress_size):
                raise BrandKitInvalid(f"the brand template looks like a zip bomb ({info.filename} would unpack "
                                      f"to {info.file_size / 1e6:.0f} MB from {info.compress_size} bytes)")
        names = {info.filename for info in infos}
        if "[Content_Types].xml" not in names:
            raise BrandKitInvalid(INCOMPLETE)
        # Read every entry with a running total: the sizes in the ZIP headers can lie.
        contents: dict[str, bytes] = {}
        total = 0
        for info in infos:
            if info.is_dir():
                continue
            contents[info.filename] = _read_bounded(archive, info, MAX_UNCOMPRESSED_BYTES - total)
            total += len(contents[info.filename])
    content_types = _parse(contents["[Content_Types].xml"], "[Content_Types].xml")
    main = _main_part(contents)
    overrides = {e.get("PartName", ""): e.get("ContentType", "") for e in content_types.iter(f"{_CT_NS}Override")}
    defaults = [e.get("ContentType", "") for e in content_types.iter(f"{_CT_NS}Default")]
    if (_VBA_CT in overrides.values() or _VBA_CT in defaults
            or any(name.lower().endswith("vbaproject.bin") for name in contents)):
        raise BrandKitInvalid("the brand template contains macros; save it as a .pptx or .potx without macros "
                              "(File → Save As → PowerPoint Presentation) and upload it again")
    main_type = overrides.get(f"/{main}", "")
    if "macroEnabled" in main_type:
        raise BrandKitInvalid("the brand template is macro-enabled (.pptm/.potm); save it as a .pptx or .potx "
                              "and upload it again")
    if main_type in _CONVERTIBLE:
        for element in content_types.iter(f"{_CT_NS}Override"):
            if element.get("PartName") == f"/{main}":
                element.set("ContentType", PRESENTATION_CT)
        contents["[Content_Types].xml"] = etree.tostring(content_types, xml_declaration=True, encoding="UTF-8",
                                                         standalone=True)
    elif main_type != PRESENTATION_CT:
        raise BrandKitInvalid(f"the brand template is not a PowerPoint presentation or template "
                              f"(its main part is {main_type or 'missing'})")
    out = io.BytesIO()
    # Stored, not deflated: python-pptx reads it once and writes its own compressed copy.
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as rebuilt:
        for name, blob in contents.items():
            rebuilt.writestr(name, blob)
    return out.getvalue()


def _read_bounded(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    limit = min(budget, MAX_ENTRY_BYTES)
    chunks, size = [], 0
    try:
        with archive.open(info) as stream:
            while chunk := stream.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise BrandKitInvalid(f"the brand template looks like a zip bomb ({info.filename} unpacks to "
                                          f"more than {limit / 1e6:.0f} MB)")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
        raise BrandKitInvalid(f"the brand template is damaged ({info.filename}: {exc})") from exc
    return b"".join(chunks)


def _parse(blob: bytes, name: str) -> etree._Element:
    try:
        return etree.fromstring(blob, _SAFE_XML)
    except etree.XMLSyntaxError as exc:
        raise BrandKitInvalid(f"the brand template is damaged ({name} is not valid XML)") from exc


def _main_part(contents: dict[str, bytes]) -> str:
    if "_rels/.rels" not in contents:
        raise BrandKitInvalid(INCOMPLETE)
    rels = _parse(contents["_rels/.rels"], "_rels/.rels")
    for rel in rels.iter(f"{_REL_NS}Relationship"):
        if rel.get("Type") == _OFFICE_DOCUMENT:
            target = rel.get("Target", "").lstrip("/")
            if target in contents:
                return target
    raise BrandKitInvalid(INCOMPLETE)


def _remove_slides(prs) -> None:
    """Drop the template's own slides (and the section list that names them)."""
    sld_id_lst = prs.slides._sldIdLst
    for sld_id in list(sld_id_lst):
        rel_id = sld_id.get(qn("r:id"))
        sld_id_lst.remove(sld_id)
        prs.part.drop_rel(rel_id)  # the slide and what only it used (notes, media) are not saved
    pres = prs.part._element
    for tag in ("p:custShowLst",):
        for element in pres.findall(qn(tag)):
            pres.remove(element)
    ext_lst = pres.find(qn("p:extLst"))
    if ext_lst is not None:
        for ext in list(ext_lst):
            if any(child.tag.endswith("}sectionLst") for child in ext):
                ext_lst.remove(ext)
