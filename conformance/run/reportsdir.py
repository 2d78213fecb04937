"""The reports folder, and the rule that keeps the user's files out of reach: a run touches only its own.

A run only ever writes, replaces, scrubs or deletes files it wrote itself. A folder is accepted for the
reports when it does not exist (it is created), is empty, or holds only what an earlier run wrote: every
run lists the names it writes in a manifest (``.evs-conformance-manifest.json``) as it goes, and the next run
reads that list back. ``.gitignore``, ``.gitkeep`` and ``README.md`` may sit beside them and are never
touched. A folder holding anything else is refused with one line that says to choose an empty or new folder,
and so are the file system's root, an existing file, a path under a file, ``/proc``, ``/sys`` and ``/dev``,
and a folder, or a sub-folder the run would write into, that is a symbolic link.

Example::

    reports = ReportsDir.prepare("reports")            # UsageError, one line, when the folder is not ours
    reports.remove_previous()                          # what the previous manifest listed, nothing else
    junit = reports.claim("junit.xml")                 # listed in the manifest before anything is written
    allure = reports.claim("allure-results")           # a folder: everything in it is the run's
    ...
    reports.scrub(redactor)                            # rewrites only claimed files that hold a secret
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from conformance.core import inputs
from conformance.core.display import for_terminal, quoted
from conformance.core.errors import UsageError

#: The file that lists what runs wrote into the folder.
MANIFEST = ".evs-conformance-manifest.json"
#: Names that may share the folder with the reports; a run never writes, scrubs or removes them.
TOLERATED = frozenset({".gitignore", ".gitkeep", "README.md"})
#: A manifest is a short list of names; anything bigger is not one of ours.
MAX_MANIFEST_BYTES = 64 * 1024
_WRITER = "evs-conformance"
_SHOWN_NAMES = 5


class ReportsDir:
    """A reports folder the run owns a listed part of; build it with ``prepare``."""

    def __init__(self, path: Path, *, previous: Iterable[str] = (), flag: str = "--reports") -> None:
        self.path = path
        self.flag = flag
        self._previous: dict[str, None] = dict.fromkeys(previous)
        self._claimed: dict[str, None] = {}

    @classmethod
    def prepare(cls, path: str | Path, *, flag: str = "--reports") -> ReportsDir:
        """Check ``path`` may hold the reports (creating it when missing); raises UsageError when not."""
        folder = inputs.output_dir(path, flag=flag)
        shown = _shown(folder)
        if not os.path.lexists(folder):
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"{flag} {shown}: cannot create it: {_reason(exc)}") from None
            return cls(folder, flag=flag)
        try:
            names = sorted(entry.name for entry in os.scandir(folder))
        except OSError as exc:
            raise UsageError(f"{flag} {shown}: cannot list it: {_reason(exc)}") from None
        previous = _read_manifest(folder, flag=flag) if MANIFEST in names else []
        listed = {PurePosixPath(entry).parts[0] for entry in previous}
        foreign = [
            name for name in names if name not in listed and name not in TOLERATED and name != MANIFEST
        ]
        if foreign:
            shown_names = ", ".join(for_terminal(name, limit=60) for name in foreign[:_SHOWN_NAMES])
            more = f" and {len(foreign) - _SHOWN_NAMES} more" if len(foreign) > _SHOWN_NAMES else ""
            raise UsageError(
                f"{flag} {shown} holds files no earlier run wrote ({shown_names}{more}); choose an empty or "
                "new folder for the reports (a run never writes over or removes files it did not write)"
            )
        for name in sorted(listed):
            if (folder / name).is_symlink():
                raise UsageError(
                    f"{flag} {shown}: {for_terminal(name)} is a symbolic link; choose an empty or new folder"
                )
        return cls(folder, previous=previous, flag=flag)

    @property
    def previous(self) -> tuple[str, ...]:
        """What the previous run's manifest listed (and is not yet removed)."""
        return tuple(self._previous)

    @property
    def claimed(self) -> tuple[str, ...]:
        """What this run has said it writes, relative to the folder."""
        return tuple(self._claimed)

    def claim(self, relpath: str) -> Path:
        """Record that the run writes the file or folder ``relpath``; returns its path. Persisted at once.

        Raises UsageError for a path outside the folder, a name the run never writes, a link on the way,
        or a file there that no run wrote.
        """
        name = _checked_entry(relpath, flag=self.flag)
        target = self.path / name
        current = self.path
        for part in PurePosixPath(name).parts:
            current = current / part
            if current.is_symlink():
                raise UsageError(
                    f"{self.flag} {_shown(self.path)}: {for_terminal(str(current))} is a symbolic link; "
                    "a run does not write through links"
                )
        top = PurePosixPath(name).parts[0]
        ours = {PurePosixPath(entry).parts[0] for entry in (*self._previous, *self._claimed)}
        if os.path.lexists(self.path / top) and top not in ours:
            raise UsageError(
                f"{self.flag} {_shown(self.path)}: {for_terminal(top)} exists and no run wrote it; choose an "
                "empty or new folder"
            )
        self._claimed[name] = None
        self._write_manifest()
        return target

    def remove_previous(self) -> list[Path]:
        """Remove what the previous run's manifest listed, and nothing else; the paths removed."""
        removed: list[Path] = []
        for name in list(self._previous):
            path = self.path / name
            try:
                status = path.lstat()
            except FileNotFoundError:
                del self._previous[name]
                continue
            except OSError as exc:
                raise UsageError(f"cannot remove {_shown(path)}: {_reason(exc)}") from None
            try:
                if stat.S_ISDIR(status.st_mode):
                    # rmtree removes links inside the folder, never what they point to.
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except OSError as exc:
                raise UsageError(f"cannot remove {_shown(path)}: {_reason(exc)}") from None
            del self._previous[name]
            removed.append(path)
        self._write_manifest()
        return removed

    def written_files(self) -> list[Path]:
        """Every regular file inside what the run claimed (links and special files left out)."""
        files: list[Path] = []
        for name in self._claimed:
            path = self.path / name
            try:
                status = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(status.st_mode):
                files.append(path)
            elif stat.S_ISDIR(status.st_mode):
                for root, _, names in os.walk(path, followlinks=False):
                    for file_name in sorted(names):
                        candidate = Path(root) / file_name
                        if stat.S_ISREG(candidate.lstat().st_mode):
                            files.append(candidate)
        return files

    def scrub(self, redact: Callable[[str], str]) -> list[Path]:
        """Rewrite each file the run wrote whose text ``redact`` changes; the files rewritten."""
        rewritten: list[Path] = []
        for path in self.written_files():
            try:
                raw = path.read_bytes()
            except OSError:
                continue
            # surrogateescape keeps bytes that are not UTF-8 as they were.
            text = raw.decode("utf-8", "surrogateescape")
            masked = redact(text)
            if masked != text:
                path.write_bytes(masked.encode("utf-8", "surrogateescape"))
                rewritten.append(path)
        return rewritten

    def _write_manifest(self) -> None:
        entries = list(dict.fromkeys([*self._previous, *self._claimed]))
        document = {"written_by": _WRITER, "entries": entries}
        temporary = self.path / f"{MANIFEST}.tmp"
        try:
            temporary.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
            os.replace(temporary, self.path / MANIFEST)
        except OSError as exc:
            raise UsageError(
                f"{self.flag} {_shown(self.path)}: cannot write {MANIFEST}: {_reason(exc)}"
            ) from None


