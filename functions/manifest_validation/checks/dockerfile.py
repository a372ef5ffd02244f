"""What a Dockerfile builds FROM, read the way bashbrew's `pkg/dockerfile` reads it.

Only what decides the parents is interpreted; everything else is skipped:

* A parser directive `# escape=X` (`\\` or a backtick) at the very top changes the escape
  character; directives end at the first line that is not one.
* A line whose last non-blank character is the escape character continues on the next line;
  blank lines and comment lines inside a continuation are skipped. Instructions are
  case-insensitive and split on whitespace.
* `FROM [--platform=...] IMAGE [AS NAME]`: IMAGE is a parent unless it names an earlier stage
  (stage names are case-insensitive, as in Docker). `COPY --from=X` and the bind mounts of
  `RUN --mount=type=bind,from=X,...` add X as a parent unless X names an earlier stage (by
  name or by number). A mount without `type=` is a bind mount too, as in Docker (bashbrew
  reads only an explicit `type=bind`, and would miss that the build pulls X).
* An image without a tag means `:latest` (`scratch` excepted).
* `froms` and `last_stage_from` are what bashbrew itself reports (`ArchDockerFroms`,
  `ArchLastStageFrom`: the publisher's `sources.json` carries them verbatim), read with
  bashbrew's own, simpler rules (see `_bashbrew_froms`).
* `ARG` defaults declared before the first FROM are substituted into FROM and `--from` values:
  `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`; an
  escaped `$` stays literal. A value that still holds a variable nobody set is an error.

Pure and linear in the size of the input: no I/O, no regular expression that can backtrack,
substitution nesting and file size bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass, field

__all__ = [
    "MAX_DOCKERFILE_BYTES",
    "DockerfileError",
    "ParsedDockerfile",
    "Stage",
    "latest_tagged",
    "parse_dockerfile",
]

# Real Dockerfiles are a few KiB (the largest of the official images are ~30 KiB).
MAX_DOCKERFILE_BYTES = 1024 * 1024
# `${A:-${B:-${C}}}`: deeper nesting than this is refused rather than recursed into.
MAX_SUBSTITUTION_DEPTH = 8
# `ARG B=$A$A` doubles a value per line: expanded values are capped instead of growing
# exponentially (an image reference is at most a few hundred characters).
MAX_VALUE_CHARS = 64 * 1024
SCRATCH = "scratch"
_ESCAPES = ("\\", "`")


@dataclass(frozen=True, slots=True)
class DockerfileError:
    """Why (part of) a Dockerfile could not be understood; `line` is 1-based in the file."""

    message: str
    line: int


@dataclass(frozen=True, slots=True)
class Stage:
    """One FROM: its base as written after substitution (a parent or an earlier stage's
    name), its own name, and its line."""

    base: str
    name: str | None
    line: int


@dataclass(frozen=True, slots=True)
class ParsedDockerfile:
    """`parents`: every image the build pulls, in order of first use, each once (bashbrew's
    `DockerFroms` without the repetitions); `stages`: every FROM in order.

    `froms` is bashbrew's `DockerFroms` exactly (every FROM, `COPY --from` and bind-mount
    `from`, stage references resolved to their stage's image, with repetitions) and
    `last_stage_from` its `ArchLastStageFrom` (the last stage's image, through stage names):
    what the publisher's `sources.json` carries, so they follow bashbrew's reading, not
    Docker's (see `_bashbrew_froms`)."""

    parents: tuple[str, ...]
    stages: tuple[Stage, ...]
    errors: tuple[DockerfileError, ...] = ()
    froms: tuple[str, ...] = ()
    last_stage_from: str | None = None

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages if stage.name)

    @property
    def final_parent(self) -> str | None:
        """The image the last stage is built on (bashbrew's `DockerFrom`), through stages."""
        if not self.stages:
            return None
        by_name: dict[str, str] = {}
        resolved = ""
        for stage in self.stages:
            resolved = by_name.get(stage.base.lower(), stage.base)
            if stage.name:
                by_name[stage.name.lower()] = resolved
        return resolved


def latest_tagged(image: str) -> str:
    """`debian` -> `debian:latest`; a tag or digest is kept, `scratch` stays `scratch`."""
    if image == SCRATCH:
        return image
    last = image.rsplit("/", 1)[-1]
    if ":" in last or "@" in last:
        return image
    return f"{image}:latest"


# --------------------------------------------------------------------------------------------
# Lines
# --------------------------------------------------------------------------------------------


