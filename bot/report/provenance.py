"""Provenance of a render: an in-toto Statement v1 with a SLSA Provenance v1 predicate.

The statement names every file the template produced (its sha256) and the exact inputs that
produced it (template source, ref and commit, a digest of the answers, the evobot version), so
`evobot verify` can re-render and compare. Serialised with sorted keys: identical inputs give
identical bytes except for ``runDetails.metadata`` (invocation id and times), which the caller
supplies through a clock and an id factory.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot import __version__
from bot.clock import Clock, SystemClock, utc_now

if TYPE_CHECKING:
    from bot.consumer import ConsumerConfig
    from bot.evolution import Evolution
    from bot.template import ResolvedTemplate
from bot.errors import EvobotError
from bot.parsing import load_json
from bot.template.source import redact_url
from bot.tree import File

__all__ = [
    "DEFAULT_BUILDER_ID",
    "PREDICATE_TYPE",
    "PROVENANCE_PATH",
    "STATEMENT_TYPE",
    "BuildDefinition",
    "BuildMetadata",
    "Builder",
    "ExternalParameters",
    "Provenance",
    "ProvenanceError",
    "ResourceDescriptor",
    "RunDetails",
    "Statement",
    "Subject",
    "answers_digest",
    "build_provenance",
    "build_type",
    "dump_statement",
    "equivalent",
    "parse_statement",
    "provenance_file",
    "provenance_for_evolution",
    "provenance_for_render",
    "public_source",
    "statement_digest",
    "system_clock",
]

PROVENANCE_PATH = ".evobot/provenance.json"
STATEMENT_TYPE: Final = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE: Final = "https://slsa.dev/provenance/v1"
DEFAULT_BUILDER_ID = "https://evobot.dev/builders/evobot-cli/v1"
_BUILD_TYPE_BASE = "https://evobot.dev/evolution/v1"


class ProvenanceError(EvobotError):
    """A provenance file that is missing, unreadable or not a statement evobot can check."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Subject(_Model):
    """One output file: its path in the consumer and the sha256 of its bytes."""

    name: str
    digest: dict[str, str]


class ResourceDescriptor(_Model):
    """An in-toto ResourceDescriptor: something the build read, by URI and digest."""

    uri: str
    digest: dict[str, str] | None = None
    name: str | None = None


class ExternalParameters(_Model):
    """The inputs a person controls; `evobot verify` checks them against `.evobot.yml`."""

    template: str
    template_subdir: str | None = Field(default=None, alias="templateSubdir")
    ref: str | None = None
    commit: str
    answers_digest: str = Field(alias="answersDigest")
    consumer: str | None = None


class BuildDefinition(_Model):
    build_type: str = Field(alias="buildType")
    external_parameters: ExternalParameters = Field(alias="externalParameters")
    internal_parameters: dict[str, Any] = Field(default_factory=dict, alias="internalParameters")
    resolved_dependencies: list[ResourceDescriptor] = Field(
        default_factory=list, alias="resolvedDependencies"
    )


class Builder(_Model):
    id: str
    version: dict[str, str] = Field(default_factory=dict)


class BuildMetadata(_Model):
    invocation_id: str = Field(alias="invocationId")
    started_on: str = Field(alias="startedOn")
    finished_on: str = Field(alias="finishedOn")

    @field_validator("started_on", "finished_on")
    @classmethod
    def _rfc3339(cls, value: str) -> str:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return value


class RunDetails(_Model):
    builder: Builder
    metadata: BuildMetadata


class Provenance(_Model):
    """The SLSA Provenance v1 predicate."""

    build_definition: BuildDefinition = Field(alias="buildDefinition")
    run_details: RunDetails = Field(alias="runDetails")


class Statement(_Model):
    """An in-toto Statement v1 whose predicate is SLSA Provenance v1."""

    type: Literal["https://in-toto.io/Statement/v1"] = Field(default=STATEMENT_TYPE, alias="_type")
    subject: list[Subject]
    predicate_type: Literal["https://slsa.dev/provenance/v1"] = Field(
        default=PREDICATE_TYPE, alias="predicateType"
    )
    predicate: Provenance

    @property
    def external(self) -> ExternalParameters:
        return self.predicate.build_definition.external_parameters

    def subject_digests(self) -> dict[str, str]:
        """``{path: sha256}`` of every subject."""
        return {s.name: s.digest.get("sha256", "") for s in self.subject}


# The wall clock; callers at the edges pass it to :func:`build_provenance`.
system_clock: Clock = SystemClock()


def _timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def public_source(source: str) -> str:
    """``source`` without credentials: a URL's user and password never reach a provenance file."""
    return redact_url(source)


def answers_digest(answers: Mapping[str, Any]) -> str:
    """sha256 of the answers as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return hashlib.sha256(_canonical_json(dict(answers))).hexdigest()


def build_type(evobot_version: str = __version__) -> str:
    """The buildType URI, naming the evobot version that defines the build's semantics."""
    return f"{_BUILD_TYPE_BASE}?version={quote(evobot_version, safe='')}"


def _template_dependency(
    source: str, ref: str | None, commit: str, is_git: bool
) -> ResourceDescriptor:
    if is_git:
        return ResourceDescriptor(
            name="template", uri=f"git+{source}@{ref or commit}", digest={"gitCommit": commit}
        )
    # A plain directory has no commit; its id is a content digest computed by bot.template.
    return ResourceDescriptor(name="template", uri=source, digest={"sha1": commit})


