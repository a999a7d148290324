"""Reading administrative-division CSV files (``code,name,level,parent_code``, UTF-8, header)."""

import csv
import io
from collections.abc import Iterable

from django.utils.translation import gettext as _

from core.errors import DomainError
from grids.services import DivisionRow

COLUMNS = ["code", "name", "level", "parent_code"]


def divisions_parse(lines: Iterable[str]) -> list[DivisionRow]:
    """Parse and check every row; raise DomainError listing every bad line (1-based, header = 1)."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        raise DomainError(_("The division file is empty."))
    header = [h.strip().lstrip("\ufeff") for h in header]
    if header != COLUMNS:
        raise DomainError(
            _("line 1: the header must be %(expected)s, not %(got)s")
            % {"expected": ",".join(COLUMNS), "got": ",".join(header)}
        )
    rows: list[DivisionRow] = []
    errors: list[str] = []
    for line, record in enumerate(reader, start=2):
        if not record or all(not cell.strip() for cell in record):
            continue
        if len(record) != len(COLUMNS):
            errors.append(
                _("line %(line)s: expected 4 columns, found %(n)s")
                % {"line": line, "n": len(record)}
            )
            continue
        code, name, level, parent_code = (cell.strip() for cell in record)
        problems = []
        if not code.isdigit() or len(code) not in (2, 4, 6, 9, 12):
            problems.append(
                _("code %(code)r is not a division code of 2, 4, 6, 9 or 12 digits")
                % {"code": code}
            )
        if not name:
            problems.append(_("the name is empty"))
        if not level.isdigit() or not 1 <= int(level) <= 9:
            problems.append(_("level %(level)r is not a number from 1 to 9") % {"level": level})
        if parent_code and not parent_code.isdigit():
            problems.append(_("parent code %(code)r is not a number") % {"code": parent_code})
        if problems:
            errors.append(
                _("line %(line)s: %(problems)s") % {"line": line, "problems": "; ".join(problems)}
            )
            continue
        rows.append(
            DivisionRow(line=line, code=code, name=name, level=int(level), parent_code=parent_code)
        )
    if errors:
        raise DomainError(_("The division file has errors; nothing was loaded."), errors=errors)
    if not rows:
        raise DomainError(_("The division file has no rows."))
    return rows


def divisions_parse_bytes(data: bytes) -> list[DivisionRow]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(_("The division file must be UTF-8 encoded.")) from exc
    return divisions_parse(io.StringIO(text, newline=""))