def _directives(lines: list[str]) -> tuple[str, int, list[DockerfileError]]:
    """(escape character, index of the first line after the directives, errors)."""
    escape = "\\"
    errors: list[DockerfileError] = []
    seen: set[str] = set()
    for index, raw in enumerate(lines):
        text = raw.strip()
        if not text.startswith("#"):
            return escape, index, errors
        key, equals, value = text[1:].partition("=")
        key = key.strip().lower()
        if not equals or not key.isalnum() or key in seen:
            return escape, index, errors  # an ordinary comment ends the directives
        seen.add(key)
        if key == "escape":
            value = value.strip()
            if value in _ESCAPES:
                escape = value
            else:
                errors.append(
                    DockerfileError(
                        f"invalid escape directive {value[:20]!r} (use \\ or `)", index + 1
                    )
                )
    return escape, len(lines), errors


def _logical_lines(text: str) -> tuple[list[tuple[int, str]], str, list[DockerfileError]]:
    """(line number, instruction text) with continuations joined and comments dropped; the
    escape character; errors of the directives."""
    lines = text.split("\n")
    escape, start, errors = _directives(lines)
    logical: list[tuple[int, str]] = []
    parts: list[str] = []
    first = 0
    for index in range(start, len(lines)):
        text_line = lines[index].strip()
        if not text_line or text_line.startswith("#"):
            continue  # blank lines and comments, also inside a continuation
        if not parts:
            first = index + 1
        if text_line.endswith(escape):
            parts.append(text_line[: -len(escape)])
            continue
        parts.append(text_line)
        logical.append((first, "".join(parts)))
        parts = []
    if parts:  # the file ends inside a continuation: Docker takes what is there
        logical.append((first, "".join(parts)))
    return logical, escape, errors


# --------------------------------------------------------------------------------------------
# Variables
# --------------------------------------------------------------------------------------------


