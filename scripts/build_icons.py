"""Build assets/icons/ from two npm packages: the Fluent Emoji Flat set (MIT, Microsoft) in Iconify JSON and
emojilib's keywords (MIT). Run once when updating them; the outputs are committed, so nothing is fetched at
run time.

    npm pack @iconify-json/fluent-emoji-flat@1.2.6 emojilib@4.0.3   # in an empty folder
    python scripts/build_icons.py that-folder

Kept: one icon per thing (no skin-tone or facing variants, no flags, no people-doing-things scenes), and
a word → icon names index made of each icon's own name words and emojilib's keywords for its emoji.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "assets" / "icons"
VARIANT = re.compile(r"-(dark|light|medium|medium-dark|medium-light)$|facing-right|^flag-|"
                     r"^(man|woman|person|people|men|women|family|couple|kiss)-")


def _member(folder: Path, pattern: str, name: str) -> bytes:
    archive = next(folder.glob(pattern))
    with tarfile.open(archive) as tar:
        return tar.extractfile(f"package/{name}").read()


def main(folder: Path) -> None:
    icons = json.loads(_member(folder, "iconify-json-fluent-emoji-flat-*.tgz", "icons.json"))
    chars = json.loads(_member(folder, "iconify-json-fluent-emoji-flat-*.tgz", "chars.json"))
    emojilib = json.loads(_member(folder, "emojilib-*.tgz", "dist/emoji-en-US.json"))
    kept = {name: body for name, body in icons["icons"].items() if not VARIANT.search(name)}
    index: dict[str, list[str]] = {}

    def add(word: str, name: str) -> None:
        word = word.lower().strip()
        if re.fullmatch(r"[a-z][a-z'-]{1,30}", word) and name not in index.setdefault(word, []):
            index[word].append(name)

    for name in kept:  # an icon's own name first: "cat" → cat, "running-shoe" → running, shoe
        add(name, name)
        for word in name.split("-"):
            add(word, name)
    for emoji, words in emojilib.items():
        name = chars.get("-".join(f"{ord(ch):x}" for ch in emoji if ord(ch) != 0xFE0F))
        if name in kept:
            for word in words[1:]:
                for part in word.replace("_", " ").split():
                    add(part, name)
    OUT.mkdir(parents=True, exist_ok=True)
    payload = {"prefix": icons["prefix"], "width": icons.get("width", 32), "height": icons.get("height", 32),
               "icons": kept}
    (OUT / "fluent-emoji-flat.json.gz").write_bytes(
        gzip.compress(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode(), mtime=0))
    (OUT / "keywords.json").write_text(json.dumps(index, separators=(",", ":"), sort_keys=True))
    print(f"{len(kept)} icons, {len(index)} words")  # noqa: T201


if __name__ == "__main__":
    main(Path(sys.argv[1]))
