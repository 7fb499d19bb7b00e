"""Maps: folium/Leaflet HTML that works offline (assets inlined from installed packages)."""
