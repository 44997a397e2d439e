//! The model doubles' wire format, checked over HTTP without the CLIs: event order and shapes
//! as the Anthropic and OpenAI streaming docs describe them, error bodies, and the script's
//! bookkeeping.

use std::time::{Duration, Instant};

use doubles::model::{
    ApiError, Expectation, Fault, Script, ToolAction, ToolCall, Turn, Usage, anthropic, openai,
};
use serde_json::{Value, json};

/// `(event name, data)` pairs of an SSE body.
fn sse(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let mut name = String::new();
            let mut data = Value::Null;
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data = serde_json::from_str(d).unwrap();
                }
            }
            assert_eq!(
                data["type"],
                name.as_str(),
                "event name and data type agree"
            );
            (name, data)
        })
        .collect()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// `POST url` with the JSON `body`, as the CLIs send their requests.
async fn post(url: &str, body: &Value) -> reqwest::Response {
    client().post(url).json(body).send().await.unwrap()
}

#[tokio::test]
async fn anthropic_streams_text_and_tool_use_in_the_documented_order() {
    let turn = Turn::tool_call(ToolCall::write_file("toolu_1", "/w/a.txt", "alpha\n"))
        .with_text("Writing.")
        .with_usage(Usage::new(11, 7));
    let double = anthropic::start(Script::new().then(turn)).await.unwrap();

    let response = client()
        .post(format!("{}/v1/messages?beta=true", double.base_url()))
        .header("x-api-key", "k")
        .json(&json!({"model": "claude-x", "stream": true, "max_tokens": 10, "messages": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = sse(&response.text().await.unwrap());
    let names: Vec<&str> = events.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    assert_eq!(events[0].1["message"]["model"], "claude-x");
    assert_eq!(events[0].1["message"]["usage"]["input_tokens"], 11);
    let text: String = events[3..5]
        .iter()
        .map(|(_, d)| d["delta"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Writing.");
    assert_eq!(events[6].1["content_block"]["type"], "tool_use");
    assert_eq!(events[6].1["content_block"]["name"], "Write");
    assert_eq!(events[6].1["index"], 1);
    let input: String = events[7..9]
        .iter()
        .map(|(_, d)| {
            assert_eq!(d["delta"]["type"], "input_json_delta");
            d["delta"]["partial_json"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&input).unwrap(),
        json!({"file_path": "/w/a.txt", "content": "alpha\n"})
    );
    assert_eq!(events[10].1["delta"]["stop_reason"], "tool_use");
    assert_eq!(events[10].1["usage"]["output_tokens"], 7);
}

#[tokio::test]
async fn anthropic_answers_a_non_streaming_request_with_one_message() {
    let double = anthropic::start(Script::new().then(Turn::text("Done.")))
        .await
        .unwrap();

    let message: Value = post(
        &format!("{}/v1/messages", double.base_url()),
        &json!({"model": "claude-x", "max_tokens": 10, "messages": []}),
    )
    .await
    .json()
    .await
    .unwrap();

    assert_eq!(message["type"], "message");
    assert_eq!(
        message["content"],
        json!([{"type": "text", "text": "Done."}])
    );
    assert_eq!(message["stop_reason"], "end_turn");
}

#[tokio::test]
async fn anthropic_errors_carry_the_documented_body_and_retry_hint() {
    let double = anthropic::start(
        Script::new()
            .then(Turn::fault(Fault::Status(ApiError::new(529, "Overloaded"))))
            .then(Turn::fault(Fault::Status(ApiError::new(
                401,
                "invalid x-api-key",
            )))),
    )
    .await
    .unwrap();
    let url = format!("{}/v1/messages", double.base_url());
    let body = json!({"model": "claude-x", "stream": true, "messages": []});

    let overloaded = post(&url, &body).await;
    assert_eq!(overloaded.status(), 529);
    assert_eq!(overloaded.headers()["x-should-retry"], "true");
    let unauthorized = post(&url, &body).await;
    assert_eq!(unauthorized.status(), 401);
    assert_eq!(unauthorized.headers()["x-should-retry"], "false");
    let error: Value = unauthorized.json().await.unwrap();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"]["type"], "authentication_error");
    assert_eq!(error["error"]["message"], "invalid x-api-key");
}

#[tokio::test]
async fn anthropic_answers_token_counts_and_hello_and_unknown_routes_with_not_found() {
    let double = anthropic::start(Script::new().unknown_model("claude-gone"))
        .await
        .unwrap();

    let messages = json!([{"role": "user", "content": "hello there"}]);
    let count_tokens = format!("{}/v1/messages/count_tokens", double.base_url());
    let count: Value = post(
        &count_tokens,
        &json!({"model": "claude-x", "messages": messages}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(count["input_tokens"].as_u64().unwrap() > 0);

    let hello = format!("{}/api/hello", double.base_url());
    assert_eq!(client().head(hello).send().await.unwrap().status(), 200);

    let unknown = format!("{}/v1/models/claude-x/unknown", double.base_url());
    let missing = client().get(unknown).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let error: Value = missing.json().await.unwrap();
    assert_eq!(error["error"]["type"], "not_found_error");

    let gone = post(
        &format!("{}/v1/messages", double.base_url()),
        &json!({"model": "claude-gone", "messages": []}),
    )
    .await;
    assert_eq!(gone.status(), 404);
    let error: Value = gone.json().await.unwrap();
    assert_eq!(error["error"]["message"], "model: claude-gone");
    assert_eq!(double.requests().len(), 4, "every request is recorded");
}

#[tokio::test]
async fn openai_streams_items_with_growing_sequence_numbers_and_usage() {
    let turn = Turn::tool_calls(vec![
        ToolCall::write_file("c1", "a.txt", "alpha\nbeta\n"),
        ToolCall::shell("c2", "ls"),
    ])
    .with_text("Working.")
    .with_usage(Usage::new(12, 8));
    let double = openai::start(Script::new().then(turn)).await.unwrap();

    let body = client()
        .post(format!("{}/v1/responses", double.base_url()))
        .bearer_auth("sk-x")
        .json(&json!({"model": "gpt-5.5", "stream": true, "input": []}))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events = sse(&body);

    for (position, (_, data)) in events.iter().enumerate() {
        assert_eq!(data["sequence_number"], position);
    }
    assert_eq!(events.first().unwrap().0, "response.created");
    let (last, completed) = events.last().unwrap();
    assert_eq!(last, "response.completed");
    assert_eq!(completed["response"]["status"], "completed");
    assert_eq!(completed["response"]["usage"]["input_tokens"], 12);
    assert_eq!(completed["response"]["usage"]["output_tokens"], 8);
    assert_eq!(completed["response"]["usage"]["total_tokens"], 20);

    let done: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == "response.output_item.done")
        .map(|(_, d)| &d["item"])
        .collect();
    assert_eq!(done.len(), 3);
    assert_eq!(done[0]["type"], "message");
    assert_eq!(done[0]["content"][0]["text"], "Working.");
    assert_eq!(done[1]["type"], "custom_tool_call");
    assert_eq!(done[1]["name"], "apply_patch");
    assert_eq!(
        done[1]["input"],
        "*** Begin Patch\n*** Add File: a.txt\n+alpha\n+beta\n*** End Patch\n"
    );
    assert_eq!(done[2]["type"], "function_call");
    assert_eq!(done[2]["name"], "exec_command");
    assert_eq!(
        serde_json::from_str::<Value>(done[2]["arguments"].as_str().unwrap()).unwrap(),
        json!({"cmd": "ls"})
    );
    let text: String = events
        .iter()
        .filter(|(n, _)| n == "response.output_text.delta")
        .map(|(_, d)| d["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Working.");
}

#[tokio::test]
async fn openai_refuses_websockets_and_names_a_missing_model() {
    let double = openai::start(Script::new().unknown_model("o4-mini"))
        .await
        .unwrap();

    let upgrade = client()
        .get(format!("{}/v1/responses", double.base_url()))
        .header("connection", "Upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-version", "13")
        .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
        .send()
        .await
        .unwrap();
    assert_eq!(upgrade.status(), 426);

    let missing = post(
        &format!("{}/v1/responses", double.base_url()),
        &json!({"model": "o4-mini", "stream": true, "input": []}),
    )
    .await;
    assert_eq!(missing.status(), 404);
    let error: Value = missing.json().await.unwrap();
    assert_eq!(
        error,
        json!({"error": {
            "message": "The model `o4-mini` does not exist or you do not have access to it.",
            "type": "invalid_request_error",
            "param": null,
            "code": "model_not_found",
        }})
    );
}

#[tokio::test]
async fn a_dropped_stream_fails_the_body_after_the_first_event() {
    let double = openai::start(Script::new().then(Turn::fault(Fault::DropStream)))
        .await
        .unwrap();

    let response = post(
        &format!("{}/v1/responses", double.base_url()),
        &json!({"model": "gpt-5.5", "stream": true, "input": []}),
    )
    .await;

    assert_eq!(response.status(), 200);
    assert!(
        response.text().await.is_err(),
        "the body must not end cleanly"
    );
}

#[tokio::test]
async fn requests_off_script_are_refused_and_reported() {
    let double = openai::start(
        Script::new()
            .then(Turn::text("first"))
            .then(Turn::text("second").expecting(Expectation::ToolOutputFor("c9".into())))
            .then(Turn::text("never reached")),
    )
    .await
    .unwrap();
    let url = format!("{}/v1/responses", double.base_url());
    let body = json!({"model": "gpt-5.5", "input": []});

    let first = post(&url, &body).await;
    assert_eq!(first.status(), 200);
    let off_script = post(&url, &body).await;
    assert_eq!(off_script.status(), 400);

    let problems = double.problems();
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(problems[0].contains("turn 1 expected a request with the output of tool call c9"));
    assert_eq!(problems[1], "turn 1 was never requested");
    assert_eq!(problems[2], "turn 2 was never requested");
    assert_eq!(double.remaining_turns(), 2);
}

#[tokio::test]
async fn a_repeated_turn_answers_that_many_requests_then_the_next_turn_follows() {
    let double = openai::start(
        Script::new()
            .then(Turn::fault(Fault::Status(ApiError::new(503, "busy"))).times(2))
            .then(Turn::text("ok")),
    )
    .await
    .unwrap();
    let url = format!("{}/v1/responses", double.base_url());
    let body = json!({"model": "gpt-5.5", "input": []});

    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(post(&url, &body).await.status().as_u16());
    }

    assert_eq!(statuses, [503, 503, 200]);
    assert!(double.problems().is_empty());
}

#[tokio::test]
async fn a_tool_meant_for_the_other_cli_is_a_script_problem() {
    let double = anthropic::start(Script::new().then(Turn::tool_call(ToolCall::new(
        "x",
        ToolAction::CodexCustom {
            name: "apply_patch".into(),
            input: String::new(),
        },
    ))))
    .await
    .unwrap();

    let response = post(
        &format!("{}/v1/messages", double.base_url()),
        &json!({"model": "claude-x", "messages": []}),
    )
    .await;

    assert_eq!(response.status(), 400);
    assert_eq!(response.headers()["x-should-retry"], "false");
    assert!(double.problems()[0].contains("Codex-only tool"));
}

#[tokio::test]
async fn an_unknown_model_uses_no_turn_so_a_fallback_model_gets_the_script() {
    let double = openai::start(
        Script::new()
            .unknown_model("o4-mini")
            .then(Turn::text("hi")),
    )
    .await
    .unwrap();
    let url = format!("{}/v1/responses", double.base_url());

    let retired = post(&url, &json!({"model": "o4-mini", "input": []})).await;
    let fallback: Value = post(&url, &json!({"model": "gpt-5.5", "input": []}))
        .await
        .json()
        .await
        .unwrap();

    assert_eq!(retired.status(), 404);
    assert_eq!(fallback["output"][0]["content"][0]["text"], "hi");
    assert_eq!(fallback["model"], "gpt-5.5");
    assert!(double.problems().is_empty());
}

#[tokio::test]
async fn a_delayed_turn_answers_no_sooner_than_its_delay() {
    let double =
        anthropic::start(Script::new().then(Turn::text("late").after(Duration::from_millis(400))))
            .await
            .unwrap();

    let started = Instant::now();
    let response = post(
        &format!("{}/v1/messages", double.base_url()),
        &json!({"model": "claude-x", "messages": []}),
    )
    .await;

    assert_eq!(response.status(), 200);
    assert!(started.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn a_stopped_double_no_longer_accepts_connections() {
    let double = anthropic::start(Script::new()).await.unwrap();
    let url = format!("{}/api/hello", double.base_url());
    assert_eq!(client().head(&url).send().await.unwrap().status(), 200);

    double.stop().await;

    assert!(client().head(&url).send().await.is_err());
}
