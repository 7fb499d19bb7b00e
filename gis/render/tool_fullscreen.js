// Full screen (gis.render.tools.MapTools wires it: tools.js).
window.gisToolFullScreen = function (tools) {
  var map = tools.map, text = tools.text;
  var full = L.control({position: "topleft"});
  full.onAdd = function () {
    var a = L.DomUtil.create("a", "gis-fullscreen leaflet-bar");
    a.href = "#";
    a.title = text.full;
    a.textContent = "\u25A1";  // a square: available in every font, unlike ⛶
    a.style.cssText = "display:block;width:30px;height:30px;line-height:30px;text-align:center;background:#fff;font-size:18px";
    L.DomEvent.on(a, "click", function (e) {
      L.DomEvent.preventDefault(e);
      var el = map.getContainer();
      if (document.fullscreenElement) { document.exitFullscreen(); } else if (el.requestFullscreen) { el.requestFullscreen(); }
    });
    return a;
  };
  full.addTo(map);
};
