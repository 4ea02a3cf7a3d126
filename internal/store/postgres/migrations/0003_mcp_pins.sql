-- MCP tool pins: one row per server and tool, its JSON in body. status
-- and version are copies the queries need; version is the
-- compare-and-set key every update names.
CREATE TABLE mcp_pins (
	server     TEXT NOT NULL,
	tool       TEXT NOT NULL,
	status     TEXT NOT NULL,
	version    BIGINT NOT NULL,
	updated_at TIMESTAMPTZ NOT NULL,
	body       BYTEA NOT NULL,
	PRIMARY KEY (server, tool)
);
-- Shadowing: the same tool name on other servers.
CREATE INDEX mcp_pins_tool ON mcp_pins (tool);
CREATE INDEX mcp_pins_status ON mcp_pins (status, server, tool);
