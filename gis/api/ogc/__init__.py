"""ogc: see DESIGN.md, Service."""
