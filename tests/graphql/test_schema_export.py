"""``saleor-support schema export`` writes both SDL files; ``--check`` catches drift."""

from __future__ import annotations

from saleor_support_plugin.cli import main


def test_export_writes_both_schemas_then_check_passes(tmp_path, capsys):
    assert main(["schema", "export", "--out", str(tmp_path)]) == 0
    staff = (tmp_path / "schema.staff.graphql").read_text()
    shopper = (tmp_path / "schema.shopper.graphql").read_text()
    assert "cases(first: Int = 20" in staff and "caseReply(" in staff and "macroCreate(" in staff
    assert "myCases(" in shopper and "caseOpen(" in shopper
    assert "caseReply" not in shopper and "notes" not in shopper
    assert "enum SupportErrorCode" in staff and "enum SupportErrorCode" in shopper
    assert main(["schema", "export", "--out", str(tmp_path), "--check"]) == 0


def test_check_fails_when_a_file_drifted(tmp_path, capsys):
    main(["schema", "export", "--out", str(tmp_path)])
    (tmp_path / "schema.shopper.graphql").write_text("type Query { old: Int }\n")
    assert main(["schema", "export", "--out", str(tmp_path), "--check"]) == 1
    assert "out of date" in capsys.readouterr().out


def test_missing_directory_is_a_one_line_error(tmp_path, capsys):
    assert main(["schema", "export", "--out", str(tmp_path / "missing")]) == 1
    assert capsys.readouterr().err.startswith("error: --out")
