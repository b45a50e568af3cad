"""Every key of the site file is documented where a plant engineer (or an editor) finds it."""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from config import SiteConfig


def models_under(model: type[BaseModel]) -> set[type[BaseModel]]:
    found: set[type[BaseModel]] = set()
    pending: list[Any] = [model]
    while pending:
        annotation = pending.pop()
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in found:
                continue
            found.add(annotation)
            pending.extend(field.annotation for field in annotation.model_fields.values())
        elif get_origin(annotation) is not None or get_args(annotation):
            pending.extend(get_args(annotation))
    return found


def test_every_model_and_key_is_documented():
    models = models_under(SiteConfig)

    assert len(models) >= 15
    for model in models:
        assert model.__doc__, model.__name__
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name}"


def test_the_json_schema_can_be_given_to_an_editor():
    schema = SiteConfig.model_json_schema()

    text = json.dumps(schema, ensure_ascii=False)
    assert "Gs1RuleConfig" in text
    assert schema["additionalProperties"] is False
