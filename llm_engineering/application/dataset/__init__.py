"""Instruction and preference datasets built from the feature store."""
