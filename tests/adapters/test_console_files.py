"""Files a reply carries land in a folder on the console, under a safe, fresh name."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.console import render_reply
from bot.adapters.console_files import FILES_DIR_ENV, default_files_dir, safe_filename
from bot.core.models import Attachment, Reply

YAML = b"feeds:\n  - name: loopback\n" * 500


def test_an_attachment_is_written_and_its_path_printed(tmp_path: Path) -> None:
    reply = Reply(
        "Exported 1 feed.",
        attachments=(Attachment("newsbot-config.yaml", YAML, "application/yaml"),),
    )
    out = render_reply(reply, files_dir=tmp_path)
    written = tmp_path / "newsbot-config.yaml"
    assert written.read_bytes() == YAML
    assert out.splitlines() == ["Exported 1 feed.", f"  file: newsbot-config.yaml -> {written}"]


def test_a_path_in_the_filename_never_leaves_the_folder(tmp_path: Path) -> None:
    inner = tmp_path / "files"
    for name in ("../../escape.txt", "/etc/passwd", "..\\win.txt", "..", ".hidden"):
        render_reply(
            Reply("x", attachments=(Attachment(name, b"data", "text/plain"),)), files_dir=inner
        )
    assert sorted(p.name for p in inner.iterdir()) == [
        "attachment",
        "escape.txt",
        "hidden",
        "passwd",
        "win.txt",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files"]


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "chart.png").write_bytes(b"mine")
    att = Attachment("chart.png", b"\x89PNG new", "image/png")
    render_reply(Reply("a", attachments=(att, att)), files_dir=tmp_path)
    assert (tmp_path / "chart.png").read_bytes() == b"mine"
    assert (tmp_path / "chart-2.png").read_bytes() == b"\x89PNG new"
    assert (tmp_path / "chart-3.png").read_bytes() == b"\x89PNG new"


def test_the_folder_is_chosen_by_environment(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv(FILES_DIR_ENV, str(tmp_path / "chosen"))
    assert default_files_dir() == tmp_path / "chosen"
    monkeypatch.delenv(FILES_DIR_ENV)
    assert default_files_dir().name == "newsbot-files"


def test_safe_filename_keeps_an_ordinary_name() -> None:
    assert safe_filename("story timeline.png") == "story_timeline.png"
