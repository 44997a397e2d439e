//! The relay's `/metrics`: a Prometheus scrape after real deliveries shows the same counters as
//! `/healthz`, in the text exposition format
//! (<https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format>).

use crate::relay_support;

use std::collections::BTreeMap;

use relay_support::{WEBHOOK_SECRET, redeliver, wait_for, world};

/// Every sample line (`name{labels} value`) by its name with labels; checks the format on the
/// way: each metric family announced by `# HELP` and `# TYPE` before its samples.
fn samples(text: &str) -> BTreeMap<String, f64> {
    let mut typed = Vec::new();
    let mut samples = BTreeMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
            assert!(["counter", "histogram"].contains(&kind), "{line}");
            typed.push(name.to_owned());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("name value");
        let family = series.split('{').next().unwrap();
        assert!(
            typed.iter().any(|t| family == t
                || family
                    .strip_prefix(t.as_str())
                    .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))),
            "{line} before its # TYPE"
        );
        assert!(
            family
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{family}"
        );
        samples.insert(series.to_owned(), value.parse().expect("a number"));
    }
    samples
}

#[tokio::test]
async fn a_prometheus_scrape_counts_what_the_relay_did() {
    let w = world().await;
    let relay = w.standard_relay().await;
    w.mention("@claude first");
    w.mention("@claude second");
    let stats = wait_for(&relay, "two pipelines", |s| s.pipelines == 2).await;
    let deliveries = w.deliveries(2).await;
    let refused = redeliver(&relay, &deliveries[0], &[("X-Gitlab-Token", "guess")]).await;
    assert_eq!(refused.status(), 401);

    let response = relay_support::get(&relay, "/metrics").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = response.text().await.unwrap();
    // The relay's own placeholders are comments too: their deliveries may still be arriving,
    // so the scrape lies between the counters read before it and after it.
    let after = relay.stats();
    relay.shutdown().await.unwrap();

    let samples = samples(&text);
    let get = |name: &str| {
        *samples
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing:\n{text}"))
    };
    let delivered = get("gitlab_ai_relay_deliveries_total");
    assert!(
        (stats.deliveries as f64..=after.deliveries as f64).contains(&delivered),
        "{delivered} outside {}..={}",
        stats.deliveries,
        after.deliveries
    );
    assert!(delivered >= 2.0);
    assert_eq!(get("gitlab_ai_relay_unauthorized_total"), 1.0);
    assert_eq!(get("gitlab_ai_relay_queued_total"), 2.0);
    assert_eq!(get("gitlab_ai_relay_placeholders_total"), 2.0);
    assert_eq!(get("gitlab_ai_relay_pipelines_total"), 2.0);
    assert_eq!(get("gitlab_ai_relay_failed_total"), 0.0);
    assert_eq!(
        get("gitlab_ai_relay_placeholder_latency_seconds_count"),
        2.0
    );
    assert_eq!(
        get("gitlab_ai_relay_placeholder_latency_seconds_bucket{le=\"+Inf\"}"),
        2.0
    );
    assert!(get("gitlab_ai_relay_placeholder_latency_seconds_sum") > 0.0);
    // Buckets are cumulative.
    let buckets: Vec<f64> = samples
        .iter()
        .filter(|(k, _)| k.starts_with("gitlab_ai_relay_placeholder_latency_seconds_bucket"))
        .map(|(_, v)| *v)
        .collect();
    assert!(buckets.iter().all(|b| *b <= 2.0), "{text}");
    assert!(!text.contains(WEBHOOK_SECRET) && !text.contains(w.bot.token.as_str()));
}
