"""Loopback fakes of what lies outside the product: Slack, Discord (adapted from chatfakes)."""
