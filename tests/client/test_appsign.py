import json
from pathlib import Path

import pytest

from client.agent import apps, appsign
from client.agent.preferences import Preferences, ProjectEntry


@pytest.fixture
def signed(tmp_path: Path) -> tuple[Path, str]:
    key_path = tmp_path / "keys" / "hunt.pem"
    public = appsign.generate_keypair(key_path)
    assert oct(key_path.stat().st_mode & 0o777) == "0o600"
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "main.py").write_text("print('hi')\n")
    (bundle / "params.json").write_text('{"k": 1}')
    appsign.sign_bundle(bundle, appsign.load_private_key(key_path), project="hunt", app="demo",
                        version="1.0", entry="python:main.py")
    return bundle, public


def test_a_signed_bundle_verifies(signed: tuple[Path, str]) -> None:
    folder, public = signed
    b = appsign.Bundle.read(folder)
    v = appsign.verify(b, public, project="hunt", app="demo", version="1.0", manifest_sha256=b.manifest_sha256)
    assert v.entry == "python:main.py" and set(v.files) == {"main.py", "params.json"}
    again = appsign.Bundle.from_json(json.loads(json.dumps(b.to_json())))  # as sent over the network
    assert appsign.verify(again, public, project="hunt", app="demo").manifest_sha256 == b.manifest_sha256


def test_private_key_is_never_overwritten(tmp_path: Path) -> None:
    appsign.generate_keypair(tmp_path / "k.pem")
    with pytest.raises(FileExistsError):
        appsign.generate_keypair(tmp_path / "k.pem")


@pytest.mark.parametrize("tamper", ["file", "manifest", "signature", "extra_file", "missing_file"])
def test_any_change_is_refused(signed: tuple[Path, str], tamper: str) -> None:
    folder, public = signed
    b = appsign.Bundle.read(folder)
    files = dict(b.files)
    manifest, signature = b.manifest, b.signature
    if tamper == "file":
        files["main.py"] = b"import os; os.system('rm -rf ~')\n"
    elif tamper == "manifest":
        manifest = manifest.replace(b'"1.0"', b'"1.1"')
    elif tamper == "signature":
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    elif tamper == "extra_file":
        files["evil.py"] = b"x"
    else:
        del files["params.json"]
    with pytest.raises(appsign.SignatureError):
        appsign.verify(appsign.Bundle(manifest, signature, files), public, project="hunt", app="demo")


def test_wrong_key_wrong_identity_or_announced_hash(signed: tuple[Path, str], tmp_path: Path) -> None:
    folder, public = signed
    b = appsign.Bundle.read(folder)
    other = appsign.generate_keypair(tmp_path / "other.pem")
    with pytest.raises(appsign.SignatureError, match="not signed by the key pinned"):
        appsign.verify(b, other, project="hunt", app="demo")
    with pytest.raises(appsign.SignatureError, match="not other/demo"):
        appsign.verify(b, public, project="other", app="demo")
    with pytest.raises(appsign.SignatureError, match="sha256"):
        appsign.verify(b, public, project="hunt", app="demo", manifest_sha256="0" * 64)
    with pytest.raises(appsign.SignatureError):
        appsign.load_public_key("not a key")


def test_publish_payload_has_the_bundle_and_no_private_key(signed: tuple[Path, str]) -> None:
    folder, _ = signed
    body = appsign.publish_payload(folder)
    assert body["app"] == "demo" and len(body["manifest_sha256"]) == 64
    assert "PRIVATE" not in json.dumps(body)


def _assignment(**kw: object) -> dict:
    return {"result_id": 1, "project": "hunt", "app": "demo", "app_version": "1.0", "params": {}, **kw}


def test_resolve_requires_a_verified_bundle_once_a_key_is_pinned(signed: tuple[Path, str], tmp_path: Path) -> None:
    folder, public = signed
    pinned = Preferences().with_project("hunt", ProjectEntry(True, public))
    bundle = appsign.Bundle.read(folder).to_json()
    code = apps.resolve(_assignment(app_bundle=bundle), pinned, tmp_path)
    assert code.script == "main.py" and dict(code.files)["main.py"] == b"print('hi')\n"
    with pytest.raises(appsign.SignatureError, match="unsigned code is refused"):
        apps.resolve(_assignment(), pinned, tmp_path)
    bad = {**bundle, "files": {**bundle["files"], "main.py": "eA=="}}
    with pytest.raises(appsign.SignatureError):
        apps.resolve(_assignment(app_bundle=bad), pinned, tmp_path)
    # A bundle installed in the data folder works too.
    installed = apps.bundle_folder(tmp_path, "hunt", "demo", "1.0")
    installed.parent.mkdir(parents=True)
    folder.rename(installed)
    assert apps.resolve(_assignment(), pinned, tmp_path).script == "main.py"


def test_resolve_without_a_pinned_key_runs_only_builtin_apps(signed: tuple[Path, str], tmp_path: Path) -> None:
    folder, _ = signed
    assert apps.resolve(_assignment(app="bpsw-hunter"), Preferences(), tmp_path).builtin == "bpsw-hunter"
    with pytest.raises(appsign.SignatureError, match="no key is pinned"):
        apps.resolve(_assignment(app_bundle=appsign.Bundle.read(folder).to_json()), Preferences(), tmp_path)
