"""tiles: see DESIGN.md, Service."""
