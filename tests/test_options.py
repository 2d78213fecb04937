"""The one option table: every option reaches the settings from the command line, the plugin, the environment
and a config file, with the same default and the same checks."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

import click
import pytest
from _pytest.config.argparsing import Parser

from conformance.cli.options import given as cli_given
from conformance.cli.options import spell as cli_spell
from conformance.cli.run import run as run_command
from conformance.core.errors import UsageError
from conformance.plugin import options as plugin_options
from conformance.run import config
from conformance.run.options import OPTIONS, Option


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "ca.pem").write_text("certificate", encoding="utf-8")
    (tmp_path / "waivers.yaml").write_text("waivers: []\n", encoding="utf-8")
    (tmp_path / "evs.toml").write_text("", encoding="utf-8")
    return {name: tmp_path / name for name in ("ca.pem", "waivers.yaml", "evs.toml")}


def samples(files: dict[str, Path], tmp_path: Path) -> dict[str, tuple[Any, Any]]:
    """For each option: a raw value a user could type, and the value the settings then hold."""
    return {
        "config": (str(files["evs.toml"]), files["evs.toml"]),
        "target": ("eu-west", "eu-west"),
        "show_config": (True, True),
        "base_url": ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
        "profile": ("cinder", "cinder"),
        "api_version": ("v3", "v3"),
        "project_id": ("p-1", "p-1"),
        "volume_id": (["disk-a", "disk-b"], ("disk-a", "disk-b")),
        "in_use_volume_id": ("disk-busy", "disk-busy"),
        "token": ("token-0123456789", "token-0123456789"),
        "password": ("password-0123456789", "password-0123456789"),
        "iam_url": ("https://iam.example/v3", "https://iam.example/v3"),
        "username": ("qa", "qa"),
        "domain": ("qa-domain", "qa-domain"),
        "project_name": ("evs-audit", "evs-audit"),
        "ca_bundle": (str(files["ca.pem"]), files["ca.pem"]),
        "insecure": (True, True),
        "allow_plain_http": (True, True),
        "timeout": ("7.5", 7.5),
        "deadline": ("120", 120.0),
        "rate_limit": ("5/s", 5.0),
        "retries": ("1", 1),
        "max_creates": ("6", 6),
        "lifecycle": (False, False),
        "settle_timeout": ("90", 90.0),
        "creating_per_disk": ("2", 2),
        "snapshots_per_disk": ("4", 4),
        "snapshots_per_project": ("0", 0),
        "settle_time": ("60", 60.0),
        "cleanup": (False, False),
        "cleanup_timeout": ("15", 15.0),
        "dry_run": (True, True),
        "examples": ("7", 7),
        "seed": ("42", 42),
        "shrink": (False, False),
        "workers": ("2", 2),
        "requirements": ("REQ-NAME,rsp-*", ("REQ-NAME", "RSP-*")),
        "fail_on_skip": (True, True),
        "min_reached": ("0.9", 0.9),
        "waivers": (str(files["waivers.yaml"]), files["waivers.yaml"]),
        "reports": (str(tmp_path / "out"), tmp_path / "out"),
        "verbose": (True, True),
        "mock_quirk": (["reused-ids"], ("reused-ids",)),
    }


def test_every_option_has_a_sample_here(files: dict[str, Path], tmp_path: Path) -> None:
    # A new option must show below that it reaches the settings from every front end.
    assert set(samples(files, tmp_path)) == set(OPTIONS)


def test_an_option_missing_from_a_front_end_says_why() -> None:
    for option in OPTIONS.values():
        if not (option.cli and option.plugin):
            assert option.missing_because, option.name


# -- the command line -------------------------------------------------------------------------------------
def _cli_values(argv: list[str]) -> dict[str, Any]:
    context = run_command.make_context("run", argv)
    return cli_given(dict(context.params))


def _cli_argv(option: Option, raw: Any) -> list[str]:
    if option.is_flag:
        return [option.flag]
    if isinstance(raw, list):
        return [part for value in raw for part in (option.flag, value)]
    return [option.flag, str(raw)]


def test_the_command_offers_exactly_the_table() -> None:
    names = {param.name for param in run_command.params if isinstance(param, click.Option)}
    assert names == {option.name for option in OPTIONS.values() if option.cli}


def test_every_command_line_option_reaches_the_settings(files: dict[str, Path], tmp_path: Path) -> None:
    for name, (raw, expected) in samples(files, tmp_path).items():
        option = OPTIONS[name]
        if not option.cli:
            continue
        given = _cli_values(_cli_argv(option, raw))
        assert given == {name: given[name]}, name
        value = option.parse(given[name], cli_spell(option))
        assert value == expected, name


# -- the pytest plugin ------------------------------------------------------------------------------------
def _plugin_namespace(argv: list[str]) -> argparse.Namespace:
    # pytest builds its parser itself; this test builds one the same way to read the plugin's options alone.
    parser = Parser(_ispytest=True)
    plugin_options.add_options(parser)
    return parser.parse(argv)


def test_the_plugin_offers_exactly_the_table() -> None:
    namespace = _plugin_namespace([])
    offered = {key.removeprefix("evs_") for key in vars(namespace) if key.startswith("evs_")}
    assert offered == {option.name for option in OPTIONS.values() if option.plugin}
    assert plugin_options.given_options(namespace) == {}


def test_every_plugin_option_reaches_the_settings(files: dict[str, Path], tmp_path: Path) -> None:
    for name, (raw, expected) in samples(files, tmp_path).items():
        option = OPTIONS[name]
        if not option.plugin:
            continue
        if option.is_flag:
            argv = [option.plugin_flag]
        elif isinstance(raw, list):
            argv = [part for value in raw for part in (option.plugin_flag, value)]
        else:
            argv = [option.plugin_flag, str(raw)]
        given = plugin_options.given_options(_plugin_namespace(argv))
        assert set(given) == {name}, name
        assert option.parse(given[name], option.plugin_flag) == expected, name


# -- the environment and the config file ------------------------------------------------------------------
def _text(raw: Any) -> str:
    if isinstance(raw, list):
        return ",".join(raw)
    return str(raw).lower() if isinstance(raw, bool) else str(raw)


def test_every_option_reaches_the_settings_from_the_environment(
    files: dict[str, Path], tmp_path: Path
) -> None:
    for name, (raw, expected) in samples(files, tmp_path).items():
        option = OPTIONS[name]
        if name in ("config", "target", "show_config"):
            continue  # these say where the others come from; tested below
        resolved = config.resolve({}, {option.env: _text(raw)}, cwd=tmp_path, spell=cli_spell)
        assert resolved.values[name] == expected, name
        assert resolved.sources[name] == f"environment (${option.env})"


def test_every_file_option_reaches_the_settings_from_a_file(files: dict[str, Path], tmp_path: Path) -> None:
    for name, (raw, expected) in samples(files, tmp_path).items():
        option = OPTIONS[name]
        if not option.in_file:
            continue
        path = tmp_path / "evs-conformance.toml"
        path.write_text(f"{option.file_key} = {_toml(raw)}\n", encoding="utf-8")
        resolved = config.resolve({}, {}, cwd=tmp_path, spell=cli_spell)
        assert resolved.values[name] == expected, name
        assert resolved.sources[name] == f"file {path}"


def _toml(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, list):
        return "[" + ", ".join(f'"{v}"' for v in raw) + "]"
    return f'"{raw}"'


def test_defaults_are_the_same_from_every_front_end(tmp_path: Path) -> None:
    from_cli = config.resolve(_cli_values([]), {}, cwd=tmp_path, spell=cli_spell)
    namespace = _plugin_namespace([])
    from_plugin = config.resolve(plugin_options.given_options(namespace), {}, cwd=tmp_path, spell=cli_spell)
    expected = {name: option.default for name, option in OPTIONS.items()}
    assert dict(from_cli.values) == expected
    assert dict(from_plugin.values) == expected
    assert set(from_cli.sources.values()) == {config.DEFAULT}


# -- precedence and the file's rules ----------------------------------------------------------------------
def test_the_command_line_beats_the_environment_beats_the_file(tmp_path: Path) -> None:
    (tmp_path / "evs-conformance.toml").write_text(
        "examples = 5\nretries = 4\nseed = 9\n[targets.eu]\nexamples = 6\n", encoding="utf-8"
    )
    env = {"EVS_EXAMPLES": "7", "EVS_RETRIES": "3"}
    resolved = config.resolve({"examples": "8"}, env, cwd=tmp_path, spell=cli_spell)
    assert (resolved.values["examples"], resolved.values["retries"], resolved.values["seed"]) == (8, 3, 9)
    on_target = config.resolve({"target": "eu"}, {}, cwd=tmp_path, spell=cli_spell)
    assert on_target.values["examples"] == 6
    assert on_target.values["retries"] == 4


def test_a_file_names_the_variable_that_holds_a_secret(tmp_path: Path) -> None:
    (tmp_path / "evs-conformance.toml").write_text(
        '[targets.eu]\nbase-url = "https://evs.example"\ntoken-env = "EU_TOKEN"\n', encoding="utf-8"
    )
    resolved = config.resolve(
        {"target": "eu"}, {"EU_TOKEN": "token-eu-0123456789"}, cwd=tmp_path, spell=cli_spell
    )
    assert resolved.values["token"] == "token-eu-0123456789"
    shown = "\n".join(config.show(resolved, spell=cli_spell))
    assert "token-eu-0123456789" not in shown
    assert "*** (set)" in shown
    assert "EU_TOKEN" in shown


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('token = "t"', "would put a secret in a file"),
        ('password = "p"', "would put a secret in a file"),
        ('colour = "blue"', "'colour' in the top level is not an option"),
        ("examples = 0", "examples in .* must be at least 1"),
        ('timeout = "inf"', "must be a finite number"),
        ("[targets]\neu = 1", "must hold tables"),
        ("examples = [", "not valid TOML"),
        ('target = "eu"', "can only be given on the command line"),
    ],
)
def test_a_bad_file_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "evs-conformance.toml").write_text(text + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=message) as raised:
        config.resolve({}, {}, cwd=tmp_path, spell=cli_spell)
    assert "\n" not in str(raised.value)


def test_an_unknown_target_lists_the_known_ones(tmp_path: Path) -> None:
    (tmp_path / "evs-conformance.toml").write_text("[targets.eu]\n[targets.ap]\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"no target 'us' .* \(targets: ap, eu\)"):
        config.resolve({"target": "us"}, {}, cwd=tmp_path, spell=cli_spell)
    (tmp_path / "evs-conformance.toml").unlink()
    with pytest.raises(UsageError, match="needs a config file"):
        config.resolve({"target": "us"}, {}, cwd=tmp_path, spell=cli_spell)


def test_pyproject_holds_the_settings_when_there_is_no_file_of_ours(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.evs-conformance]\nexamples = 11\n", encoding="utf-8")
    nested = tmp_path / "ci" / "jobs"
    nested.mkdir(parents=True)
    assert config.resolve({}, {}, cwd=nested, spell=cli_spell).values["examples"] == 11
    (tmp_path / "evs-conformance.toml").write_text("examples = 12\n", encoding="utf-8")
    assert config.resolve({}, {}, cwd=nested, spell=cli_spell).values["examples"] == 12


# -- checks of single values ------------------------------------------------------------------------------
NUMERIC = [o for o in OPTIONS.values() if o.metavar in ("N", "SECONDS", "SHARE")]


@pytest.mark.parametrize("option", NUMERIC, ids=lambda o: o.name)
@pytest.mark.parametrize("raw", ["nan", "inf", "-inf", "-1", "1e400", "ten", "", "1" * 400])
def test_numbers_that_make_no_sense_are_refused(option: Option, raw: str) -> None:
    with pytest.raises(UsageError, match=option.flag) as raised:
        option.parse(raw, option.flag)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("option", NUMERIC, ids=lambda o: o.name)
def test_numbers_within_bounds_are_taken(option: Option) -> None:
    value = option.parse("1", option.flag)
    assert math.isfinite(value)


# -- defaults that depend on where the run goes -----------------------------------------------------------
def _built(given: dict[str, Any], tmp_path: Path) -> Any:
    from conformance.run.settings import build

    resolved = config.resolve(given, {}, cwd=tmp_path, spell=cli_spell)
    return build(resolved, spell=cli_spell)


ENDPOINT = {
    "base_url": "http://127.0.0.1:9",
    "project_id": "p",
    "volume_id": ("v",),
    "token": "token-0123456789",
}


def test_an_endpoint_gets_limits_that_fit_huawei_and_cinder_and_the_mock_none(tmp_path: Path) -> None:
    endpoint = _built(dict(ENDPOINT), tmp_path)
    assert (endpoint.creating_per_disk, endpoint.snapshots_per_disk, endpoint.snapshots_per_project) == (
        1,
        3,
        5,
    )
    assert (endpoint.settle_timeout_s, endpoint.settle_time_s) == (600.0, 180.0)
    mock = _built({}, tmp_path)
    assert (mock.creating_per_disk, mock.snapshots_per_disk, mock.snapshots_per_project) == (None, None, None)
    assert (mock.settle_timeout_s, mock.settle_time_s) == (30.0, 0.0)


def test_zero_lifts_a_limit_and_a_given_value_is_kept(tmp_path: Path) -> None:
    given = {**ENDPOINT, "creating_per_disk": 0, "snapshots_per_disk": 7, "settle_timeout": 45.0}
    built = _built(given, tmp_path)
    assert (built.creating_per_disk, built.snapshots_per_disk, built.snapshots_per_project) == (None, 7, 5)
    assert built.settle_timeout_s == 45.0


def test_without_reads_and_deletes_only_caps_given_are_kept(tmp_path: Path) -> None:
    built = _built({**ENDPOINT, "lifecycle": False}, tmp_path)
    assert (built.creating_per_disk, built.snapshots_per_disk, built.snapshots_per_project) == (1, None, None)
    kept = _built({**ENDPOINT, "lifecycle": False, "snapshots_per_project": 8}, tmp_path)
    assert kept.snapshots_per_project == 8
