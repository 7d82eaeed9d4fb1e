"""Hostile dataset archives, built here, each refused with a clear line and nothing written outside."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from core.datasets.archive import ArchiveLimits, ArchiveRefused, extract

WAV = b"RIFF....WAVEfmt "  # the content does not matter to the extractor


def make_zip(path: Path, members: list[tuple[str, bytes]], *, symlinks: tuple[str, ...] = (),
             fifos: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            if name in symlinks:
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            elif name in fifos:
                info.external_attr = (stat.S_IFIFO | 0o644) << 16
            else:
                info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return path


def make_tar(path: Path, members: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def everything_under(root: Path) -> set[Path]:
    return {Path(d) / f for d, _, files in os.walk(root) for f in files}


@pytest.fixture
def sandbox(tmp_path):
    """tmp_path/in holds the archives, tmp_path/out/target is where they go; nothing else may appear."""
    (tmp_path / "in").mkdir()
    return tmp_path


def test_a_clean_archive_is_extracted_in_its_folders(sandbox):
    archive = make_zip(sandbox / "in" / "ok.zip", [("a/01_01_01_01_01.wav", WAV), ("b.wav", WAV)])
    result = extract(archive, sandbox / "out" / "target")
    assert sorted(n for n, _ in result.files) == ["a/01_01_01_01_01.wav", "b.wav"] and result.refused == []
    assert (sandbox / "out" / "target" / "a" / "01_01_01_01_01.wav").read_bytes() == WAV


def test_bad_members_are_refused_one_by_one_and_nothing_lands_outside(sandbox):
    before = everything_under(sandbox)
    archive = make_zip(sandbox / "in" / "evil.zip", [
        ("../escape.wav", WAV), ("/tmp/absolute.wav", WAV), ("..\\windows.wav", WAV), ("C:/drive.wav", WAV),
        ("link.wav", b"/etc/passwd"), ("pipe.wav", b""), ("good.wav", WAV), ("GOOD.wav", WAV),
    ], symlinks=("link.wav",), fifos=("pipe.wav",))
    result = extract(archive, sandbox / "out" / "target")
    assert dict(result.refused) == {
        "../escape.wav": "path leaves the archive's folder (..)", "/tmp/absolute.wav": "absolute path",
        "..\\windows.wav": "backslash in the name (a Windows path)", "C:/drive.wav": "absolute path",
        "link.wav": "symbolic link", "pipe.wav": "device file or FIFO", "GOOD.wav": "duplicate name",
    }
    assert [n for n, _ in result.files] == ["good.wav"]
    assert everything_under(sandbox) - before == {sandbox / "out" / "target" / "good.wav", archive}
    assert not Path("/tmp/absolute.wav").exists()


def test_tar_links_and_devices_are_refused(sandbox):
    def special(name, kind, target=""):
        info = tarfile.TarInfo(name)
        info.type, info.linkname = kind, target
        return info

    archive = make_tar(sandbox / "in" / "evil.tar.gz", [
        special("sym.wav", tarfile.SYMTYPE, "/etc/passwd"), special("hard.wav", tarfile.LNKTYPE, "/etc/passwd"),
        special("dev.wav", tarfile.CHRTYPE), special("fifo.wav", tarfile.FIFOTYPE), ("../../up.wav", WAV),
        ("ok/clip.wav", WAV),
    ])
    result = extract(archive, sandbox / "out" / "target")
    assert dict(result.refused) == {"sym.wav": "symbolic link", "hard.wav": "hard link", "dev.wav": "device file or FIFO",
                                    "fifo.wav": "device file or FIFO", "../../up.wav": "path leaves the archive's folder (..)"}
    assert everything_under(sandbox / "out") == {sandbox / "out" / "target" / "ok" / "clip.wav"}


@pytest.mark.parametrize("kind", ["zip", "tar.gz"])
def test_a_bomb_is_stopped_while_extracting_and_leaves_nothing(sandbox, kind):
    zeros = b"\0" * (40 * 2**20)  # 40 MB that compress to a few tens of kB
    members = [("first.wav", WAV), ("bomb.wav", zeros)]
    archive = (make_zip(sandbox / "in" / "bomb.zip", members) if kind == "zip"
               else make_tar(sandbox / "in" / "bomb.tar.gz", members))
    assert archive.stat().st_size < 200_000
    with pytest.raises(ArchiveRefused, match="expands more than 200 times"):
        extract(archive, sandbox / "out" / "target")
    assert everything_under(sandbox / "out") == set()


def test_size_and_member_count_limits(sandbox):
    archive = make_zip(sandbox / "in" / "many.zip", [(f"{i}.wav", os.urandom(3000)) for i in range(12)])
    with pytest.raises(ArchiveRefused, match="more than 10 members"):
        extract(archive, sandbox / "out" / "a", ArchiveLimits(max_members=10))
    with pytest.raises(ArchiveRefused, match=r"bomb\?"):
        extract(archive, sandbox / "out" / "b", ArchiveLimits(max_total_bytes=20_000))
    with pytest.raises(ArchiveRefused, match="larger than"):
        extract(archive, sandbox / "out" / "c", ArchiveLimits(max_member_bytes=2_000))
    assert everything_under(sandbox / "out") == set()


def test_what_is_not_an_archive_is_refused(sandbox):
    (sandbox / "in" / "x.zip").write_bytes(b"just some bytes, not an archive at all")
    with pytest.raises(ArchiveRefused, match="not a zip, tar or tar.gz archive"):
        extract(sandbox / "in" / "x.zip", sandbox / "out")
    good = make_zip(sandbox / "in" / "cut.zip", [("a.wav", os.urandom(50_000))])
    (sandbox / "in" / "cut.zip").write_bytes(good.read_bytes()[:30_000])
    with pytest.raises(ArchiveRefused, match="corrupt"):
        extract(sandbox / "in" / "cut.zip", sandbox / "out" / "t")
