"""congdoan-bot: the union's study-and-follow campaign, in chat."""

__version__ = "0.1.0"
