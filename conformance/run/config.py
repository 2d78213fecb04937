"""Where a run's settings come from: the command line, the environment, a config file, the defaults.

Precedence, highest first: command line > environment (``EVS_<OPTION>``) > config file (the chosen target's
section over the file's top level) > the option's default. Secrets never come from a file: a file names the
environment variable that holds them (``token-env``, ``password-env``).

The file is ``evs-conformance.toml`` (top-level keys, ``[targets.NAME]`` sections), or, when there is none,
``[tool.evs-conformance]`` in ``pyproject.toml``; the nearest one in the working folder or above is used::

    profile = "huawei"
    max-creates = 20

    [targets.eu-west]
    base-url = "https://evs.eu-west-101.myhuaweicloud.example"
    project-id = "0b6c3e1f9a2d4e57a1c8f3b2d6e94a70"
    volume-id = ["disk-a", "disk-b"]
    token-env = "EVS_TOKEN_EU_WEST"

Example::

    resolved = resolve({"max_creates": "5"}, os.environ, cwd=Path.cwd(), spell=lambda o: o.flag)
    resolved.values["max_creates"], resolved.sources["max_creates"]   # 5, 'command line'
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.core.errors import UsageError
from conformance.run.options import META, OPTIONS, Option

FILE_NAME = "evs-conformance.toml"
PYPROJECT = "pyproject.toml"
TOOL_TABLE = "evs-conformance"
TARGETS = "targets"
#: Keys of a file naming the environment variable a secret is read from, by the secret's option.
SECRET_VARIABLE_KEYS = {"token-env": "token", "password-env": "password"}
#: A config file is a few hundred bytes; anything much larger is not one.
MAX_FILE_BYTES = 1 << 20
COMMAND_LINE, DEFAULT = "command line", "default"

Spell = Callable[[Option], str]


@dataclass(frozen=True)
class Resolved:
    """Every option's value, and where each came from (for ``--show-config`` and error messages)."""

    values: Mapping[str, Any]
    sources: Mapping[str, str]
    config_file: Path | None = None
    target: str | None = None

    def given(self, name: str) -> bool:
        """Whether the user set the option anywhere (not its default)."""
        return self.sources.get(name, DEFAULT) != DEFAULT


