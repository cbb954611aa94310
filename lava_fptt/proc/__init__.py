"""Lava Processes and ProcessModels of this project, one folder each (process and models side by side)."""