def build_provenance(
    *,
    tree: Mapping[str, File],
    template: str,
    commit: str,
    answers: Mapping[str, Any],
    clock: Clock,
    ref: str | None = None,
    template_subdir: str | None = None,
    template_is_git: bool = True,
    consumer: str | None = None,
    started_on: datetime | None = None,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    builder_id: str = DEFAULT_BUILDER_ID,
    evobot_version: str = __version__,
) -> Statement:
    """The statement for ``tree``, the files the template produced from these inputs.

    ``tree`` should be the render (what the template produced), not the merged consumer tree:
    that is what a re-render can reproduce. The provenance file itself is never a subject.
    """
    subjects = [
        Subject(name=path, digest={"sha256": f.sha256})
        for path, f in sorted(tree.items())
        if path != PROVENANCE_PATH
    ]
    finished = utc_now(clock)
    template = public_source(template)
    external = ExternalParameters(
        template=template,
        template_subdir=template_subdir,
        ref=ref,
        commit=commit,
        answers_digest=answers_digest(answers),
        consumer=consumer,
    )
    return Statement(
        subject=subjects,
        predicate=Provenance(
            build_definition=BuildDefinition(
                build_type=build_type(evobot_version),
                external_parameters=external,
                internal_parameters={"provenancePath": PROVENANCE_PATH},
                resolved_dependencies=[
                    _template_dependency(template, ref, commit, template_is_git),
                    ResourceDescriptor(
                        name="evobot", uri=f"pkg:pypi/evobot@{quote(evobot_version, safe='')}"
                    ),
                ],
            ),
            run_details=RunDetails(
                builder=Builder(id=builder_id, version={"evobot": evobot_version}),
                metadata=BuildMetadata(
                    invocation_id=new_id(),
                    started_on=_timestamp(started_on or finished),
                    finished_on=_timestamp(finished),
                ),
            ),
        ),
    )


def dump_statement(statement: Statement) -> bytes:
    """The statement as the bytes of `.evobot/provenance.json`: sorted keys, 2-space indent."""
    data = statement.model_dump(mode="json", by_alias=True, exclude_none=True)
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def statement_digest(statement: Statement) -> str:
    """sha256 of the serialised statement: the digest shown in the PR body."""
    return hashlib.sha256(dump_statement(statement)).hexdigest()


def parse_statement(data: bytes | str, *, source: str = PROVENANCE_PATH) -> Statement:
    """Parse and validate a provenance file; errors name ``source`` and what is wrong."""
    raw = load_json(data, source=source, error=ProvenanceError)
    if not isinstance(raw, dict):
        raise ProvenanceError(f"{source}: must be a JSON object, got {type(raw).__name__}")
    try:
        return Statement.model_validate(raw, by_alias=True)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"{source}: {where}: {err['msg']}")
        raise ProvenanceError("\n".join(lines)) from None


def equivalent(a: Statement, b: Statement) -> bool:
    """Whether two statements record the same build, ignoring invocation id and times.

    Callers keep the existing provenance file when the new one is equivalent, so re-running an
    evolution that changes nothing changes no byte.
    """

    def without_metadata(s: Statement) -> dict[str, Any]:
        data = s.model_dump(mode="json", by_alias=True, exclude_none=True)
        data["predicate"]["runDetails"].pop("metadata", None)
        return data

    return without_metadata(a) == without_metadata(b)


def provenance_for_evolution(
    evolution: Evolution,
    *,
    clock: Clock,
    consumer: str | None = None,
    started_on: datetime | None = None,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    builder_id: str = DEFAULT_BUILDER_ID,
) -> Statement:
    """The statement for an evolution: its target render, template and updated answers."""
    template = evolution.template
    return build_provenance(
        tree=evolution.new_tree,
        template=evolution.config.template,
        template_subdir=evolution.config.template_subdir,
        ref=evolution.to_version.ref,
        commit=evolution.to_version.commit,
        template_is_git=template.is_git,
        answers=evolution.config.answers,
        consumer=consumer,
        clock=clock,
        started_on=started_on,
        new_id=new_id,
        builder_id=builder_id,
    )


def provenance_for_render(
    template: ResolvedTemplate,
    tree: Mapping[str, File],
    config: ConsumerConfig,
    *,
    clock: Clock,
    consumer: str | None = None,
    started_on: datetime | None = None,
    new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    builder_id: str = DEFAULT_BUILDER_ID,
) -> Statement:
    """The statement for a first render: ``tree`` as rendered, ``config`` as written."""
    return build_provenance(
        tree=tree,
        template=config.template,
        template_subdir=config.template_subdir,
        ref=template.ref,
        commit=template.commit,
        template_is_git=template.is_git,
        answers=config.answers,
        consumer=consumer,
        clock=clock,
        started_on=started_on,
        new_id=new_id,
        builder_id=builder_id,
    )


def provenance_file(statement: Statement, existing: File | None = None) -> File:
    """The `.evobot/provenance.json` file to write: ``existing`` when it records the same build.

    Keeping the old bytes when only the invocation id and times differ makes a re-run that
    changes nothing write nothing.
    """
    if existing is not None and _records_same_build(existing.data, statement):
        return existing
    return File(dump_statement(statement))


def _records_same_build(data: bytes, statement: Statement) -> bool:
    try:
        old = parse_statement(data)
    except ProvenanceError:
        return False  # unreadable: replace it with a good one
    return equivalent(old, statement)
