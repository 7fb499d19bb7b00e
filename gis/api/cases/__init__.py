"""cases: see DESIGN.md, Service."""
