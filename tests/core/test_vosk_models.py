"""Vosk model discovery, checks and the installer, against archives served over real HTTP on
127.0.0.1 (no Vosk model can be downloaded on the build machines)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import socket
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from core.speech import vosk_models as V

MODEL_FILES = {
    "am/final.mdl": os.urandom(4096),
    "conf/mfcc.conf": b"--sample-frequency=16000\n--use-energy=false\n",
    "conf/model.conf": b"--min-active=200\n",
    "graph/HCLr.fst": os.urandom(2048),
    "graph/Gr.fst": os.urandom(2048),
    "graph/phones/word_boundary.int": b"1 nonword\n",
    "ivector/final.ie": os.urandom(1024),
    "README": b"test model\n",
}
LFS_POINTER = (b"version https://git-lfs.github.com/spec/v1\n"
               b"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n"
               b"size 12345\n")


def make_zip(name: str, files: dict[str, bytes] | None = None, extra: dict[str, bytes] | None = None,
             top: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel, data in {**(MODEL_FILES if files is None else files), **(extra or {})}.items():
            zf.writestr(f"{name}/{rel}" if top else rel, data)
    return buf.getvalue()


def write_model(root: Path, name: str, files: dict[str, bytes] | None = None) -> Path:
    for rel, data in (MODEL_FILES if files is None else files).items():
        path = root / name / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root / name


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def server(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/site; yields (site dir, base URL)."""
    site = tmp_path / "site"
    site.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=site))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def publish(site: Path, name: str, archive: bytes, listed: bytes | None = None, **fields):
    (site / f"{name}.zip").write_bytes(archive)
    body = archive if listed is None else listed
    entry = {"name": name, "lang": "en-in", "size": len(body),
             "md5": hashlib.md5(body).hexdigest(), **fields}  # noqa: S324
    (site / V.MODEL_LIST_NAME).write_text(json.dumps([entry]))


NAME = "vosk-model-small-en-in-0.4"


def test_install_good_archive(server, tmp_path):
    site, base = server
    archive = make_zip(NAME)
    publish(site, NAME, archive, sha256=hashlib.sha256(archive).hexdigest())
    models = tmp_path / "models"
    path = V.install_model(NAME, models, base_url=base)
    assert path == models / NAME
    assert (path / "am" / "final.mdl").read_bytes() == MODEL_FILES["am/final.mdl"]
    V.check_model_dir(path)
    [info] = V.find_models(models)
    assert (info.name, info.language, info.small) == (NAME, "en-IN", True)
    assert V.best_model("en-IN", models) == info
    assert V.best_model("en", models) == info  # Indian English also serves English
    assert V.best_model("hi", models) is None
    assert sorted(p.name for p in models.iterdir()) == [NAME]  # no temporary files left
    with pytest.raises(V.ModelInstallError, match="already installed"):
        V.install_model(NAME, models, base_url=base)
    assert V.install_model(NAME, models, base_url=base, force=True) == path


def test_install_with_explicit_sha256(server, tmp_path):
    site, base = server
    archive = make_zip(NAME)
    (site / f"{NAME}.zip").write_bytes(archive)  # no model list published at all
    good = hashlib.sha256(archive).hexdigest()
    with pytest.raises(V.ModelInstallError, match="sha256 mismatch"):
        V.install_model(NAME, tmp_path / "m", base_url=base, sha256="0" * 64)
    assert not (tmp_path / "m" / NAME).exists()
    assert V.install_model(NAME, tmp_path / "m", base_url=base, sha256=good).is_dir()


