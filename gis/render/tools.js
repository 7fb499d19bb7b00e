// The map tools (gis.render.tools.MapTools): one file per control (tool_find.js,
// tool_zoomto.js, tool_fullscreen.js, tool_measure.js, tool_coordinates.js; tool_vn2000.js the
// zone projection they use), wired here once per map with the map, the texts of the page's
// language and the zone parameters (or null). Metric scale: the static map's options.
window.gisMapTools = function (map, text, zone) {
  var locale = text.locale;
  window.gisVn2000 = zone ? window.gisVn2000Projector(zone) : null;
  window.gisZone = zone;

  function fixed(v, digits) {
    return v.toLocaleString(locale, {minimumFractionDigits: digits, maximumFractionDigits: digits});
  }
  var coordFormat = null;  // made at the first mouse move: ICU's set-up costs tens of ms at load
  function coord(v) {  // 2 323 456,78: thin spaces between thousands, the language's decimal mark
    coordFormat = coordFormat || new Intl.NumberFormat(locale, {minimumFractionDigits: 2,
                                                                maximumFractionDigits: 2});
    return coordFormat.formatToParts(v).map(function (part) {
      return part.type === "group" ? "\u202f" : part.value;
    }).join("");
  }

  // Leaflet drops canvas mouse moves within 32 ms of the last one (hover throttling): the
  // cursor position is taken from the DOM event itself, so the last position always counts
  var pointerHandlers = [];
  L.DomEvent.on(map.getContainer(), "mousemove", function (e) {
    var controls = map.getContainer().querySelector(".leaflet-control-container");
    if (controls && controls.contains(e.target)) { return; }
    var latlng = map.mouseEventToLatLng(e);
    pointerHandlers.forEach(function (handler) { handler(latlng); });
  });
  var tools = {map: map, text: text, zone: zone, locale: locale, fixed: fixed, coord: coord,
               onPointer: function (handler) { pointerHandlers.push(handler); }};
  window.gisToolFind(tools);
  window.gisToolZoomTo(tools);
  window.gisToolFullScreen(tools);
  window.gisToolMeasure(tools);
  window.gisToolCoordinates(tools);
};
