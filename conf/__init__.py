"""Configuration and logging: the settings object, the limits built from it, structured logs.

The bottom layer: every other package may import it, and it imports nothing of Vigie.
"""