def _read_manifest(folder: Path, *, flag: str) -> list[str]:
    path = folder / MANIFEST
    refusal = (
        f"{flag} {_shown(folder)}: {MANIFEST} is not a manifest this tool wrote; "
        "choose an empty or new folder"
    )
    try:
        text = inputs.input_file(path, what=MANIFEST, max_bytes=MAX_MANIFEST_BYTES)
        document = json.loads(text)
    except (UsageError, ValueError, RecursionError):
        raise UsageError(refusal) from None
    if not (
        isinstance(document, dict)
        and document.get("written_by") == _WRITER
        and isinstance(document.get("entries"), list)
        and all(isinstance(entry, str) for entry in document["entries"])
    ):
        raise UsageError(refusal)
    try:
        return [_checked_entry(entry, flag=flag) for entry in document["entries"]]
    except UsageError:
        raise UsageError(refusal) from None


def _checked_entry(relpath: str, *, flag: str) -> str:
    """``relpath`` as a plain relative path inside the folder; UsageError for anything that could leave it."""
    pure = PurePosixPath(relpath)
    if (
        not relpath
        or "\x00" in relpath
        or "\\" in relpath
        or pure.is_absolute()
        or any(part in ("..", ".") for part in relpath.split("/"))
        or pure.parts[0] in TOLERATED
        or pure.parts[0] == MANIFEST
    ):
        raise UsageError(f"{flag}: {quoted(relpath, limit=120)} is not a name a run may write in the folder")
    return str(pure)


def _shown(path: Path) -> str:
    return quoted(str(path), limit=120)


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
