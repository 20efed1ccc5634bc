"""Holdfast: a Discord bot that keeps peer-support groups reliably held."""

__version__ = "0.1.0"
