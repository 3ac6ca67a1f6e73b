"""pydantic's errors as form sentences: each names the field by its label, with the whole range it takes."""

from typing import Literal

import pytest
from pydantic import BaseModel, Field, ValidationError, field_validator

from app.services.form_errors import form_message


class Form(BaseModel):
    title: str = Field(min_length=1, max_length=10)
    count: int = Field(default=1, ge=1, le=4)
    seed: int | None = Field(default=None, ge=0, le=99)
    ratio: float = Field(default=1.0, gt=0, le=2.5)
    tags: list[str] = Field(default_factory=list, max_length=2)
    case: Literal["kebab", "snake"] = "kebab"
    size: str = "1x1"

    @field_validator("size")
    @classmethod
    def _size(cls, value: str) -> str:
        if "x" not in value:
            raise ValueError('size must look like "1024x768"')
        return value


LABELS = {"title": "Title", "count": "Images", "seed": "Seed", "ratio": "Ratio", "tags": "Tags", "case": "Case",
          "size": "Size"}


def message(**values) -> str:
    with pytest.raises(ValidationError) as caught:
        Form(**values)
    return form_message(caught.value, Form, LABELS)


@pytest.mark.parametrize(("values", "expected"), [
    ({"title": ""}, "Title cannot be empty."),
    ({"title": "x" * 11}, "Title can be at most 10 characters long."),
    ({"title": "a", "count": 0}, "Images must be a whole number from 1 to 4."),
    ({"title": "a", "count": "many"}, "Images must be a whole number from 1 to 4."),
    ({"title": "a", "seed": 100}, "Seed must be a whole number from 0 to 99."),
    ({"title": "a", "ratio": 3}, "Ratio must be a number above 0 and at most 2.5."),
    ({"title": "a", "tags": ["a", "b", "c"]}, "Tags can have at most 2 entries."),
    ({"title": "a", "case": "upper"}, "Case must be one of 'kebab' or 'snake'."),
    ({"title": "a", "size": "big"}, 'Size must look like "1024x768".'),
    ({}, "Title is required."),
    ({"title": "", "count": 9, "seed": -1, "ratio": 0}, "Title cannot be empty. Images must be a whole number from 1 "
                                                         "to 4. Seed must be a whole number from 0 to 99."),
])
def test_each_problem_is_a_sentence(values, expected):
    assert message(**values) == expected


def test_a_field_without_a_label_is_named_from_its_attribute():
    with pytest.raises(ValidationError) as caught:
        Form(title="a", count=0)
    assert form_message(caught.value, Form, {}) == "Count must be a whole number from 1 to 4."
