"""The starter denylist an admin seeds from: (term, kind, category, reason) rows.

Moderate on purpose: it blocks what an image studio must not make and leaves ambiguous words to the
optional AI check rather than refusing innocent prompts. A filter has to contain the words it filters, so
the few slurs are written out plainly here; users never see a term (see DenylistEntry.user_reason).

Left out on purpose, because innocent uses are common in image prompts: "cock" (a rooster), "dick"
("Moby Dick", "Dick Van Dyke"), "pussy" ("pussy willow"), "tits" ("blue tits" are birds), "booby" (a bird),
"cum" ("summa cum laude"), "gore" alone ("Al Gore"), "nude" alone ("nude lipstick", "nude heels"), "naked"
alone ("naked eye", "naked flame"), "topless" alone (a convertible), "stripper" ("paint stripper"),
"suicide" alone ("suicide prevention poster", "Suicide Squad"), "bomb" alone ("bath bomb"), "chink" ("a
chink in the armour"), "fag" (a cigarette in British English), "swastika" (a Hindu and Buddhist symbol).
Nudity, minors and weapons are therefore combos: they refuse a word only next to the words that make it bad.
"""

from __future__ import annotations

# Regular plurals ("girls", "bodies") come from inflection; only irregular ones are listed.
_PEOPLE = ("woman|women|man|men|girl|boy|lady|guy|person|people|couple|female|male|wife|girlfriend|boyfriend|"
           "actress|celebrity|body|breasts|1girl|1boy")
_NUDITY = "nude|naked|nudity|topless|undressed|unclothed"
# Words that put a person in the picture without naming one: "nude portrait" is a person, "nude lipstick" is not.
_PERSON_PICTURE = "portrait|model|figure|selfie|boudoir|pinup|pin-up|headshot|self-portrait|photoshoot"
# Two lists of minors, so each combo fits the 200-character term column.
_MINORS = "child|children|kid|minor|underage|preteen|toddler|infant|teen|teenager"
_YOUNG = "schoolgirl|schoolboy|little girl|little boy|young girl|young boy|tween"
_SUGGESTIVE = "sex|sexy|sexual|erotic|porn|lingerie|seductive|provocative|fetish|bikini|nsfw"
_GROUPS = "jews|jewish people|muslims|blacks|gays|christians|immigrants|arabs|mexicans|asians|women"

