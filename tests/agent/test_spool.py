import hashlib
import json
from pathlib import Path

from client.agent.spool import Spool, SpoolEntry


def _entry(rid: int, data: bytes) -> SpoolEntry:
    return SpoolEntry(rid, "success", hashlib.sha256(data).hexdigest(), len(data), 1.0, 2.0, "", 99.0, None)


def test_entries_survive_a_restart(tmp_path: Path) -> None:
    Spool(tmp_path).add(_entry(7, b"abc"), b"abc")
    again = Spool(tmp_path)
    (entry,) = again.entries()
    assert entry.result_id == 7 and again.read_output(entry) == b"abc"
    again.remove(7)
    assert Spool(tmp_path).entries() == []


def test_half_written_files_are_discarded(tmp_path: Path) -> None:
    (tmp_path / "5.json.tmp").write_text("{")
    (tmp_path / "5.out.tmp").write_bytes(b"partial")
    spool = Spool(tmp_path)
    assert spool.entries() == [] and not list(tmp_path.glob("*.tmp"))


def test_corrupt_output_is_detected(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.add(_entry(3, b"good"), b"good")
    (tmp_path / "3.out").write_bytes(b"bad!")
    (entry,) = spool.entries()
    assert spool.read_output(entry) is None


def test_corrupt_metadata_is_set_aside(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    (tmp_path / "9.json").write_text("not json")
    spool.add(_entry(4, b"x"), b"x")
    assert [e.result_id for e in spool.entries()] == [4]
    assert (tmp_path / "9.corrupt").exists()


def test_report_body_is_bounded(tmp_path: Path) -> None:
    e = SpoolEntry(1, "error", "", 0, 0.0, 0.0, "x" * 10_000, 0.0, None)
    body = e.report_body()
    assert len(body["error"]) == 4000 and json.dumps(body)


def test_result_ids_are_those_waiting_to_be_reported(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.add(_entry(4, b"x"), b"x")
    spool.add(_entry(12, b"y"), None)
    (tmp_path / "notes.json").write_text("{}")  # not a result
    assert spool.result_ids() == {4, 12}
    spool.remove(4)
    assert spool.result_ids() == {12}
