"""Messages the bot posts on its own: handoffs, week-ahead and holiday-swap reminders,
major-holiday notices, and the on-call user group and channel topic, each sent once
through the outbox (`storage.outbox`)."""