def find_config(start: Path) -> Path | None:
    """The nearest ``evs-conformance.toml``, or ``pyproject.toml`` with our table, in ``start`` or above."""
    for folder in (start, *start.parents):
        candidate = folder / FILE_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(path: Path) -> bool:
    try:
        document = _read_toml(path)
    except UsageError:
        return False
    return isinstance(document.get("tool"), dict) and TOOL_TABLE in document["tool"]


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        if not path.is_file():
            raise UsageError(f"config file {path}: not a regular file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise UsageError(
                f"config file {path}: larger than {MAX_FILE_BYTES // 1024} KiB, not a config file"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"config file {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"config file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise UsageError(f"config file {path}: nested too deeply") from None


@dataclass(frozen=True)
class ConfigFile:
    """A config file's settings: the top level, and each named target's."""

    path: Path
    top: Mapping[str, Any]
    targets: Mapping[str, Mapping[str, Any]]

    @classmethod
    def load(cls, path: Path) -> ConfigFile:
        document = _read_toml(path)
        if path.name == PYPROJECT:
            tool = document.get("tool", {})
            table = tool.get(TOOL_TABLE) if isinstance(tool, dict) else None
            if not isinstance(table, dict):
                raise UsageError(f"config file {path}: no [tool.{TOOL_TABLE}] table")
            document = table
        targets = document.get(TARGETS, {})
        if not isinstance(targets, dict) or not all(isinstance(t, dict) for t in targets.values()):
            raise UsageError(f"config file {path}: [{TARGETS}] must hold tables, one per target")
        top = {key: value for key, value in document.items() if key != TARGETS}
        _check_keys(path, "the top level", top)
        for name, section in targets.items():
            _check_keys(path, f"[{TARGETS}.{name}]", section)
        return cls(path, top, targets)

    def section(self, target: str | None) -> tuple[dict[str, Any], str]:
        """The settings for ``target`` (its section over the top level), and how to name where they are."""
        values = dict(self.top)
        where = str(self.path)
        if target is None:
            return values, where
        if target not in self.targets:
            known = ", ".join(sorted(self.targets)) or "none"
            raise UsageError(f"no target {target!r} in {self.path} (targets: {known})")
        values.update(self.targets[target])
        return values, f"{self.path} [{TARGETS}.{target}]"


def _check_keys(path: Path, where: str, section: Mapping[str, Any]) -> None:
    by_key = {option.file_key: option for option in OPTIONS.values()}
    for key in section:
        option = by_key.get(key)
        if key in SECRET_VARIABLE_KEYS:
            if not isinstance(section[key], str) or not section[key]:
                raise UsageError(f"config file {path}: {key} in {where} must name an environment variable")
            continue
        if option is None:
            raise UsageError(
                f"config file {path}: {key!r} in {where} is not an option of evs-conformance run"
            )
        if option.secret:
            raise UsageError(
                f"config file {path}: {key} in {where} would put a secret in a file; name the environment "
                f'variable that holds it instead ({key}-env = "...")'
            )
        if not option.in_file:
            raise UsageError(f"config file {path}: {key} in {where} can only be given on the command line")


def resolve(
    given: Mapping[str, Any],
    environ: Mapping[str, str],
    *,
    cwd: Path,
    spell: Spell,
) -> Resolved:
    """Resolve every option by precedence; ``given`` holds the raw command-line values (only those given)."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}

    def take(option: Option, raw: Any, source: str, where: str) -> None:
        values[option.name] = option.parse(raw, where)
        sources[option.name] = source

    for name in META:
        option = OPTIONS[name]
        if name in given:
            take(option, given[name], COMMAND_LINE, spell(option))
        elif option.env in environ:
            take(option, environ[option.env], f"environment (${option.env})", f"${option.env}")
    config_path = values.get("config") or find_config(cwd)
    target = values.get("target")
    file_values: dict[str, Any] = {}
    file_where = ""
    if config_path is not None:
        config = ConfigFile.load(Path(config_path))
        file_values, file_where = config.section(target)
    elif target is not None:
        raise UsageError(f"{spell(OPTIONS['target'])} {target!r} needs a config file ({FILE_NAME})")
    for option in OPTIONS.values():
        if option.name in META:
            continue
        if option.name in given:
            take(option, given[option.name], COMMAND_LINE, spell(option))
        elif option.env in environ:
            take(option, environ[option.env], f"environment (${option.env})", f"${option.env}")
        elif option.file_key in file_values:
            where = f"{option.file_key} in {file_where}"
            take(option, _plain(option, file_values[option.file_key], where), f"file {file_where}", where)
        elif option.secret and _secret_key(option) in file_values:
            variable = str(file_values[_secret_key(option)])
            if variable in environ:
                take(
                    option,
                    environ[variable],
                    f"environment (${variable}, named by {file_where})",
                    f"${variable}",
                )
    for option in OPTIONS.values():
        if option.name not in values:
            values[option.name] = option.default
            sources[option.name] = DEFAULT
    return Resolved(values, sources, None if config_path is None else Path(config_path), target)


_SCALARS = (str, int, float, bool)


def _plain(option: Option, value: Any, where: str) -> Any:
    """A file's value as a command line would give it: text, a number or a Boolean (a list of them for a
    repeatable option); TOML's dates, tables and nested lists are refused here, in one line."""
    if isinstance(value, _SCALARS):
        return value
    if option.kind == "multiple" and isinstance(value, list) and all(isinstance(v, _SCALARS) for v in value):
        return [str(v) for v in value]
    wanted = "a list of texts" if option.kind == "multiple" else "a text, a number or true/false"
    raise UsageError(f"{where} must be {wanted}")


def _secret_key(option: Option) -> str:
    return next(key for key, name in SECRET_VARIABLE_KEYS.items() if name == option.name)


def show(resolved: Resolved, *, spell: Spell) -> list[str]:
    """The resolved settings as lines, secrets masked, each with where it came from."""
    lines = [f"config file: {resolved.config_file or 'none'}"]
    if resolved.target is not None:
        lines.append(f"target: {resolved.target}")
    for option in OPTIONS.values():
        if option.name in META:
            continue
        value = resolved.values[option.name]
        if option.secret and value is not None:
            shown = "*** (set)"
        elif isinstance(value, tuple):
            shown = ", ".join(str(v) for v in value) or "(none)"
        else:
            shown = "(none)" if value is None else str(value)
        lines.append(f"  {option.file_key:<18} {shown:<40} {resolved.sources[option.name]}")
    return lines
