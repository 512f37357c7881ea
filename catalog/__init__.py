"""The team catalog: `team.yaml` as code — members, pipelines, rotation settings."""
