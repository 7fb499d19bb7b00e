"""The mixed load of benchmarks/service_load.py: land officers panning the map (vector tiles),
opening the map page, querying cases as GeoJSON by box, and inspectors flagging cases.

Configured by environment (written by service_load.py): GIS_LOAD_PLAN (JSON: tiles, boxes,
points, tokens), GIS_LOAD_ACKS (file where every acknowledged case id is appended),
GIS_LOAD_WAIT ("min,max" seconds between a user's requests)."""

from __future__ import annotations

import json
import os
import random

from locust import HttpUser, between, task

PLAN = json.loads(open(os.environ["GIS_LOAD_PLAN"], encoding="utf-8").read())
ACKS = os.environ["GIS_LOAD_ACKS"]
WAIT = tuple(float(v) for v in os.environ.get("GIS_LOAD_WAIT", "0.5,1.5").split(","))


class Officer(HttpUser):
    wait_time = between(*WAIT)  # seconds a user looks at the map between requests

    def on_start(self) -> None:
        self.viewer = {"Authorization": f"Bearer {PLAN['tokens']['viewer']}"}
        self.inspector = {"Authorization": f"Bearer {PLAN['tokens']['inspector']}"}

    @task(20)
    def tile(self) -> None:
        z, x, y = random.choice(PLAN["tiles"])
        layer = random.choice(("parcels", "parcels", "parcels", "project_parcels"))
        self.client.get(f"/tiles/{layer}/{z}/{x}/{y}.mvt", headers=self.viewer,
                        name="tile")

    @task(2)
    def map_page(self) -> None:
        self.client.get("/maps/district", headers=self.viewer, name="map page")

    @task(4)
    def geojson(self) -> None:
        box = ",".join(f"{v:.6f}" for v in random.choice(PLAN["boxes"]))
        self.client.get(f"/api/layers/violation_cases.geojson?bbox={box}", headers=self.viewer,
                        name="geojson")

    @task(1)
    def flag(self) -> None:
        lon, lat = random.choice(PLAN["points"])
        with self.client.post("/api/violations", headers=self.inspector, name="flag",
                              json={"geometry": {"type": "Point", "coordinates": [lon, lat]},
                                    "kind": "encroachment_public_land",
                                    "notes": "tải thử (load test)"},
                              catch_response=True) as res:
            if res.status_code == 201:
                with open(ACKS, "a", encoding="utf-8") as fh:
                    fh.write(res.json()["case_id"] + "\n")
                res.success()
            else:
                res.failure(f"{res.status_code}: {res.text[:200]}")
