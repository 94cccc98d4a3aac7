"""The persistent outbox: messages written with the state that caused them, sent later."""
