"""Models of the assessment app arrive with its issue."""
