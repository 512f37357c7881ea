"""The terminal front end (`oncall ...`): parse, call the core, print."""
