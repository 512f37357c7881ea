"""Bolt listeners, one module per kind of interaction, each with `register(app)`."""

from slack_bolt import App

from bot.listeners import actions, commands, errors, events


def register_listeners(app: App) -> None:
    commands.register(app)
    actions.register(app)
    events.register(app)
    errors.register(app)