DEFAULT_TERMS: list[tuple[str, str, str, str]] = [
    # Minors with anything sexual or suggestive: refused anywhere in the same prompt (one prompt, one image).
    (f"{_MINORS} + {_NUDITY} ~30", "combo", "minors", ""),
    (f"{_MINORS} + {_SUGGESTIVE} ~30", "combo", "minors", ""),
    (f"{_YOUNG} + {_NUDITY} ~30", "combo", "minors", ""),
    (f"{_YOUNG} + {_SUGGESTIVE} ~30", "combo", "minors", ""),
    ("lolicon", "word", "minors", ""),
    ("shotacon", "word", "minors", ""),
    ("loli", "word", "minors", ""),
    ("jailbait", "word", "minors", ""),
    ("pedophil", "substring", "minors", ""),  # pedophile, pedophilia, pedophilic
    ("paedophil", "substring", "minors", ""),
    # Sexual content.
    # Within two words: "a woman posing naked" is refused, "a woman in a nude-coloured dress" is not.
    (f"{_NUDITY} + {_PEOPLE} ~2", "combo", "sexual", ""),
    (f"{_NUDITY} + {_PERSON_PICTURE} ~1", "combo", "sexual", ""),
    ("porn", "substring", "sexual", ""),  # porno, pornographic, pornstar, softporn
    ("sex", "word", "sexual", ""),
    ("fuck", "word", "sexual", ""),
    ("fucker", "word", "sexual", ""),
    ("cunt", "word", "sexual", ""),
    ("hentai", "word", "sexual", ""),
    ("nsfw", "word", "sexual", ""),
    ("erotic", "word", "sexual", ""),
    ("erotica", "word", "sexual", ""),
    ("blow job", "phrase", "sexual", ""),
    ("hand job", "phrase", "sexual", ""),
    ("cumshot", "word", "sexual", ""),
    ("creampie", "word", "sexual", ""),
    ("gangbang", "word", "sexual", ""),
    ("orgy", "word", "sexual", ""),
    ("sexual intercourse", "phrase", "sexual", ""),
    ("penis", "word", "sexual", ""),
    ("vagina", "word", "sexual", ""),
    ("vulva", "word", "sexual", ""),
    ("genitals", "word", "sexual", ""),
    ("genitalia", "word", "sexual", ""),
    ("clitoris", "word", "sexual", ""),
    ("dildo", "word", "sexual", ""),
    ("masturbate", "word", "sexual", ""),
    ("masturbation", "word", "sexual", ""),
    ("ejaculate", "word", "sexual", ""),
    ("ejaculation", "word", "sexual", ""),
    ("fellatio", "word", "sexual", ""),
    ("cunnilingus", "word", "sexual", ""),
    ("boobs", "word", "sexual", ""),
    ("titties", "word", "sexual", ""),
    ("bdsm", "word", "sexual", ""),
    ("bondage", "word", "sexual", ""),
    ("striptease", "word", "sexual", ""),
    ("upskirt", "word", "sexual", ""),
    ("rape", "word", "sexual", ""),
    ("rapist", "word", "sexual", ""),
    ("molest", "word", "sexual", ""),
    ("molestation", "word", "sexual", ""),
    # Self-harm: instructions and encouragement, not the topic itself.
    ("kill|hang|harm|starve + myself|yourself|himself|herself|themselves ~2", "combo", "self-harm", ""),
    ("slit|slitting|slash|slashing|cut|cutting + wrist|wrists ~2", "combo", "self-harm", ""),
    ("how to commit suicide", "phrase", "self-harm", ""),
    ("painless suicide", "phrase", "self-harm", ""),
    ("suicide method", "phrase", "self-harm", ""),
    ("kys", "word", "self-harm", ""),
    ("thinspo", "word", "self-harm", ""),
    ("thinspiration", "word", "self-harm", ""),
    ("pro ana", "phrase", "self-harm", ""),
    # Hate: a few slurs, slogans, and calls for violence against groups.
    ("nigger", "word", "hate", ""),
    ("nigga", "word", "hate", ""),
    ("faggot", "word", "hate", ""),
    ("kike", "word", "hate", ""),
    ("wetback", "word", "hate", ""),
    ("heil hitler", "phrase", "hate", ""),
    ("sieg heil", "phrase", "hate", ""),
    ("white power", "phrase", "hate", ""),
    (f"kill all|exterminate|gas the|lynch|death to + {_GROUPS} ~3", "combo", "hate", ""),
    # Graphic violence.
    ("gore|gory|gruesome|grisly + blood|bloody|corpse|corpses|guts|intestines|entrails|severed|wounds ~4",
     "combo", "violence", ""),
    ("blood and gore", "phrase", "violence", ""),
    ("gorefest", "word", "violence", ""),
    ("decapitate", "word", "violence", ""),
    ("behead", "word", "violence", ""),
    ("dismember", "word", "violence", ""),
    ("dismemberment", "word", "violence", ""),
    ("disembowel", "word", "violence", ""),
    ("disembowelled", "word", "violence", ""),
    ("mutilate", "word", "violence", ""),
    ("mutilation", "word", "violence", ""),
    ("snuff film", "phrase", "violence", ""),
    ("school shooting", "phrase", "violence", ""),
    ("mass shooting", "phrase", "violence", ""),
    # Weapons-making and drug manufacture: the instructions, not the objects (a film still with a rifle is fine).
    ("how to make|how to build|recipe for|instructions for|homemade|diy|3d printed|blueprint + pipe bomb|"
     "nail bomb|car bomb|suicide vest|explosive|explosives|ied|napalm|molotov|ghost gun ~5", "combo", "illegal", ""),
    ("how to make|how to cook|recipe for|instructions for|homemade|diy|synthesize + meth|methamphetamine|"
     "crack cocaine|fentanyl|nerve agent|sarin|ricin ~5", "combo", "illegal", ""),
]
