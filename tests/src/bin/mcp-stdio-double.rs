//! A stdio MCP server for tests: newline-delimited JSON-RPC on stdin and stdout, as the stdio
//! transport defines it
//! (<https://modelcontextprotocol.io/specification/2025-06-18/basic/transports#stdio>). Its one
//! tool, `whoami`, answers with the uid it runs as and the names of its environment variables,
//! so a test can see where and with what the CLI started it.

use std::io::{BufRead, Write};

use serde_json::{Value, json};

fn main() {
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        let Some(id) = message.get("id").cloned() else {
            // A notification: nothing to answer.
            continue;
        };
        let method = message["method"].as_str().unwrap_or_default();
        let answer = match method {
            "initialize" => {
                let version = doubles::mcp::negotiated_version(&message);
                json!({"jsonrpc": "2.0", "id": id, "result": {
                    "protocolVersion": version,
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "stdio-double", "version": "1.0.0"},
                }})
            }
            "ping" => json!({"jsonrpc": "2.0", "id": id, "result": {}}),
            "tools/list" => json!({"jsonrpc": "2.0", "id": id, "result": {"tools": [{
                "name": "whoami",
                "description": "Says which uid this server runs as and which variables it has.",
                "inputSchema": {"type": "object", "properties": {}},
            }]}}),
            "tools/call" if message["params"]["name"] == "whoami" => {
                let mut names: Vec<String> = std::env::vars_os()
                    .map(|(n, _)| n.to_string_lossy().into_owned())
                    .collect();
                names.sort();
                let text = format!(
                    "STDIO-DOUBLE uid={} env={}",
                    uid().unwrap_or_default(),
                    names.join(",")
                );
                json!({"jsonrpc": "2.0", "id": id, "result": {
                    "content": [{"type": "text", "text": text}],
                    "isError": false,
                }})
            }
            _ => {
                json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "method not found"}})
            }
        };
        if writeln!(stdout, "{answer}")
            .and_then(|()| stdout.flush())
            .is_err()
        {
            break;
        }
    }
}

/// The real uid: the first number of the `Uid:` line of `/proc/self/status`.
fn uid() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_owned)
}
