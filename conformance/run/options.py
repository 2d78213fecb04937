"""Every option of a run, declared once: name, type, default, help, environment variable, secrecy, checks.

The ``run`` command, the pytest plugin's ``--evs-*`` options, the config file's keys and the frozen settings
are all derived from ``OPTIONS``; a value is checked once, by its option's ``parse``, wherever it came from.

Example::

    option = OPTIONS["max_creates"]
    option.flag, option.plugin_flag, option.env, option.file_key
    # ('--max-creates', '--evs-max-creates', 'EVS_MAX_CREATES', 'max-creates')
    option.parse("7", "--max-creates")   # 7
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from conformance.contract import PROFILES
from conformance.core import inputs
from conformance.core.errors import UsageError

Kind = Literal["value", "flag", "multiple"]
#: The create budget on a real endpoint when none is given (see the option's help).
DEFAULT_MAX_CREATES = 60
#: The overall time bound of a run against an endpoint when none is given: a run that should take minutes
#: never goes on for hours unnoticed.
DEFAULT_DEADLINE_S = 7200.0
#: How long a new snapshot may take to settle on an endpoint (Huawei EVS: "usually several minutes"), and on
#: the embedded mock, which settles at once unless a quirk keeps it creating.
DEFAULT_SETTLE_TIMEOUT_S, MOCK_SETTLE_TIMEOUT_S = 600.0, 30.0
#: What a snapshot usually takes to settle on an endpoint, for estimates and create-only pauses: three
#: minutes, Huawei EVS's "several minutes".
DEFAULT_SETTLE_TIME_S = 180.0
#: The run's limits on an endpoint when none are given: one snapshot being made per disk at a time (Huawei
#: EVS makes one at a time), three live per disk (EVS keeps seven legacy snapshots per disk, the project's
#: own included), five live in the project (half of Cinder's default quota of ten).
DEFAULT_CREATING_PER_DISK, DEFAULT_SNAPSHOTS_PER_DISK, DEFAULT_SNAPSHOTS_PER_PROJECT = 1, 3, 5
API_VERSIONS = ("v2", "v3")
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
#: Options that say where the others come from, resolved before them.
META = ("config", "target", "show_config")
#: The most parallel pytest-xdist workers: beyond this a run only crowds its own machine and the target.
MAX_WORKERS = 32


@dataclass(frozen=True)
class Option:
    """One run option as every front end sees it.

    ``parse(raw, where)`` turns a raw value (text from a command line or the environment, or a TOML value)
    into the value the settings hold, raising ``UsageError`` that names ``where``.
    """

    name: str
    help: str
    parse: Callable[[Any, str], Any]
    default: Any = None
    kind: Kind = "value"
    group: str = "run"
    #: A value no artefact may hold: never in a config file, masked by ``--show-config``.
    secret: bool = False
    #: Whether ``run`` and the plugin offer it; when not, ``missing_because`` says why.
    cli: bool = True
    plugin: bool = True
    missing_because: str = ""
    #: Whether a config file may set it (secrets never: a file names their environment variable instead).
    in_file: bool = True
    hidden: bool = False
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    #: For a flag that switches something off: the flag's own word (``--no-lifecycle`` for ``lifecycle``).
    negated: bool = False
    short: str | None = None
    env_name: str | None = None

    @property
    def dashed(self) -> str:
        return self.name.replace("_", "-")

    @property
    def flag(self) -> str:
        """The ``run`` command's flag."""
        return f"--no-{self.dashed}" if self.negated else f"--{self.dashed}"

    @property
    def plugin_flag(self) -> str:
        """The pytest plugin's flag."""
        return f"--evs-no-{self.dashed}" if self.negated else f"--evs-{self.dashed}"

    @property
    def dest(self) -> str:
        """The attribute pytest stores the plugin flag's value under."""
        return self.plugin_flag.removeprefix("--").replace("-", "_")

    @property
    def env(self) -> str:
        return self.env_name or f"EVS_{self.name.upper()}"

    @property
    def file_key(self) -> str:
        return self.dashed

    @property
    def is_flag(self) -> bool:
        return self.kind == "flag"


