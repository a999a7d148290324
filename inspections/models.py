"""Models of the inspections app arrive with its issue."""
