"""dashboard: see DESIGN.md, Service."""
