"""The local image operations a workflow step runs."""
