"""Tracked share links: a short link per share, a shared statement when made, a viewed one per click."""
