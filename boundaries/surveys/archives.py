"""Zipped Shapefiles, inside the sandbox child: which members an archive may hold (plain Shapefile
parts with safe, non-empty names; no nesting, no encryption), extraction under flat names with the
real uncompressed size capped (zip bombs), and the attribute encoding from ``.cpg``, the form or
the dBASE language driver byte (undeclared non-UTF-8 text is refused, never guessed)."""

import io
import zipfile
import zlib
from pathlib import Path, PurePosixPath

SHAPEFILE_PARTS = {".shp", ".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx", ".xml"}
# dBASE language driver IDs that declare a Chinese code page.
DBF_LDID_GBK = {0x4D: "GBK", 0x7A: "GBK"}
ENCRYPTED = 0x1  # general purpose bit flag 0


class ArchiveRefused(Exception):
    """The archive cannot be accepted; the message says why."""


def _safe_members(archive: zipfile.ZipFile, *, max_members: int, max_uncompressed: int) -> list[zipfile.ZipInfo]:
    members = [m for m in archive.infolist() if not m.filename.endswith("/")]  # is_dir() fails on ""
    if len(members) > max_members:
        raise ArchiveRefused(f"the archive has {len(members)} files; the limit is {max_members}")
    total = 0
    for member in members:
        name = member.filename.replace("\\", "/")
        path = PurePosixPath(name)
        if not path.parts or path.name in ("", ".", ".."):
            raise ArchiveRefused(f"the archive has a member without a file name: {member.filename!r}")
        if name.startswith("/") or ".." in path.parts or ":" in path.parts[0]:
            raise ArchiveRefused(f"the archive has a member outside it: {member.filename!r}")
        if member.flag_bits & ENCRYPTED:
            raise ArchiveRefused(f"the archive is encrypted ({member.filename!r}): send it without a password")
        suffix = path.suffix.lower()
        if suffix == ".zip":
            raise ArchiveRefused("nested archives are not accepted")
        if suffix not in SHAPEFILE_PARTS:
            raise ArchiveRefused(f"the archive may hold only Shapefile parts; found {member.filename!r}")
        total += member.file_size
        if total > max_uncompressed:
            raise ArchiveRefused(f"the archive unpacks to more than {max_uncompressed // (1024 * 1024)} MB (zip bomb?)")
    names = [PurePosixPath(m.filename.replace("\\", "/")).name.lower() for m in members]
    if len(set(names)) != len(names):
        raise ArchiveRefused("the archive holds two files of the same name in different folders")
    return members


def shapefile_extract(data: bytes, directory: Path, *, max_members: int, max_uncompressed: int) -> None:
    """Extract a zipped Shapefile's parts into ``directory`` under their flat names, stopping as
    soon as the real sizes pass ``max_uncompressed``; ArchiveRefused says why it cannot."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = _safe_members(archive, max_members=max_members, max_uncompressed=max_uncompressed)
        written = 0
        for member in members:
            target = directory / PurePosixPath(member.filename.replace("\\", "/")).name
            with archive.open(member) as source, open(target, "xb") as sink:
                while chunk := source.read(1 << 16):
                    written += len(chunk)
                    if written > max_uncompressed:
                        raise ArchiveRefused("the archive unpacks to more than its limit (zip bomb?)")
                    sink.write(chunk)
    except ArchiveRefused:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError, ValueError) as exc:
        raise ArchiveRefused(f"not a readable zip archive ({str(exc)[:120]})") from exc
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required"
        raise ArchiveRefused(f"the archive cannot be unpacked ({str(exc)[:120]})") from exc


def dbf_encoding(dbf: Path, cpg: Path | None, form_encoding: str | None) -> str:
    """The attribute encoding from .cpg, the form, or the DBF's language driver byte; UTF-8/ASCII
    attributes need none. Undeclared non-UTF-8 text (GBK without .cpg) is refused, not guessed."""
    if cpg is not None:
        declared = cpg.read_text(encoding="ascii", errors="replace").strip()[:32] or "UTF-8"
        return {"936": "GBK", "CP936": "GBK"}.get(declared.upper(), declared)
    if form_encoding:
        return form_encoding
    data = dbf.read_bytes()
    if len(data) > 29 and data[29] in DBF_LDID_GBK:
        return DBF_LDID_GBK[data[29]]
    header_length = int.from_bytes(data[8:10], "little") if len(data) >= 10 else len(data)
    try:
        data[header_length:].decode("utf-8")
    except UnicodeDecodeError:
        raise ArchiveRefused(
            "the Shapefile's attributes are not UTF-8 and no .cpg states their encoding: add a .cpg "
            "(e.g. GBK) or choose the encoding in the form"
        ) from None
    return "UTF-8"
