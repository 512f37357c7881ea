"""On-call schedules: shift boundaries, generation, and who-is-on-call lookups."""