# -- parsers: raw value and where it came from -> the value -----------------------------------------------
def _text(raw: Any, where: str) -> str:
    return inputs.text(raw, flag=where)


def _choice(choices: Iterable[str]) -> Callable[[Any, str], str]:
    allowed = tuple(choices)

    def parse(raw: Any, where: str) -> str:
        value = str(raw).strip()
        if value not in allowed:
            raise UsageError(f"{where} {value!r} is not one of {', '.join(allowed)}")
        return value

    return parse


def _number(**bounds: Any) -> Callable[[Any, str], Any]:
    def parse(raw: Any, where: str) -> Any:
        value = raw if isinstance(raw, int | float) and not isinstance(raw, bool) else str(raw)
        return inputs.number(value, flag=where, **bounds)

    return parse


def boolean(raw: Any, where: str) -> bool:
    """A switch: a TOML Boolean, or a word such as true/false/yes/no/1/0 from the environment."""
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise UsageError(f"{where} {str(raw)!r} is not true or false")


def _many(item: Callable[[Any, str], Any]) -> Callable[[Any, str], tuple[Any, ...]]:
    """A repeatable option: a list (a file, repeated flags) or comma-separated text (the environment)."""

    def parse(raw: Any, where: str) -> tuple[Any, ...]:
        if isinstance(raw, str):
            values: list[Any] = [part.strip() for part in raw.split(",") if part.strip()]
        elif isinstance(raw, list | tuple):
            values = list(raw)
        else:
            raise UsageError(f"{where} must be a list")
        return tuple(dict.fromkeys(item(value, where) for value in values))

    return parse


def _token(raw: Any, where: str) -> str:
    return inputs.token(str(raw), what=where)


def _password(raw: Any, where: str) -> str:
    """A password goes in a JSON body, not a header: any characters, but not none."""
    value = str(raw)
    if not value:
        raise UsageError(f"{where} is empty")
    return value


def _url(raw: Any, where: str) -> str:
    return inputs.base_url(str(raw), flag=where)


def _reports(raw: Any, where: str) -> Path:
    return inputs.output_dir(str(raw), flag=where)


def _file(raw: Any, where: str) -> Path:
    return inputs.existing_file(str(raw), flag=where)


def _rate(raw: Any, where: str) -> float:
    return inputs.rate_limit(str(raw), flag=where)


def _patterns(raw: Any, where: str) -> tuple[str, ...]:
    """Requirement IDs or shell-style patterns (``REQ-NAME,RSP-*``)."""
    found = _many(_text)(raw, where)
    for pattern in found:
        if not all(c.isalnum() or c in "-_*?[]!" for c in pattern):
            raise UsageError(f"{where} {pattern!r} is not a requirement ID or pattern such as RSP-*")
    return tuple(p.upper() for p in found)


_DAY_S = 86_400.0
_SECONDS = "SECONDS"

