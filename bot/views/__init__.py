"""Block Kit answers, one module per feature; `message` holds the pieces they share."""
