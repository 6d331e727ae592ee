"""Typed configuration: what stack files and team files may say."""
