"""One field of a form generated from a JSON Schema, as the page renders it (a workflow operation's settings,
an email template's sample data): every value a string, so Reflex can type the list it iterates."""

import dataclasses


@dataclasses.dataclass
class FormField:
    name: str
    title: str
    kind: str
    value: str
    description: str
    unit: str
    min: str
    max: str
    step: str
    options: list[dict[str, str]]
    required: str
    visible: str
