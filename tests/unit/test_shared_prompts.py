"""The one prompt loader: every service's prompt files load from package data and render strictly."""

from __future__ import annotations

import pytest

from hugginggpt.prompts import PromptFiles, PromptTemplate, TemplateError


def test_a_missing_variable_is_an_error_that_names_it() -> None:
    template = PromptTemplate("greeting.txt", "Hello $name, from $place.")
    assert template.render(name="Ada", place="London") == "Hello Ada, from London."
    with pytest.raises(TemplateError, match="greeting.txt needs variable 'place'"):
        template.render(name="Ada")


@pytest.mark.parametrize(("package", "name"), [
    ("services.planner", "system.txt"),
    ("services.responder", "user.txt"),
    ("services.selector", "choose_user.txt"),
])
def test_each_services_templates_load(package: str, name: str) -> None:
    assert PromptFiles(package).template(name).name == name


def test_data_files_load_as_json_and_lines() -> None:
    assert "tasks" in PromptFiles("services.replica").json("expert.json")
    assert all(line.strip() for line in PromptFiles("services.planner").lines("demos.jsonl"))
    assert "types" in PromptFiles("services.planner").json("intents.json")


def test_an_optional_file_is_there_or_not() -> None:
    planner = PromptFiles("services.planner")
    assert planner.has("intents.json") and not planner.has("no-such-file.json")
