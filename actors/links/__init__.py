"""The client side of the task server's wire."""
