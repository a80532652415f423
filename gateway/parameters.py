"""Model parameters a task needs but the plan leaves out, filled from the user's own words."""

from __future__ import annotations

from hugginggpt import languages
from hugginggpt.v1 import common_pb2 as pb


def fill(task: pb.Task, request: str) -> pb.Task:
    """The task with the parameters its model needs (a copy; the plan's task is left as it was).

    A translation gets the language the request names ("into Spanish"), else the request's own language when
    that is not English (a German user asking to translate wants German), else none (the model's default).
    An image-to-image task gets the request as its `instruction`: the task type takes no text argument, and
    the offline style-transfer model reads the style asked for, or refuses an edit it cannot make, from it."""
    if task.type == "image-to-image" and "instruction" not in task.parameters.fields and request.strip():
        return _with(task, {"instruction": request})
    if task.type != "translation" or "target_language" in task.parameters.fields:
        return task
    code = languages.target(request) or next(iter(languages.mentioned(request)), None)
    if code is None and (spoken := languages.guess(request)) != "en":
        code = spoken
    if code is None:
        return task
    return _with(task, {"target_language": languages.name(code)})


def _with(task: pb.Task, parameters: dict[str, str]) -> pb.Task:
    filled = pb.Task()
    filled.CopyFrom(task)
    filled.parameters.update(parameters)
    return filled