class _Unresolved(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _is_name_start(char: str) -> bool:
    return char == "_" or ("a" <= char <= "z") or ("A" <= char <= "Z")


def _is_name_char(char: str) -> bool:
    return _is_name_start(char) or ("0" <= char <= "9")


class _Substitution:
    """Expands `$VAR` and `${VAR...}` forms in one word, in one left-to-right pass."""

    def __init__(self, text: str, values: dict[str, str | None], escape: str) -> None:
        self.text = text
        self.values = values
        self.escape = escape
        self.pos = 0
        self.size = 0  # characters substituted so far

    def expand(self, stop: str = "", depth: int = 0, *, used: bool = True) -> str:
        """The text up to `stop`, expanded; when not `used` (the word of `${X:-word}` with X
        set) it is only skipped over: its variables need no value."""
        if depth > MAX_SUBSTITUTION_DEPTH:
            raise ValueError("variables nested too deeply")
        out: list[str] = []
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if stop and char == stop:
                return "".join(out)
            if char == self.escape and self.pos + 1 < len(text) and text[self.pos + 1] == "$":
                out.append("$")
                self.pos += 2
                continue
            if char != "$":
                out.append(char)
                self.pos += 1
                continue
            self.pos += 1
            start = self.pos
            value = self._variable(depth, used)
            if self.pos > start:  # a variable, not a lone `$`
                self.size += len(value)
            if self.size > MAX_VALUE_CHARS:
                raise ValueError(f"value longer than {MAX_VALUE_CHARS} characters")
            out.append(value)
        if stop:
            raise ValueError(f"missing {stop!r} in {self.text[:80]!r}")
        return "".join(out)

    def _name(self) -> str:
        start = self.pos
        text = self.text
        while self.pos < len(text) and _is_name_char(text[self.pos]):
            self.pos += 1
        return text[start : self.pos]

    def _lookup(self, name: str) -> str | None:
        return self.values.get(name)

    def _variable(self, depth: int, used: bool) -> str:
        text = self.text
        if self.pos >= len(text):
            return "$"
        if text[self.pos] != "{":
            if not _is_name_start(text[self.pos]):
                return "$"
            name = self._name()
            value = self._lookup(name)
            if value is None and used:
                raise _Unresolved(name)
            return value or ""
        self.pos += 1
        name = self._name()
        if not name:
            raise ValueError(f"bad substitution in {text[:80]!r}")
        if self.pos >= len(text):
            raise ValueError(f"missing '}}' in {text[:80]!r}")
        value = self._lookup(name)
        if text[self.pos] == "}":
            self.pos += 1
            if value is None and used:
                raise _Unresolved(name)
            return value or ""
        colon = text[self.pos] == ":"
        if colon:
            self.pos += 1
        operator = text[self.pos] if self.pos < len(text) else ""
        if operator not in ("-", "+", "?"):
            raise ValueError(
                f"unsupported substitution ${{{name}{':' if colon else ''}{operator}...}}"
            )
        self.pos += 1
        is_set = value is not None and (value != "" or not colon)
        word_used = used and (is_set if operator == "+" else not is_set)
        word = self.expand("}", depth + 1, used=word_used)
        self.pos += 1  # the closing brace
        if operator == "-":
            return value if is_set and value is not None else word
        if operator == "+":
            return word if is_set else ""
        if (not is_set or value is None) and used:  # `?`: required
            raise _Unresolved(name)
        return value or ""


def _substitute(word: str, values: dict[str, str | None], escape: str) -> str:
    if "$" not in word:
        return word
    return _Substitution(word, values, escape).expand()


def _arg_words(text: str) -> list[str]:
    """The words of an ARG instruction, with shell-like quotes removed."""
    words: list[str] = []
    current: list[str] = []
    quote = ""
    in_word = False
    for char in text:
        if quote:
            if char == quote:
                quote = ""
            else:
                current.append(char)
        elif char in "\"'":
            quote = char
            in_word = True
        elif char.isspace():
            if in_word:
                words.append("".join(current))
                current = []
                in_word = False
        else:
            current.append(char)
            in_word = True
    if in_word:
        words.append("".join(current))
    return words


# --------------------------------------------------------------------------------------------
# Instructions
# --------------------------------------------------------------------------------------------


@dataclass
class _State:
    escape: str
    args: dict[str, str | None] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    names: set[str] = field(default_factory=set)
    parents: dict[str, None] = field(default_factory=dict)  # ordered set
    errors: list[DockerfileError] = field(default_factory=list)

    def value(self, word: str, line: int, what: str) -> str | None:
        try:
            return _substitute(word, self.args, self.escape)
        except _Unresolved as unresolved:
            self.errors.append(
                DockerfileError(
                    f"{what} {word!r} uses ${unresolved.name}, which no ARG before the first "
                    "FROM sets",
                    line,
                )
            )
        except ValueError as error:
            self.errors.append(DockerfileError(f"{what} {word[:80]!r}: {error}", line))
        return None

    def is_stage(self, reference: str, *, numbered: bool) -> bool:
        if reference.lower() in self.names:
            return True
        return numbered and reference.isdigit() and int(reference) < len(self.stages)

    def use(self, reference: str) -> None:
        self.parents.setdefault(latest_tagged(reference), None)


def _from(state: _State, words: list[str], line: int) -> None:
    rest = [word for word in words[1:] if not word.startswith("--")]
    if not rest:
        state.errors.append(DockerfileError("FROM names no image", line))
        return
    name = rest[2] if len(rest) >= 3 and rest[1].upper() == "AS" else None
    base = state.value(rest[0], line, "FROM")
    if base == "":
        state.errors.append(DockerfileError(f"FROM {rest[0]!r} is empty", line))
    elif base is not None and not state.is_stage(base, numbered=False):
        state.use(base)
    # counted even when unusable, so later references to it by name or number stay stages
    state.stages.append(Stage(base or rest[0], name, line))
    if name:
        state.names.add(name.lower())


def _copy(state: _State, words: list[str], line: int) -> None:
    for word in words[1:]:
        if not word.startswith("--"):
            return  # flags come first
        if word.startswith("--from="):
            _reference(state, word[len("--from=") :], line, "COPY --from", numbered=True)


def _run(state: _State, words: list[str], line: int) -> None:
    for word in words[1:]:
        if not word.startswith("--"):
            return
        if not word.startswith("--mount="):
            continue
        options: dict[str, str] = {}
        for option in word[len("--mount=") :].split(","):
            key, _, value = option.partition("=")
            options[key.strip().lower()] = value.strip()
        # only a bind mount's `from` is pulled; bind is Docker's default type (bashbrew
        # wants `type=bind` spelled out: we list what the build really pulls)
        source = options.get("from")
        if source and options.get("type", "bind") == "bind":
            _reference(state, source, line, "RUN --mount from", numbered=True)


def _reference(state: _State, raw: str, line: int, what: str, *, numbered: bool) -> None:
    reference = state.value(raw, line, what)
    if reference and not state.is_stage(reference, numbered=numbered):
        state.use(reference)


def _arg(state: _State, words: list[str]) -> None:
    """ARG before the first FROM: declare (and maybe default) variables for FROM lines."""
    for word in words[1:]:
        name, equals, default = word.partition("=")
        if not name:
            continue
        if not equals:
            state.args.setdefault(name, None)
            continue
        try:
            state.args[name] = _substitute(default, state.args, state.escape)
        except (_Unresolved, ValueError):
            state.args[name] = None  # using it later reports the unresolved variable


# --------------------------------------------------------------------------------------------
# bashbrew's own view (the publisher's `froms` and `lastStageFrom`)
# --------------------------------------------------------------------------------------------

_GO_ATOI = re.compile(r"[+-]?[0-9]+")


def _bashbrew_latest(image: str) -> str:
    """bashbrew's `latestizeRepoTag`: any `:` counts as a tag (`localhost:5000/x` stays)."""
    return image if image == SCRATCH or ":" in image else f"{image}:latest"


def _bashbrew_lines(text: str) -> Iterator[list[str]]:
    """The words of each instruction as bashbrew's parser splits them: `#` lines are comments
    (a `# escape=` directive too: `\\` always continues a line), a line ending in `\\`
    continues on the next one that is neither blank nor a comment, the next line's leading
    blanks kept (so `debian:\\` then `  bookworm` is two words, as bashbrew reads it)."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        index += 1
        if not line or line.startswith("#"):
            continue
        parts = []  # joined once: a long continuation stays linear
        while line.endswith("\\"):
            parts.append(line[:-1])
            line = ""
            while index < len(lines) and not line:
                following = lines[index].rstrip()
                index += 1
                if following and not following.lstrip().startswith("#"):
                    line = following
        parts.append(line)
        words = "".join(parts).split()
        if words:
            yield words


def _bashbrew_froms(text: str, args: dict[str, str | None]) -> tuple[tuple[str, ...], str | None]:
    """(`froms`, `last_stage_from`) as bashbrew's `pkg/dockerfile` computes them.

    It differs from the reading above on purpose, to give the values the publisher has: stage
    names are case-sensitive, a stage number (Go's `Atoi`: an optional sign and digits) below
    the number of stages so far means that stage, only `RUN --mount` with `type=bind` spelled
    out counts, and each reference is listed every time it is used. bashbrew refuses a `$` in
    a FROM; such a file still gets its value here, with the ARG defaults substituted."""
    froms: list[str] = []
    stages: list[str] = []  # each stage's image, stage names resolved
    named: dict[str, int] = {}

    def resolve(reference: str) -> str:
        if reference in named:
            return stages[named[reference]]
        if _GO_ATOI.fullmatch(reference) and 0 <= int(reference) < len(stages):
            return stages[int(reference)]
        return _bashbrew_latest(reference)

    for words in _bashbrew_lines(text):
        keyword, rest = words[0].upper(), words[1:]
        if keyword == "FROM":
            if rest and rest[0].startswith("--platform="):
                rest = rest[1:]
            if not rest:
                continue
            image, rest = rest[0], rest[1:]
            if "$" in image:
                with suppress(_Unresolved, ValueError):  # the reading above reports it
                    image = _substitute(image, args, "\\")
            image = stages[named[image]] if image in named else _bashbrew_latest(image)
            if len(rest) == 2 and rest[0].upper() == "AS":
                named[rest[1]] = len(stages)
            stages.append(image)
            froms.append(image)
        elif keyword in ("COPY", "RUN"):
            for word in rest:
                if not word.startswith("--"):
                    break  # flags come first
                if keyword == "COPY" and word.startswith("--from="):
                    froms.append(resolve(word[len("--from=") :]))
                elif keyword == "RUN" and word.startswith("--mount="):
                    options = word[len("--mount=") :].split(",")
                    kind = [o[len("type=") :] for o in options if o.startswith("type=")]
                    source = [o[len("from=") :] for o in options if o.startswith("from=")]
                    if kind and kind[-1] == "bind" and source and source[-1]:
                        froms.append(resolve(source[-1]))
    return tuple(froms), (stages[-1] if stages else None)


def parse_dockerfile(data: bytes | str) -> ParsedDockerfile:
    """The parents and stages of a Dockerfile, with what could not be understood."""
    if isinstance(data, bytes):
        if len(data) > MAX_DOCKERFILE_BYTES:
            return ParsedDockerfile(
                (), (), (DockerfileError(f"larger than {MAX_DOCKERFILE_BYTES} bytes", 1),)
            )
        text = data.decode("utf-8", errors="replace")
    else:
        text = data
        if len(text) > MAX_DOCKERFILE_BYTES:
            return ParsedDockerfile(
                (), (), (DockerfileError(f"larger than {MAX_DOCKERFILE_BYTES} bytes", 1),)
            )
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    logical, escape, errors = _logical_lines(text)
    state = _State(escape=escape)  # it also decides whether `\$` is literal in values
    state.errors.extend(errors)
    for line, instruction in logical:
        words = instruction.split()
        if not words:
            continue
        keyword = words[0].upper()
        if keyword == "FROM":
            _from(state, words, line)
        elif keyword == "ARG" and not state.stages:
            arg_words = _arg_words(instruction[len(words[0]) :])
            _arg(state, ["ARG", *arg_words])
        elif keyword == "COPY":
            _copy(state, words, line)
        elif keyword == "RUN":
            _run(state, words, line)
    if not state.stages:
        state.errors.append(DockerfileError("no FROM instruction", 1))
    froms, last_stage_from = _bashbrew_froms(text, state.args)
    return ParsedDockerfile(
        tuple(state.parents),
        tuple(state.stages),
        tuple(state.errors),
        froms,
        last_stage_from,
    )
