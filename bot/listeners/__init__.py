"""Bolt listeners, one module per kind of interaction, each with `register(app, services)`.
The catch-all for buttons is registered last, so it only gets what nobody else matched."""

from slack_bolt import App

from bot.listeners import actions, commands, errors, events
from bot.services import Services


def register_listeners(app: App, services: Services) -> None:
    commands.register(app, services)
    events.register(app, services)
    actions.register(app, services)
    errors.register(app)
