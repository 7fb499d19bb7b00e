"""Legacy Vietnamese text: TCVN3, VNI, cp1258, mis-decoded UTF-8, per column."""

from __future__ import annotations

import unicodedata

import pandas as pd
import pytest

from gis.encoding import TextEncoding, decode_frame, decode_text, detect_column_encoding
from tests.conftest import shared


def test_real_tcvn3_cadastral_records_decode_to_correct_vietnamese():
    from gis.io.read import read_layer

    raw, _ = read_layer(shared("vn-vandinh-parcel-points-tcvn3/vandinh_parcel_points_tcvn3.geojson"))
    out, decisions = decode_frame(raw)
    by_column = {d.column: d for d in decisions}
    assert {"ten_chu", "dia_chi", "xu_dong", "loai_dat"} <= set(by_column)
    assert all(by_column[c].encoding is TextEncoding.TCVN3 for c in by_column)
    assert not any(d.ambiguous for d in decisions)
    assert by_column["dia_chi"].converted == 100
    addresses = set(out["dia_chi"])
    assert addresses == {"Thôn Thanh Ấm", "Thôn Ngọ Xá"}  # capital toned Ấ restored
    fields = set(out["xu_dong"].dropna()) - {""}
    assert {"Đồng Quan Tiên", "Đồng Dung Hạ", "Đồng Sau Chùa"} <= fields  # capital Đ
    owners = set(out["ten_chu"])
    assert "UBND thị trấn" in owners
    assert "Chủ sử dụng 001" in owners  # ư from 0xAD (soft hyphen) survives, and ủ, ụ
    assert set(out["loai_dat"]) >= {"NĐ", "2L", "GT"}
    for value in out["ten_chu"].tolist() + out["dia_chi"].tolist():
        assert value == unicodedata.normalize("NFC", value)
        assert "\u00ad" not in value


def test_vni_column_is_detected_and_converted():
    values = ["Nguyeãn Vaên Huøng", "Traàn Thò Lan", "Ñaát troàng luùa", "Thoân Ñoâng"]
    decision = detect_column_encoding(values)
    assert decision.encoding is TextEncoding.VNI and not decision.ambiguous
    assert [decode_text(v, TextEncoding.VNI) for v in values] == [
        "Nguyễn Văn Hùng", "Trần Thị Lan", "Đất trồng lúa", "Thôn Đông"]


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"


def _cp1258_bytes(text: str) -> bytes:
    """Encode as Windows-1258 does: base letters precomposed, tone marks combining."""
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        nfd = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in nfd if c in _TONE_MARKS)
        base = unicodedata.normalize("NFC", "".join(c for c in nfd if c not in _TONE_MARKS))
        out += base.encode("cp1258") + tones.encode("cp1258")
    return bytes(out)


def test_cp1258_and_utf8_mojibake_are_detected():
    text = ["Nguyễn Văn Hùng", "Đất trồng lúa", "Phường Bồ Đề"]
    cp = [_cp1258_bytes(t).decode("latin-1") for t in text]
    assert detect_column_encoding(cp).encoding is TextEncoding.CP1258
    assert [decode_text(v, TextEncoding.CP1258) for v in cp] == text
    moji = [t.encode("utf-8").decode("latin-1") for t in text]
    assert detect_column_encoding(moji).encoding is TextEncoding.UTF8_AS_LATIN1


def test_unicode_and_ascii_columns_are_left_alone_but_nfc_normalised():
    frame = pd.DataFrame({"a": ["Hà Nội", "Ngô Quyền"], "b": ["ODT", "LUC"],
                          "c": [unicodedata.normalize("NFD", "Bắc Ninh"), "x"],
                          "d": ["Épinay-sur-Orge", "Clément"]})
    out, decisions = decode_frame(frame)
    assert out["a"].tolist() == ["Hà Nội", "Ngô Quyền"]
    assert out["c"][0] == "Bắc Ninh" and len(out["c"][0]) == 8
    assert out["d"].tolist() == ["Épinay-sur-Orge", "Clément"]
    assert [d.column for d in decisions] == ["c"]  # only the NFD column changed


def test_override_forces_encoding():
    frame = pd.DataFrame({"x": ["N§"]})
    out, decisions = decode_frame(frame, overrides={"x": TextEncoding.TCVN3})
    assert out["x"][0] == "NĐ"
    assert decisions[0].converted == 1


def test_parse_lists_valid_encodings():
    with pytest.raises(ValueError, match="tcvn3"):
        TextEncoding.parse("abc")
