"""The Slack front end: parse what Slack sends, call the core, render Block Kit."""
