"""exports: see DESIGN.md, Service."""
