from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from ebr.imports import CodeImporter, ImportRejectedError
from ebr.models import Code, Import
from tests.ebr.fixtures_master import install_master_data


@pytest.fixture
def importer(engine: Engine) -> CodeImporter:
    install_master_data(engine)
    return CodeImporter(engine)


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _problems(importer: CodeImporter, name: str, body: str) -> list[str]:
    with pytest.raises(ImportRejectedError) as error:
        importer.import_bytes(name, body.encode())
    assert "nothing was imported" in str(error.value)
    return [str(p) for p in error.value.problems]


def test_a_file_with_one_bad_row_imports_nothing(importer: CodeImporter, engine: Engine) -> None:
    body = "product,serial\npara,A1\npara,A 2\npara,A3\npara,A1\nghost,A5\n"
    problems = _problems(importer, "serials.csv", body)
    assert problems[0].startswith("line 3: (21)")
    assert "character" in problems[0]
    assert problems[1].startswith("line 5: A1 is a duplicate of line 2")
    assert problems[2].startswith("line 6: unknown product 'ghost'")
    assert _count(engine, Code) == 0
    assert _count(engine, Import) == 0


def test_codes_already_in_the_store_and_reimports_are_refused(
    importer: CodeImporter, engine: Engine
) -> None:
    importer.import_bytes("a.csv", b"product,serial\npara,A1\npara,A2\n")
    problems = _problems(importer, "b.csv", "product,serial\npara,A3\npara,A2\n")
    assert problems == [
        "line 3: code 010950110153002721A2 is already in the store (Unallocated) "
        "(a code is never issued twice; remove the row)"
    ]
    again = _problems(importer, "a-copy.csv", "product,serial\npara,A1\npara,A2\n")
    assert "imported already, as 'a.csv'" in again[0]
    assert _count(engine, Code) == 2


def test_generator_products_and_whole_codes(importer: CodeImporter) -> None:
    problems = _problems(importer, "x.csv", "product,serial\namox,A1\n")
    assert "generates its own unit serials (csprng)" in problems[0]
    problems = _problems(
        importer,
        "codes.json",
        '{"product": "nmpa", "codes": ["86123450000000011234", "9912345000000001123X",'
        ' "99123450000000011234", "8612345"]}',
    )
    assert problems[0].startswith("codes[1]: ")
    assert "digit" in problems[0]
    assert problems[1].startswith("codes[2]: drug_id")
    assert "8612345" in problems[1]
    assert problems[2].startswith("codes[3]: ")
    assert "20 digits" in problems[2]


def test_template_codes_check_characters_are_verified(importer: CodeImporter) -> None:
    from serialization.template import CodeTemplate

    good = CodeTemplate.compile("TG{drug_id:7}{serial:10}{check}", "mod37_36").render(
        {"drug_id": "8612345", "serial": "K7NP3W9XQ2"}
    )
    bad = good[:-1] + ("A" if good[-1] != "A" else "B")
    problems = _problems(importer, "t.json", f'{{"product": "tmpl", "codes": ["{good}", "{bad}"]}}')
    assert len(problems) == 1
    assert problems[0].startswith("codes[1]: ")
    assert "check" in problems[0]


def test_ranges_must_not_overlap(importer: CodeImporter) -> None:
    importer.import_bytes("r1.csv", b"product,range_start,range_end\npara,1000,1999\n")
    problems = _problems(
        importer,
        "r2.csv",
        "product,range_start,range_end\npara,1500,2500\npara,3000,2000\npara,12,345\n"
        "para,4000,4999\npara,4500,4600\n",
    )
    assert problems[0].startswith("line 2: range 1500..2500 overlaps imported range pool")
    assert problems[1].startswith("line 3: range ends (2000) before it starts (3000)")
    assert problems[2].startswith("line 4: range '12'..'345' is not two numbers")
    assert problems[3].startswith("line 6: range 4500..4600 overlaps line 5")


def test_malformed_files(importer: CodeImporter) -> None:
    assert "header" in _problems(importer, "x.csv", "prod,serial\nx,1\n")[0]
    with pytest.raises(ImportRejectedError) as error:
        importer.import_bytes("x.csv", b"\xff\xfe\x00")
    assert "not UTF-8" in str(error.value.problems[0])
    assert "bad JSON" in _problems(importer, "x.json", '{"product": ')[0]
    assert "unknown file type" in _problems(importer, "x.txt", "a")[0]
    assert "no rows" in _problems(importer, "x.csv", "product,serial\n")[0]
