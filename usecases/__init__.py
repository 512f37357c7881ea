"""Use cases that span the domain packages: start-up, and every write to a team's schedule."""
