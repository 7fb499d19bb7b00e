"""Cell values of compensation-board sheets: VND amounts and dd/mm/yyyy dates."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

from gis.errors import GisError

__all__ = ["parse_vnd", "parse_date", "parse_day", "format_number_vi",
           "format_number"]

_UNITS = {"ty": 1_000_000_000, "ti": 1_000_000_000, "trieu": 1_000_000, "nghin": 1_000,
          "ngan": 1_000, "dong": 1, "d": 1, "vnd": 1, "": 1}
_AMOUNT = re.compile(r"^\s*([0-9][0-9.,\s]*)\s*([a-z]*)\s*$")


def _fold(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c)).lower()


def _number(text: str, unit: int) -> float | None:
    text = text.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", text):  # 1.052.188.000 (Vietnamese thousands)
        return float(text.replace(".", ""))
    if re.fullmatch(r"\d{1,3}(,\d{3})+", text) and unit == 1:  # 1,052,188,000
        return float(text.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(\.\d{3})+,\d+", text):  # 1.052,19
        return float(text.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d+,\d+", text):  # 1,05 (decimal comma)
        return float(text.replace(",", "."))
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    return None


def column_unit(header: str) -> int:
    """The money unit a column header declares: "(tỷ đồng)" 10⁹, "(triệu đồng)" 10⁶, else 1.

    >>> column_unit("Số tiền phê duyệt (tỷ đồng)"), column_unit("Đã chi trả (đồng)")
    (1000000000, 1)
    """
    folded = _fold(header)
    if re.search(r"\bty\b|\bti\b", folded):
        return 1_000_000_000
    if "trieu" in folded:
        return 1_000_000
    if "nghin" in folded or "ngan" in folded:
        return 1_000
    return 1


def parse_vnd(value: object, *, unit: int = 1) -> int | None:
    """An amount in VND as an integer, or None when the cell is empty.

    Raises ValueError for text that is not an amount.

    >>> parse_vnd("1.052.188.000"), parse_vnd("1,05 tỷ"), parse_vnd("250 triệu"), parse_vnd(3e6)
    (1052188000, 1050000000, 250000000, 3000000)
    >>> parse_vnd("1.052.188.000 đồng"), parse_vnd(None)
    (1052188000, None)
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        amount = int(round(value * unit))
    else:
        text = str(value).strip()
        if not text:
            return None
        match = _AMOUNT.match(_fold(text))
        if not match or match.group(2) not in _UNITS:
            raise ValueError(f"not an amount in VND: {text!r}")
        written = _UNITS[match.group(2)] if match.group(2) else unit
        number = _number(match.group(1).strip(), written)
        if number is None:
            raise ValueError(f"not an amount in VND: {text!r}")
        amount = int(round(number * written))
    if amount < 0:
        raise ValueError(f"a negative amount: {value!r}")
    if 0 < amount < 1000:
        raise ValueError(f"{value!r} read as {amount} đồng, too small for compensation; "
                         "is the column in tỷ or triệu đồng? say so in its header")
    return amount


def parse_date(value: object) -> dt.date | None:
    """A date from dd/mm/yyyy (also d-m-yyyy, yyyy-mm-dd, Excel dates), or None when empty.

    Raises ValueError for text that is not a real date (31/02/2023).

    >>> parse_date("05/03/2024"), parse_date("2024-03-05")
    (datetime.date(2024, 3, 5), datetime.date(2024, 3, 5))
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if hasattr(value, "to_pydatetime"):
        moment: dt.datetime = value.to_pydatetime()
        return moment.date()
    text = str(value).strip()
    if not text:
        return None
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if m:
        day, month, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", text)
        if not m:
            raise ValueError(f"not a date (dd/mm/yyyy): {text!r}")
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"not a real date: {text!r}") from None


def parse_day(value: str | None, name: str) -> dt.date | None:
    """A day a user typed (an option or a query parameter: YYYY-MM-DD or dd/mm/yyyy); None when
    empty; the error names the parameter. The one day parser of the CLI and the web.

    >>> parse_day("31/12/2024", "--as-of"), parse_day("", "as_of")
    (datetime.date(2024, 12, 31), None)
    """
    if value is None or not str(value).strip():
        return None
    try:
        return parse_date(value)
    except ValueError as exc:
        raise GisError(f"{exc}; use YYYY-MM-DD or dd/mm/yyyy", field=name, value=value) from None


def format_number_vi(value: float, decimals: int = 0) -> str:
    """Vietnamese number format: thousands with '.', decimals with ','.

    >>> format_number_vi(1315), format_number_vi(1052.1875, 3), format_number_vi(3.8, 1)
    ('1.315', '1.052,188', '3,8')
    """
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


#: (thousands, decimal) separators by language
_SEPARATORS = {"vi": (".", ","), "en": (",", ".")}


def format_number(value: float, lang: str, decimals: int = 0) -> str:
    """A number as a reader of ``lang`` writes it (Vietnamese for an unknown language).

    >>> format_number(1052.1875, "vi", 3), format_number(1052.1875, "en", 3)
    ('1.052,188', '1,052.188')
    """
    thousands, point = _SEPARATORS.get(lang, _SEPARATORS["vi"])
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", point).replace("\x00", thousands)
