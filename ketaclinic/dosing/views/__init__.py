"""Dosing's pages: the dose order (`orders`) and the encounter gathering the first visit's sections."""
