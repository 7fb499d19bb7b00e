"""maps: see DESIGN.md, Service."""
