"""Conversations (seed 004): a user's threads, and the messages the system writes into them."""
