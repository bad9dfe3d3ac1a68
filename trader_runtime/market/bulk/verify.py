"""Checksum first (spec: the archive's `.CHECKSUM` is `sha256sum` output): a file is used only after its zip bytes
match the published SHA-256 and the zip holds exactly its one CSV member.

Why a module: "nothing from a refused file is written" is only true when no byte of it is parsed before this
check has passed, so the importer calls `verify_zip` before anything else and keeps the digests for the report.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass

from trader_runtime.market.bulk.layout import FileRef

_CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](\S+)\s*$")


class RejectedFile(Exception):
    """A file the importer must not use; `published`/`actual` are the two digests when they were known."""

    def __init__(self, ref: FileRef, reason: str, published: str = "", actual: str = "") -> None:
        super().__init__(reason)
        self.ref = ref
        self.reason = reason
        self.published = published
        self.actual = actual


@dataclass(frozen=True)
class VerifiedFile:
    """The CSV text of a file whose zip matched its CHECKSUM."""

    ref: FileRef
    sha256: str
    csv: bytes


def published_digest(ref: FileRef, checksum: bytes | None) -> str:
    """The digest a CHECKSUM file publishes for `ref`, or RejectedFile (missing, malformed, other file name)."""
    if checksum is None:
        raise RejectedFile(ref, "no CHECKSUM file beside the zip")
    try:
        text = checksum.decode("ascii").strip()
    except UnicodeDecodeError:
        raise RejectedFile(ref, "CHECKSUM file is not text") from None
    match = _CHECKSUM_LINE.match(text)
    if match is None or "\n" in text:
        raise RejectedFile(ref, f"CHECKSUM file is not one 'sha256  name' line: {text[:100]!r}")
    digest, name = match.groups()
    if name != ref.name:
        raise RejectedFile(ref, f"CHECKSUM names {name!r}, not {ref.name!r}", published=digest)
    return digest


def verify_zip(ref: FileRef, data: bytes, checksum: bytes | None) -> VerifiedFile:
    """Check the digest, then open the zip and return its CSV member; RejectedFile on any failure."""
    published = published_digest(ref, checksum)
    actual = hashlib.sha256(data).hexdigest()
    if actual != published:
        raise RejectedFile(ref, "SHA-256 of the zip does not match its CHECKSUM", published, actual)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            if len(members) != 1:
                raise RejectedFile(ref, f"zip holds {len(members)} files, expected one CSV", published, actual)
            if members[0].filename != ref.csv_name:
                raise RejectedFile(ref, f"zip member is {members[0].filename!r}, expected {ref.csv_name!r}",
                                   published, actual)
            csv = archive.read(members[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise RejectedFile(ref, f"unreadable zip: {exc}", published, actual) from None
    return VerifiedFile(ref, actual, csv)
