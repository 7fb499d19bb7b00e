"""Reports people use: tables in the terminal, XLSX, CSV, JSON and charts."""
