// VN-2000: WGS 84 lon/lat -> easting, northing of a TM-3 zone, as PROJ's pinned transform (gis/render/zone.py
// gives the parameters; tested against pyproj to the nanometre). Used by the measure and coordinates controls.
window.gisVn2000Projector = function (p) {
  var rad = Math.PI / 180, sec = Math.PI / 648000;
  var a = p.a, f = p.f, e2 = f * (2 - f), e = Math.sqrt(e2);
  var h = p.helmert, sign = h.convention === "coordinate_frame" ? 1 : -1;
  var rx = sign * h.rx * sec, ry = sign * h.ry * sec, rz = sign * h.rz * sec;
  var scale = 1 + h.s * 1e-6;
  // PROJ's small-angle rotation, coordinate-frame form: WGS84 = T + scale * R * VN2000
  var R = [[1, rz, -ry], [-rz, 1, rx], [ry, -rx, 1]];
  var n = f / (2 - f), n2 = n * n, n3 = n2 * n, n4 = n3 * n, n5 = n4 * n, n6 = n5 * n;
  var A = a / (1 + n) * (1 + n2 / 4 + n4 / 64 + n6 / 256);
  var alpha = [
    n / 2 - 2 * n2 / 3 + 5 * n3 / 16 + 41 * n4 / 180 - 127 * n5 / 288 + 7891 * n6 / 37800,
    13 * n2 / 48 - 3 * n3 / 5 + 557 * n4 / 1440 + 281 * n5 / 630 - 1983433 * n6 / 1935360,
    61 * n3 / 240 - 103 * n4 / 140 + 15061 * n5 / 26880 + 167603 * n6 / 181440,
    49561 * n4 / 161280 - 179 * n5 / 168 + 6601661 * n6 / 7257600,
    34729 * n5 / 80640 - 3418889 * n6 / 1995840,
    212378941 * n6 / 319334400];
  function kruger(phi, lam) {  // [A eta, A xi] of Transverse Mercator, unit scale
    var t = Math.tan(phi), s = Math.sinh(e * Math.atanh(e * t / Math.sqrt(1 + t * t)));
    var tc = t * Math.sqrt(1 + s * s) - s * Math.sqrt(1 + t * t);  // conformal latitude
    var xi0 = Math.atan2(tc, Math.cos(lam));
    var eta0 = Math.asinh(Math.sin(lam) / Math.sqrt(tc * tc + Math.cos(lam) * Math.cos(lam)));
    var xi = xi0, eta = eta0;
    for (var j = 1; j <= 6; j++) {
      xi += alpha[j - 1] * Math.sin(2 * j * xi0) * Math.cosh(2 * j * eta0);
      eta += alpha[j - 1] * Math.cos(2 * j * xi0) * Math.sinh(2 * j * eta0);
    }
    return [A * eta, A * xi];
  }
  var origin = kruger(p.lat0 * rad, 0)[1];
  return function (lon, lat) {
    var phi = lat * rad, lam = lon * rad;
    var sp = Math.sin(phi), cp = Math.cos(phi), N = a / Math.sqrt(1 - e2 * sp * sp);
    var x = N * cp * Math.cos(lam) - h.tx, y = N * cp * Math.sin(lam) - h.ty,
        z = N * (1 - e2) * sp - h.tz;
    // PROJ's reverse Helmert: translation off, transposed rotation, scale off
    var xv = (R[0][0] * x + R[1][0] * y + R[2][0] * z) / scale;
    var yv = (R[0][1] * x + R[1][1] * y + R[2][1] * z) / scale;
    var zv = (R[0][2] * x + R[1][2] * y + R[2][2] * z) / scale;
    var pp = Math.sqrt(xv * xv + yv * yv), lonv = Math.atan2(yv, xv);
    var latv = Math.atan2(zv, pp * (1 - e2));
    for (var i = 0; i < 6; i++) {
      var s2 = Math.sin(latv), N2 = a / Math.sqrt(1 - e2 * s2 * s2);
      var hv = pp / Math.cos(latv) - N2;
      latv = Math.atan2(zv, pp * (1 - e2 * N2 / (N2 + hv)));
    }
    var en = kruger(latv, lonv - p.lon0 * rad);
    return [p.fe + p.k0 * en[0], p.fn + p.k0 * (en[1] - origin)];
  };
};