# fmt: off
_TABLE = (
    # -- where the other settings come from ---------------------------------------------------------
    Option("config", "Config file. Default: evs-conformance.toml, else pyproject.toml's "
           "[tool.evs-conformance], in this folder or the nearest one above.", _file, group="config",
           in_file=False, metavar="FILE"),
    Option("target", "A target of the config file ([targets.NAME]) to test.", _text, group="config",
           in_file=False, metavar="NAME"),
    Option("show_config", "Print the resolved settings, secrets masked, and where each came from; send "
           "nothing.", boolean, default=False, kind="flag", group="config", in_file=False),
    # -- the target ---------------------------------------------------------------------------------
    Option("base_url", "Endpoint to test. Default: start the embedded mock.", _url, group="target",
           metavar="URL"),
    Option("profile", "Contract profile: the page as written, or OpenStack Cinder's behaviour.",
           _choice(PROFILES), default=PROFILES[0], group="target", choices=PROFILES),
    Option("api_version", "Override the profile's path prefix.", _choice(API_VERSIONS), group="target",
           choices=API_VERSIONS),
    Option("project_id", "Project ID of the target (and the token's scope).", _text, group="target",
           metavar="ID"),
    Option("volume_id", "An available disk of the project; repeat it to spread the creates over several.",
           _many(_text), default=(), kind="multiple", group="target", metavar="ID"),
    Option("in_use_volume_id", "A disk attached to a server (the force rules are skipped without it).",
           _text, group="target", metavar="ID"),
    # -- credentials --------------------------------------------------------------------------------
    Option("token", "Token for the target.", _token, group="auth", secret=True, in_file=False,
           env_name="EVS_TOKEN", metavar="TOKEN"),
    Option("password", "Password for --iam-url authentication.", _password, group="auth", secret=True,
           in_file=False, cli=False, plugin=False, env_name="EVS_PASSWORD",
           missing_because="a password is never an option (process lists and shell history keep them): "
           "it comes from $EVS_PASSWORD, or the run command asks for it"),
    Option("iam_url", "Identity service v3 base for password auth; tokens from {url}/auth/tokens.", _url,
           group="auth", metavar="URL"),
    Option("username", "User name for password auth.", _text, group="auth"),
    Option("domain", "The user's domain for password auth.", _text, group="auth"),
    Option("project_name", "Scope the token by project name instead of --project-id.", _text,
           group="auth"),
    # -- the transport ------------------------------------------------------------------------------
    Option("ca_bundle", "PEM file of CA certificates to trust instead of the system's.", _file,
           group="transport", metavar="FILE"),
    Option("insecure", "Do not verify TLS certificates (unsafe; warns).", boolean, default=False,
           kind="flag", group="transport"),
    Option("allow_plain_http", "Allow the token over http:// to a host that is not this machine.", boolean,
           default=False, kind="flag", group="transport"),
    Option("timeout", "Seconds each request may take, from connecting to the last byte.",
           _number(minimum=0.001, maximum=_DAY_S, allow_zero=False), default=30.0, group="transport",
           metavar=_SECONDS),
    Option("deadline", "Seconds after which the run sends nothing more (cleanup has its own time). Default "
           f"on an endpoint: {DEFAULT_DEADLINE_S:g}; none on the embedded mock.",
           _number(minimum=0.001, maximum=7 * _DAY_S, allow_zero=False), group="transport",
           metavar=_SECONDS),
    Option("rate_limit", "Most requests per second for the whole run, e.g. 5/s (default: no limit).", _rate,
           group="transport", metavar="RATE"),
    Option("retries", "Repeats of a GET or DELETE after a connection error, and of a request after a 429.",
           _number(minimum=0, maximum=20, integer=True), default=2, group="transport", metavar="N"),
    # -- cost and safety ----------------------------------------------------------------------------
    Option("max_creates", "Most snapshots the run may create. Default on an endpoint: "
           f"{DEFAULT_MAX_CREATES}, enough to reach every requirement with room for generated cases "
           "while a mistake stays cheap; no limit on the embedded mock.",
           _number(minimum=0, maximum=1_000_000, integer=True), group="budget", metavar="N"),
    Option("lifecycle", "Read back, wait for and delete created snapshots (off: create-only targets).",
           boolean, default=True, kind="flag", negated=True, group="budget"),
    Option("settle_timeout", "Seconds a new snapshot may take to leave its initial status (and to be gone "
           f"once deleted). Default on an endpoint: {DEFAULT_SETTLE_TIMEOUT_S:g}; "
           f"{MOCK_SETTLE_TIMEOUT_S:g} on the embedded mock.",
           _number(minimum=0, maximum=_DAY_S), group="budget", metavar=_SECONDS),
    Option("cleanup", "Delete, at the end, what the run created (off: the report lists what was left).",
           boolean, default=True, kind="flag", negated=True, group="budget"),
    Option("cleanup_timeout", "Seconds cleanup may take in all (it waits for snapshots still being made).",
           _number(minimum=0, maximum=_DAY_S), default=900.0, group="budget", metavar=_SECONDS),
    Option("dry_run", "Print the plan (requirements, requests, creates) and send nothing.", boolean,
           default=False, kind="flag", group="budget"),
    # -- the target's limits -------------------------------------------------------------------------
    Option("creating_per_disk", "Most of the run's snapshots being created at once on one disk; the next "
           "create on the disk waits until one has settled (0: no limit). Default on an endpoint: "
           f"{DEFAULT_CREATING_PER_DISK} (Huawei EVS makes one snapshot of a disk at a time); none on the "
           "embedded mock.", _number(minimum=0, maximum=1000, integer=True), group="limits", metavar="N"),
    Option("snapshots_per_disk", "Most of the run's snapshots alive at once on one disk; the run deletes as "
           f"it goes to stay under it (0: no cap). Default on an endpoint: {DEFAULT_SNAPSHOTS_PER_DISK} (EVS "
           "keeps seven legacy snapshots per disk, the project's own included); none on the embedded mock.",
           _number(minimum=0, maximum=1_000_000, integer=True), group="limits", metavar="N"),
    Option("snapshots_per_project", "Most of the run's snapshots alive at once in the project (0: no cap). "
           f"Default on an endpoint: {DEFAULT_SNAPSHOTS_PER_PROJECT} (half of Cinder's default quota of 10); "
           "none on the embedded mock.",
           _number(minimum=0, maximum=1_000_000, integer=True), group="limits", metavar="N"),
    Option("settle_time", "Seconds a snapshot usually takes to settle on the target: the time --dry-run "
           "estimates with and, with --no-lifecycle, the wait before a refused valid body is sent again (the "
           "disk may have been busy). Default on an "
           f"endpoint: {DEFAULT_SETTLE_TIME_S:g} (Huawei EVS: several minutes); 0 on the embedded mock.",
           _number(minimum=0, maximum=_DAY_S), group="limits", metavar=_SECONDS),
    # -- what runs ----------------------------------------------------------------------------------
    Option("examples", "Cases per property test.", _number(minimum=1, maximum=100_000, integer=True),
           default=100, group="run", metavar="N"),
    Option("seed", "Seed for generated cases (default: fixed, derandomized).",
           _number(minimum=0, maximum=2**63 - 1, integer=True), group="run", metavar="N"),
    Option("shrink", "Shrink failing generated cases to minimal ones (off: faster, bigger cases).", boolean,
           default=True, kind="flag", negated=True, group="run"),
    Option("workers", "Parallel pytest-xdist worker processes.",
           _number(minimum=1, maximum=MAX_WORKERS, integer=True), default=1, group="run", metavar="N",
           plugin=False, missing_because="pytest-xdist's own -n sets the workers under pytest"),
    Option("requirements", "Run only these requirements: IDs or patterns such as REQ-NAME,RSP-*.", _patterns,
           default=(), kind="value", group="run", metavar="IDS"),
    Option("fail_on_skip", "Exit 1 when any requirement was skipped (a coverage gate for CI).", boolean,
           default=False, kind="flag", group="run"),
    Option("min_reached", "Exit 1 unless at least this share (0 to 1) of the selected requirements was "
           "reached (a coverage gate for CI).", _number(minimum=0, maximum=1), group="run", metavar="SHARE"),
    Option("waivers", "YAML of accepted failures: waivers: [{id, reason, expires}].", _file, group="run",
           metavar="FILE"),
    # -- reports ------------------------------------------------------------------------------------
    Option("reports", "Folder for conformance.json/.md/.html, junit.xml, the HAR and allure-results/.",
           _reports, default=Path("reports"), group="reports", metavar="DIR"),
    Option("verbose", "Show pytest's own output (every test, every failure dump).", boolean, default=False,
           kind="flag", group="reports", short="-v", plugin=False,
           missing_because="pytest has its own -v"),
    # -- testing the suite itself -------------------------------------------------------------------
    Option("mock_quirk", "For testing the suite itself: switch a deviation of the embedded mock on.",
           _many(_text), default=(), kind="multiple", group="testing", hidden=True, metavar="NAME"),
)
# fmt: on

OPTIONS: Mapping[str, Option] = MappingProxyType({option.name: option for option in _TABLE})
