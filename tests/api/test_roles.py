"""The role matrix: every route of the app, tried with every role and with no credentials.

Routes are found by introspection, so a route added without a permission fails here: writes
need inspector, exports planner, admin things admin; reads need at least viewer."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from gis.api.auth.security import GRANTS, Role

#: Routes anyone may call: signing in and out, the API description, the residents' page
#: (which answers 404 unless an administrator enables it).
OPEN = re.compile(r"^/(login|logout|openapi\.json|docs.*|redoc|public.*)$")


def _permissions(route: APIRoute) -> list[tuple[object, bool]]:
    found = []

    def walk(dependant) -> None:  # type: ignore[no-untyped-def]
        for dep in dependant.dependencies:
            if hasattr(dep.call, "permission"):
                found.append((dep.call.permission, dep.call.page))
            walk(dep)

    walk(route.dependant)
    return found


def _values(service) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from gis.store import open_store

    store = open_store(service.store)
    case = str(store.read_table("violation_cases")["case_id"].iloc[0]) \
        if store.has("violation_cases") else "VP-2026-00001"
    parcel = str(store.read("parcels", columns=["parcel_key"])["parcel_key"].iloc[0])
    return {"case_id": case, "id": case, "parcel_key": parcel, "layer": "parcels",
            "collectionId": "parcels", "featureId": parcel, "z": "14", "x": "13019", "y": "7211",
            "name": "projects", "table": "projects", "map_id": "district", "key": "parcels"}


def _routes(app) -> list[tuple[str, str, list[tuple[object, bool]]]]:  # type: ignore[no-untyped-def]
    """Every API route of the routers the app includes (FastAPI wraps included routers, so
    they are read from ``ROUTERS``, the routers ``create_app`` includes)."""
    from gis.api.app import ROUTERS

    out = []

    def walk(routes, prefix: str) -> None:  # type: ignore[no-untyped-def]
        for route in routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
                    out.append((method, prefix + route.path, _permissions(route)))
            elif hasattr(route, "original_router"):  # a router included in a router
                walk(route.original_router.routes,
                     prefix + (getattr(route.include_context, "prefix", "") or ""))

    for router in ROUTERS:
        walk(router.routes, "")
    return out


def test_every_route_declares_one_permission(service):
    missing = [(m, p) for m, p, perms in _routes(service.app)
               if not OPEN.match(p) and len({perm for perm, _ in perms}) != 1]
    assert missing == [], "routes without exactly one permission"


@pytest.mark.parametrize("role", [None, *[r.value for r in Role]])
def test_role_matrix(service, role):
    values = _values(service)
    client = service.client
    checked = 0
    for method, path, perms in _routes(service.app):
        if OPEN.match(path) or not perms:
            continue
        permission, page = perms[0]
        url = re.sub(r"\{(\w+)(:\w+)?\}", lambda m: values.get(m.group(1), "x"), path)
        res = client.request(method, url, headers=service.auth(role), follow_redirects=False,
                             json={} if method in ("POST", "PATCH", "PUT") else None)
        where = f"{method} {url} as {role}"
        if role is None:
            if page:
                assert res.status_code == 303 and res.headers["location"].startswith("/login"), where
            else:
                assert res.status_code == 401, where
        elif permission in GRANTS[Role(role)]:
            assert res.status_code not in (401, 403), f"{where}: {res.status_code} {res.text[:200]}"
            assert res.status_code < 500, f"{where}: {res.status_code} {res.text[:200]}"
        else:
            assert res.status_code == 403, f"{where}: {res.status_code}"
        checked += 1
    assert checked >= 20
