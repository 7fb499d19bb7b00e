"""Land violations (vi phạm đất đai): detection by overlay and the case lifecycle. Pure logic."""
