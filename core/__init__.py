"""Pieces every front end shares: settings, the injectable clock, domain errors, text safety."""
