"""Page texts in Vietnamese (default) and English; the language comes from ``?lang=`` (kept in a
cookie) or the cookie alone."""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["LANGS", "lang_of", "texts"]

LANGS = ("vi", "en")

_TEXTS: dict[str, tuple[str, str]] = {
    "app": ("Quản lý đất đai", "Land management"),
    "maps": ("Bản đồ", "Maps"), "dashboard": ("Tiến độ & thống kê", "Dashboard"),
    "cases": ("Vụ việc vi phạm", "Violation cases"), "exports": ("Xuất dữ liệu", "Exports"),
    "uploads": ("Tải dữ liệu lên", "Uploads"), "residents": ("Thông tin công khai", "Public page"),
    "api": ("API", "API"), "ogc": ("OGC API – Features", "OGC API – Features"),
    "sign_in": ("Đăng nhập", "Sign in"), "sign_out": ("Đăng xuất", "Sign out"),
    "user": ("Tên đăng nhập", "User name"), "password": ("Mật khẩu", "Password"),
    "bad_login": ("Sai tên đăng nhập hoặc mật khẩu", "Wrong user name or password"),
    "too_many": ("Đăng nhập sai quá nhiều lần; hãy thử lại sau 15 phút",
                 "Too many failed sign-ins; try again in 15 minutes"),
    "pick_map": ("Chọn bản đồ", "Pick a map"), "layers": ("lớp", "layers"),
    "open": ("Mở", "Open"), "error": ("Lỗi", "Error"), "back": ("Quay lại", "Back"),
    "role": ("Vai trò", "Role"), "signed_in_as": ("Đang đăng nhập:", "Signed in as"),
    "forbidden": ("Tài khoản của bạn không có quyền này", "Your account may not do this"),
}


def lang_of(request: Request) -> str:
    """The page language: ``?lang=`` first, then the ``gis_lang`` cookie, else Vietnamese."""
    lang = request.query_params.get("lang") or request.cookies.get("gis_lang") or "vi"
    return lang if lang in LANGS else "vi"


def texts(lang: str, extra: dict[str, tuple[str, str]] | None = None) -> dict[str, str]:
    """All page texts in one language; a page module adds its own with ``extra``."""
    i = LANGS.index(lang)
    return {k: v[i] for k, v in {**_TEXTS, **(extra or {})}.items()}