def test_truncated_archive_is_refused(server, tmp_path):
    site, base = server
    archive = make_zip(NAME)
    # the published size and md5 are those of the whole archive; the server has half of it
    publish(site, NAME, archive[: len(archive) // 2], listed=archive)
    with pytest.raises(V.ModelInstallError, match="published size"):
        V.install_model(NAME, tmp_path / "models", base_url=base)
    # no published figures: the zip itself is found corrupt
    (site / V.MODEL_LIST_NAME).unlink()
    with pytest.raises(V.ModelInstallError, match="corrupt or truncated"):
        V.install_model(NAME, tmp_path / "models", base_url=base)
    assert list((tmp_path / "models").iterdir()) == []


def test_checksum_mismatch_is_refused(server, tmp_path):
    site, base = server
    archive = make_zip(NAME)
    publish(site, NAME, archive)
    entry = json.loads((site / V.MODEL_LIST_NAME).read_text())
    entry[0]["md5"] = "0" * 32
    (site / V.MODEL_LIST_NAME).write_text(json.dumps(entry))
    with pytest.raises(V.ModelInstallError, match="md5 mismatch"):
        V.install_model(NAME, tmp_path / "models", base_url=base)


@pytest.mark.parametrize("member", ["../evil.txt", "vosk-model-small-en-in-0.4/../../evil.txt",
                                    "/tmp/evil.txt"])
def test_path_escape_is_refused(server, tmp_path, member):
    site, base = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, data in MODEL_FILES.items():
            zf.writestr(f"{NAME}/{rel}", data)
        zf.writestr(zipfile.ZipInfo(member), b"owned")
    publish(site, NAME, buf.getvalue())
    with pytest.raises(V.ModelInstallError, match="refused"):
        V.install_model(NAME, tmp_path / "models", base_url=base)
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
    assert list((tmp_path / "models").iterdir()) == []


def test_symlink_member_is_refused(server, tmp_path):
    site, base = server
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for rel, data in MODEL_FILES.items():
            zf.writestr(f"{NAME}/{rel}", data)
        link = zipfile.ZipInfo(f"{NAME}/am/link")
        link.external_attr = (0o120777 << 16)
        zf.writestr(link, "/etc/passwd")
    publish(site, NAME, buf.getvalue())
    with pytest.raises(V.ModelInstallError, match="symbolic link"):
        V.install_model(NAME, tmp_path / "models", base_url=base)


def test_lfs_pointer_archive_is_refused(server, tmp_path):
    site, base = server
    files = dict(MODEL_FILES, **{"am/final.mdl": LFS_POINTER})
    publish(site, NAME, make_zip(NAME, files))
    with pytest.raises(V.ModelInstallError, match="Git LFS pointer"):
        V.install_model(NAME, tmp_path / "models", base_url=base)
    assert not (tmp_path / "models" / NAME).exists()


def test_archive_without_model_files_is_refused(server, tmp_path):
    site, base = server
    publish(site, NAME, make_zip(NAME, {"README": b"nothing here\n"}))
    with pytest.raises(V.ModelInstallError, match="am/final.mdl is missing"):
        V.install_model(NAME, tmp_path / "models", base_url=base)


def test_http_404_is_a_clear_error(server, tmp_path):
    _, base = server
    with pytest.raises(V.ModelInstallError, match="HTTP 404"):
        V.install_model(NAME, tmp_path / "models", base_url=base)


def test_offline_is_refused_clearly(tmp_path):
    with socket.socket() as s:  # a port nobody listens on: connection refused, as offline
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(V.ModelInstallError, match="offline"):
        V.install_model(NAME, tmp_path / "models", base_url=f"http://127.0.0.1:{port}",
                        timeout=5)
    assert list((tmp_path / "models").iterdir()) == []


@pytest.mark.parametrize("name", ["../etc", "vosk-model-small-fr-0.22", "", "a/b"])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(V.ModelInstallError):
        V.install_model(name, tmp_path)


def test_only_http_urls(tmp_path):
    with pytest.raises(V.ModelInstallError, match="only http"):
        V.install_model(NAME, tmp_path, url="file:///etc/passwd")


# ------------------------------------------------------------------------ checks, discovery


def test_check_model_dir_reports_every_problem(tmp_path):
    files = dict(MODEL_FILES)
    del files["graph/Gr.fst"]
    files["conf/mfcc.conf"] = b""
    files["ivector/final.ie"] = LFS_POINTER
    model = write_model(tmp_path, NAME, files)
    with pytest.raises(V.ModelError) as info:
        V.check_model_dir(model)
    message = str(info.value)
    assert "graph/Gr.fst is missing" in message
    assert "conf/mfcc.conf is empty" in message
    assert "ivector/final.ie is a Git LFS pointer" in message
    with pytest.raises(V.ModelError, match="not a folder"):
        V.check_model_dir(tmp_path / "nope")


def test_check_accepts_hclg_graph(tmp_path):
    files = {k: v for k, v in MODEL_FILES.items() if not k.startswith("graph/")}
    files["graph/HCLG.fst"] = os.urandom(100)
    V.check_model_dir(write_model(tmp_path, "vosk-model-en-us-0.22", files))


def test_find_models_prefers_big_and_new_and_skips_broken(tmp_path):
    write_model(tmp_path, "vosk-model-small-en-us-0.15")
    write_model(tmp_path, "vosk-model-en-us-0.22")
    write_model(tmp_path, "vosk-model-small-hi-0.22")
    write_model(tmp_path, "hi")  # a folder named after the language also counts
    write_model(tmp_path, "vosk-model-small-fr-0.22")  # not a language of this portal
    write_model(tmp_path, "vosk-model-hi-0.22", {"README": b"x"})  # broken: skipped
    (tmp_path / "notes.txt").write_text("x")
    names = {m.name: m.language for m in V.find_models(tmp_path)}
    assert names == {"vosk-model-small-en-us-0.15": "en", "vosk-model-en-us-0.22": "en",
                     "vosk-model-small-hi-0.22": "hi", "hi": "hi"}
    assert V.best_model("en", tmp_path).name == "vosk-model-en-us-0.22"
    assert V.best_model("en-IN", tmp_path).name == "vosk-model-en-us-0.22"  # fallback
    assert V.best_model("hi", tmp_path).name == "hi"  # the folder named by the admin wins
    (tmp_path / "hi" / "am" / "final.mdl").unlink()
    assert V.best_model("hi", tmp_path).name == "vosk-model-small-hi-0.22"
    assert V.find_models(tmp_path / "missing") == []


def test_default_models_dir_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SPEECH_MODELS_DIR", str(tmp_path))
    assert V.default_models_dir() == tmp_path
    monkeypatch.delenv("SPEECH_MODELS_DIR")
    # The same folder as the portal's SPEECH_MODELS_DIR default: <repo>/var/speech-models.
    assert V.default_models_dir() == Path(__file__).resolve().parents[2] / "var" / "speech-models"


def test_language_names():
    assert V.normalise_language("en_IN") == "en-IN"
    assert V.normalise_language("EN-us") == "en"
    with pytest.raises(ValueError):
        V.normalise_language("fr")
