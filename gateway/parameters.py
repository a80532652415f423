"""Model parameters a task needs but the plan leaves out, filled from the user's own words."""

from __future__ import annotations

from hugginggpt import languages
from hugginggpt.v1 import common_pb2 as pb


def fill(task: pb.Task, request: str) -> pb.Task:
    """The task with the parameters its model needs (a copy; the plan's task is left as it was).

    A translation gets the language the request names ("into Spanish"), else the request's own language when
    that is not English (a German user asking to translate wants German), else none (the model's default)."""
    if task.type != "translation" or "target_language" in task.parameters.fields:
        return task
    code = languages.target(request) or next(iter(languages.mentioned(request)), None)
    if code is None and (spoken := languages.guess(request)) != "en":
        code = spoken
    if code is None:
        return task
    filled = pb.Task()
    filled.CopyFrom(task)
    filled.parameters.update({"target_language": languages.name(code)})
    return filled
