"""public: see DESIGN.md, Service."""
