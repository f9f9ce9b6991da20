"""The embedded local infrastructure: the Mongo-wire server started on demand."""
