"""The faces beside the CLI: the HTTP API and its page, the MCP server, the write queue."""
