"""Pure pharmacokinetics for IV ketamine: compartment models and infusion histories -> concentrations.

Imports numpy and scipy only; never Django or application code (an import-linter contract checks this).
"""
