"""auth: see DESIGN.md, Service."""
