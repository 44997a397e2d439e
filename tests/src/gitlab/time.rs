//! The two timestamp formats GitLab emits: ISO 8601 with milliseconds in REST responses
//! (`2016-01-04T15:31:46.176Z`, <https://docs.gitlab.com/api/notes/>) and
//! `2015-05-17 18:08:09 UTC` in webhook payloads
//! (<https://docs.gitlab.com/user/project/integrations/webhook_events/#comment-events>).

use chrono::{DateTime, SecondsFormat, Utc};

pub type Timestamp = DateTime<Utc>;

pub fn now() -> Timestamp {
    Utc::now()
}

pub fn api(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn hook(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}
