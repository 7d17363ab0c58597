"""The YAML config: its schema, and loading it with errors that name the file, line and fix."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
)

from bot.config.matching import RETIRED_JOIN, MatchingSettings, retired_join

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 10**6,
    "gb": 10**9,
    "kib": 1024,
    "mib": 2**20,
    "gib": 2**30,
    None: 1,
}


def parse_duration(value: object) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"2h"`` → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a duration; write e.g. 90s, 15m or 2h")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_size(value: object) -> int:
    """``1048576``, ``"5MB"``, ``"512KiB"`` → bytes."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _SIZE.match(str(value))
    if not m:
        raise ValueError(f"{value!r} is not a size; write e.g. 5MB or 512KiB")
    unit = m.group(2).lower() if m.group(2) else None
    return int(float(m.group(1)) * _SIZE_UNITS[unit])


def unit_interval(value: float) -> float:
    """A threshold: a number from 0 to 1. The one check, shared by the config file and the
    `/news admin threshold` command, so neither accepts what the other refuses."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"must be between 0 and 1, not {value:g}")
    return value


class _Strict(BaseModel):
    # A misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


# A duration ("15m", "4d", 900) in seconds, a size ("5MB") in bytes, a share of 1 (0–1).
Duration = Annotated[float, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]
Share = Annotated[float, AfterValidator(unit_interval)]


class FeedConfig(_Strict):
    url: HttpUrl
    name: str = Field(min_length=1)
    comment: str = ""
    alert_on_first_poll: bool | None = None  # None: the poll section's default
    # Poll this feed although its host is on a private network (intranet, loopback).
    allow_private: bool = False


class PollConfig(_Strict):
    interval: Duration = 900.0
    concurrency: int = Field(default=100, ge=1, le=2000)
    timeout: Duration = 20.0  # total per request
    max_bytes: Size = 5 * 10**6
    backoff_base: Duration = 60.0
    backoff_max: Duration = 6 * 3600.0
    alert_on_first_poll: bool = False
    user_agent: str = "newsbot/0.1 (+https://github.com/newsbot/newsbot)"
    # An item published longer than this before it is first seen is stored, never alerted
    # (0 switches the guard off).
    max_age: Duration = Field(default=3 * 86400.0, ge=0)
    # How long a worker's claim on a feed lasts without renewal. A worker renews it while the
    # fetch runs and gives it back on a clean stop; after a crash another worker takes the
    # feed once this has passed.
    lease: Duration = Field(default=30.0, ge=5)


class TopicConfig(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")
    name: str
    description: str
    terms: list[str] = Field(default_factory=list)
    actors: list[str] = Field(default_factory=list)
    threshold: Share | None = None


class ThresholdsConfig(_Strict):
    relevance: Share = 0.5
    # The similarity at which a report joins an open story (bot/core/stories.py): the one
    # story-grouping threshold, which `/news admin threshold story` edits.
    story: Share = 0.3
    story_window: Duration = 4 * 86400.0  # how long a story stays open to new reports


class AdminsConfig(_Strict):
    slack_users: list[str] = Field(default_factory=list)
    discord_roles: list[str] = Field(default_factory=list)
    discord_users: list[str] = Field(default_factory=list)


class DeliveryConfig(_Strict):
    # Where the console adapter posts when nothing subscribed yet: every topic.
    console_channel: str = "console"
    follow_ups: Literal["edit", "thread"] = "edit"


class ArticlesConfig(_Strict):
    """Fetching the article behind a title-only item (a headline and no summary)."""

    enabled: bool = True
    max_per_cycle: int = Field(default=20, ge=0, le=1000)
    timeout: Duration = 10.0  # total per article request
    max_bytes: Size = 2 * 10**6  # an article page is smaller than a feed's backlog
    lead_chars: int = Field(default=600, ge=100, le=4000)


class AppConfig(_Strict):
    poll: PollConfig = PollConfig()
    feeds: list[FeedConfig] = Field(default_factory=list)
    thresholds: ThresholdsConfig = ThresholdsConfig()
    topics: list[TopicConfig] = Field(min_length=1)
    matching: MatchingSettings
    admins: AdminsConfig = AdminsConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    articles: ArticlesConfig = ArticlesConfig()
    discord_guilds: list[str] = Field(default_factory=list)

    @field_validator("topics")
    @classmethod
    def _unique_topics(cls, topics: list[TopicConfig]) -> list[TopicConfig]:
        seen: set[str] = set()
        for t in topics:
            if t.id in seen:
                raise ValueError(f"topic id {t.id!r} appears twice; each id must be unique")
            seen.add(t.id)
        return topics


@dataclass(frozen=True)
class ConfigError(Exception):
    """A config problem a person can fix: where it is and what to do."""

    path: Path
    line: int | None
    problem: str
    fix: str
    # The file's other problems (in the schema's order): `config check` lists them all.
    others: tuple[ConfigError, ...] = ()

    def __str__(self) -> str:
        return "\n".join(e.line_text() for e in (self, *self.others))

    def line_text(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.problem}. Fix: {self.fix}"


def load_config(path: Path) -> AppConfig:
    """Read and validate a config file; every failure is a ConfigError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            path,
            None,
            "the config file does not exist",
            "pass --config PATH or set NEWSBOT_CONFIG to an existing file",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            path,
            None,
            f"the config file cannot be read ({exc.__class__.__name__})",
            "check the file's permissions and that it is UTF-8 text",
        ) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> AppConfig:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(
            path,
            line,
            f"the file is not valid YAML ({exc.problem})",
            "check indentation, colons and quotes on that line",
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(
            path,
            1,
            "the top level must be a mapping of sections",
            "start from config/newsbot.yaml, which has poll:, feeds:, topics:",
        ) from None
    found: list[ConfigError] = []
    if retired_join(data.get("matching")) is not None:
        where = ("matching", "grouping", "join")
        found.append(ConfigError(path, _line_of(node, where), *RETIRED_JOIN))
        data = {**data, "matching": _without_join(data["matching"])}
    try:
        cfg = AppConfig.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(str(p) for p in loc) or "(top level)"
            found.append(
                ConfigError(path, _line_of(node, loc), f"{dotted}: {_problem(err)}", _fix(err, loc))
            )
    if found:
        raise ConfigError(*_fields(found[0]), others=tuple(found[1:])) from None
    return cfg


def _fields(e: ConfigError) -> tuple[Path, int | None, str, str]:
    return e.path, e.line, e.problem, e.fix


def _without_join(matching: dict[str, Any]) -> dict[str, Any]:
    # The retired key is reported once; the rest of the file is still checked.
    grouping = {k: v for k, v in matching["grouping"].items() if k != "join"}
    return {**matching, "grouping": grouping}


# Settings that were removed, and what replaces them: a config still carrying one says so.
REMOVED = {
    "allow_private_addresses": (
        "this setting was removed: it opened private addresses to every feed and redirect",
        "delete it, and put allow_private: true on each feed that is on your own network",
    ),
}


def _problem(err: Any) -> str:
    msg = str(err["msg"])
    if err["type"] == "extra_forbidden" and err["loc"] and err["loc"][-1] in REMOVED:
        return REMOVED[err["loc"][-1]][0]
    if err["type"] == "extra_forbidden":
        return "unknown setting"
    if err["type"] == "missing":
        return "required setting is missing"
    return msg.removeprefix("Value error, ")


def _fix(err: Any, loc: tuple[Any, ...]) -> str:
    if err["type"] == "extra_forbidden" and loc and loc[-1] in REMOVED:
        return REMOVED[loc[-1]][1]
    if err["type"] == "extra_forbidden":
        return "remove it or correct its spelling (see config/newsbot.yaml for the known settings)"
    if err["type"] == "missing":
        return f"add {loc[-1]!s}: to that entry"
    if err["type"].startswith("url"):
        return "give a full http:// or https:// address"
    return "change the value on that line as the message says"


DataModel = TypeVar("DataModel", bound=BaseModel)


def read_data_file(
    path: Path, model: type[DataModel], *, what: str, shape: str
) -> tuple[DataModel, yaml.Node | None]:
    """A packaged knowledge file (bot/data/*.yaml) read and validated, with its node tree for
    later line numbers; every failure a ConfigError naming the file, the line and the fix.
    ``what`` names the file's content, ``shape`` says what a block needs."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(
            path, None, f"the {what} cannot be read ({exc.__class__.__name__})",
            f"reinstall newsbot or restore bot/data/{path.name}",
        ) from None  # fmt: skip
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ConfigError(
            path, mark.line + 1 if mark else None, f"not valid YAML ({exc.problem})",
            "check indentation, commas and brackets on that line",
        ) from None  # fmt: skip
    try:
        return model.model_validate(data), node
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        problem = "unknown field" if err["type"] == "extra_forbidden" else str(err["msg"])
        raise ConfigError(path, _line_of(node, loc), f"{dotted}: {problem}", shape) from None


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Walk the YAML node tree along a validation error's path to the closest line."""
    if node is None:
        return None
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next((v for k, v in node.value if k.value == part), None)
            if found is None:
                key = next((k for k, _ in node.value if k.value == part), None)
                return key.start_mark.line + 1 if key else line
            node = found
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line
