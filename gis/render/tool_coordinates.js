// Cursor coordinates in WGS 84 and the VN-2000 zone (gis.render.tools.MapTools wires it: tools.js).
window.gisToolCoordinates = function (tools) {
  var map = tools.map, text = tools.text, zone = tools.zone, coord = tools.coord;
  var coords = L.control({position: "bottomleft"});
  coords.onAdd = function () {
    var div = L.DomUtil.create("div", "gis-coords");
    div.style.cssText = "background:rgba(255,255,255,.85);padding:2px 6px;font:12px monospace;" +
      "display:none";
    var wgs = document.createElement("div");
    wgs.className = "gis-coords-wgs84";
    div.appendChild(wgs);
    var vn = document.createElement("div");
    vn.className = "gis-coords-vn2000";
    if (zone) { div.appendChild(vn); }
    tools.onPointer(function (latlng) {
      div.style.display = "";
      wgs.textContent = "WGS 84: " + latlng.lat.toFixed(6) + ", " + latlng.lng.toFixed(6);
      if (zone) {
        var en = window.gisVn2000(latlng.lng, latlng.lat);
        vn.textContent = zone.label + ": " + text.north + " " + coord(en[1]) + "  " +
          text.east + " " + coord(en[0]);
      }
    });
    return div;
  };
  coords.addTo(map);
};
