"""Clean, chunk and embed raw documents into feature-store records."""
