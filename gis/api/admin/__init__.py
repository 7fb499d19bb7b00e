"""admin: see DESIGN.md, Service."""
