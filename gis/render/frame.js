// The page's frame (gis.render.elements.Frame): the payload decoder, number and text
// formats, the style and popup functions shared by every layer, and the legend.
window.gisValue = function (column, i) {  // a plain list, or distinct values and codes
  return Array.isArray(column) ? column[i] : column.values[column.codes[i]];
};
window.gisProps = function (payload, names, i) {
  var props = {};
  for (var k = 0; k < names.length; k++) {
    props[names[k]] = window.gisValue(payload.columns[names[k]], i);
  }
  return props;
};
window.gisDecode = function (payload) {
  // columns + the flat shapes/coords stream (see gis/render/payload.py) back into GeoJSON
  var names = Object.keys(payload.columns), features = [], shapes = payload.shapes;
  var c = payload.coords, s = 0, k = 0, x = 0, y = 0, row = 0;
  while (s < shapes.length) {
    var t = shapes[s++], geometry = null;
    if (t === -1) {
      x += c[k++]; y += c[k++];
      geometry = {type: "Point", coordinates: [x / 1e6, y / 1e6]};
    } else if (t > 0) {
      var polygons = [];
      for (var p = 0; p < t; p++) {
        var rings = [], nr = shapes[s++];
        for (var r = 0; r < nr; r++) {
          var ring = [], nv = shapes[s++];
          for (var v = 0; v < nv; v++) { x += c[k++]; y += c[k++]; ring.push([x / 1e6, y / 1e6]); }
          ring.push(ring[0]);
          rings.push(ring);
        }
        polygons.push(rings);
      }
      geometry = {type: "MultiPolygon", coordinates: polygons};
    }
    if (geometry) {
      features.push({type: "Feature", properties: window.gisProps(payload, names, row),
                     geometry: geometry});
    }
    row++;
  }
  return {type: "FeatureCollection", features: features};
};
window.gisNumber = function (v, fmt) {
  fmt = fmt || {};
  var digits = fmt.digits === undefined ? 2 : fmt.digits;
  var text = (v * (fmt.scale || 1)).toLocaleString(window.gisLocale, {
    maximumFractionDigits: digits, minimumFractionDigits: fmt.unit === "m²" || fmt.scale ? digits : 0,
    useGrouping: fmt.grouping !== false});
  return fmt.unit ? text + " " + fmt.unit : text;
};
window.gisFormat = function (v, fmt) {
  if (typeof v === "boolean") { return v ? window.gisYesNo[0] : window.gisYesNo[1]; }
  if (typeof v === "number") { return window.gisNumber(v, fmt); }
  return v === null || v === undefined ? "" : String(v);
};
window.gisTextNode = function (text) {  // tooltips get nodes: a string would be HTML to Leaflet
  var span = document.createElement("span");
  span.textContent = text;
  return span;
};
window.gisText = function (cfg, field, v) {
  var labels = cfg.values[field];
  if (labels && v !== null && v !== undefined && labels[v] !== undefined) { return labels[v]; }
  if (cfg.booleans.indexOf(field) >= 0 && (v === 0 || v === 1)) { v = v === 1; }
  return window.gisFormat(v, cfg.formats[field]);
};
window.gisStyle = function (style, props) {
  var value = style.by ? props[style.by] : null;
  var color = (value !== null && value !== undefined && style.colors[value]) || style.default_color;
  var out = {color: style.stroke_color, weight: style.stroke_width, fillColor: color,
             fillOpacity: style.fill_opacity, dashArray: null};
  for (var i = 0; i < style.rules.length; i++) {
    var rule = style.rules[i], hit = true;
    Object.keys(rule.when).forEach(function (k) {
      var v = props[k];
      if (v === true || v === false) { v = v ? 1 : 0; }
      if (rule.when[k].map(function (w) { return w === true ? 1 : w === false ? 0 : w; }).indexOf(v) < 0) { hit = false; }
    });
    if (hit) {
      if (rule.dash) { out.dashArray = rule.dash; }
      if (rule.stroke_width !== null) { out.weight = rule.stroke_width; }
      if (rule.stroke_color) { out.color = rule.stroke_color; }
      if (rule.fill_opacity !== null) { out.fillOpacity = rule.fill_opacity; }
      break;
    }
  }
  return out;
};
window.gisPopup = function (cfg, props) {
  var box = document.createElement("div");
  box.className = "gis-popup";
  var title = document.createElement("b");
  title.textContent = cfg.title;
  box.appendChild(title);
  var table = document.createElement("table");
  cfg.popup.forEach(function (key) {
    if (!(key in props)) { return; }
    var row = table.insertRow();
    var name = row.insertCell();
    name.textContent = cfg.labels[key];
    name.style.cssText = "white-space:nowrap;color:#555;padding-right:8px;vertical-align:top";
    var text = window.gisText(cfg, key, props[key]);
    row.insertCell().textContent = text === "" ? "—" : text;
  });
  box.appendChild(table);
  cfg.progress.forEach(function (key) {
    var v = props[key];
    if (typeof v !== "number") { return; }
    var wrap = document.createElement("div");
    wrap.className = "gis-progress";
    wrap.style.cssText = "margin-top:4px;font:12px sans-serif";
    var label = document.createElement("div");
    label.textContent = cfg.labels[key] + ": " + window.gisNumber(v, {digits: 1, unit: "%"});
    var bar = document.createElement("div");
    bar.style.cssText = "height:8px;background:#e0e0e0;border-radius:4px;overflow:hidden";
    var fill = document.createElement("div");
    fill.style.cssText = "height:100%;background:#2e7d32;width:" + Math.max(0, Math.min(100, v)) + "%";
    bar.appendChild(fill);
    wrap.appendChild(label);
    wrap.appendChild(bar);
    box.appendChild(wrap);
  });
  return box;
};
// the legend: only the layers on the map, redrawn when one is switched on or off
window.gisLegend = function (map, entries) {
  var legend = L.control({position: "bottomright"});
  var div = L.DomUtil.create("div", "gis-legend");
  div.style.cssText = "background:#fff;padding:6px 8px;font:12px sans-serif;line-height:18px;" +
    "max-height:60vh;overflow:auto;box-shadow:0 1px 4px rgba(0,0,0,.3)";
  function draw() {  // only the layers on the map: redrawn when one is switched on or off
    while (div.firstChild) { div.removeChild(div.firstChild); }
    entries.forEach(function (group) {
      var layer = (window.gisLayers || {})[group.key];
      if (layer && !map.hasLayer(layer)) { return; }
      var h = document.createElement("div");
      h.style.fontWeight = "bold";
      h.textContent = group.title;
      div.appendChild(h);
      group.items.forEach(function (item) {
        var row = document.createElement("div");
        var swatch = document.createElement("span");
        swatch.style.cssText = "display:inline-block;width:12px;height:12px;margin-right:6px;" +
          "vertical-align:middle;border:" + (item.dash ? "2px dashed " : "1px solid ") +
          (item.stroke || "#555") + ";background:" + (item.color || "transparent");
        row.appendChild(swatch);
        row.appendChild(document.createTextNode(item.label));
        div.appendChild(row);
      });
    });
  }
  window.gisLegendDraw = draw;
  legend.onAdd = function () { draw(); return div; };
  map.on("overlayadd overlayremove", draw);
  map.whenReady(draw);
  legend.addTo(map);
};
