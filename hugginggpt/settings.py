"""Helpers to read typed settings from the environment once, failing fast with the variable's name."""

from __future__ import annotations

import os
from collections.abc import Mapping


class SettingsError(ValueError):
    """A required environment variable is missing or malformed."""


def env_str(name: str, default: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """The variable's value; its default when unset; SettingsError when unset and without default."""
    source = os.environ if env is None else env
    value = source.get(name)
    if value is None or value == "":
        if default is None:
            raise SettingsError(f"environment variable {name} is required but not set")
        return default
    return value


def env_int(name: str, default: int, env: Mapping[str, str] | None = None) -> int:
    """The variable as an int."""
    raw = env_str(name, str(default), env)
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be an integer, got {raw!r}") from None


def env_float(name: str, default: float, env: Mapping[str, str] | None = None) -> float:
    """The variable as a float."""
    raw = env_str(name, str(default), env)
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name} must be a number, got {raw!r}") from None


def env_bool(name: str, default: bool, env: Mapping[str, str] | None = None) -> bool:
    """The variable as a bool (1/true/yes/on or 0/false/no/off)."""
    raw = env_str(name, "1" if default else "0", env).strip().lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"environment variable {name} must be true or false, got {raw!r}")


def env_list(name: str, default: str = "", env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The variable as a comma-separated list, blanks dropped."""
    raw = env_str(name, default, env) if default else (os.environ if env is None else env).get(name, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())
