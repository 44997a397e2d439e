//! `entrypoint doctor` on the job's image, against a real registry (Debian's
//! `docker-registry` with htpasswd): an old unsigned image gets a warning for each, the signed
//! newest patch release gets none; the job's registry credentials reach only `CI_REGISTRY`;
//! GitLab's token flow (a `Bearer` challenge, a token from the realm with Basic credentials)
//! and tag pagination work; an unreachable registry is a warning, never a failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use doubles::registry::LocalRegistry;
use entrypoint::agent::Assistant;
use entrypoint::doctor::{self, Check, Inputs, Place, Report, Status};
use entrypoint::gitlab::ids::{ProjectId, ProjectRef};
use entrypoint::setup::TemplateSource;
use tokio::net::TcpListener;

use crate::support::doctor::finding;

const REPO: &str = "gitlab-ai/gitlab-ai/claude";

/// A registry holding `0.1.0-ubuntu` (unsigned) and `0.1.1-ubuntu` (signed), plus a `0.2.0`
/// line and a `sha-` tag that must not count as newer patches.
struct Images {
    registry: LocalRegistry,
    old: String,
    new: String,
}

async fn images() -> Images {
    let registry = LocalRegistry::start().expect("docker-registry starts");
    let push = |tag: &'static str| {
        let config = serde_json::json!({"architecture": "amd64", "os": "linux", "config": {"Labels": {"version": tag}}, "rootfs": {"type": "layers", "diff_ids": []}});
        let registry = &registry;
        async move { registry.push_image(REPO, tag, &config).await.expect(tag) }
    };
    let old = push("0.1.0-ubuntu").await;
    let new = push("0.1.1-ubuntu").await;
    push("0.2.0-ubuntu").await;
    push("0.1.9-alpine").await;
    push("sha-0123abcd-ubuntu").await;
    let sig = format!("sha256-{}.sig", new.trim_start_matches("sha256:"));
    let config = serde_json::json!({"architecture": "", "os": "", "rootfs": {"type": "layers", "diff_ids": []}});
    registry
        .push_image(REPO, &sig, &config)
        .await
        .expect("signature");
    Images { registry, old, new }
}

/// Doctor with `env` (a job when it has `GITLAB_CI`), checking Claude, without a GitLab token:
/// only the checks that need no API call run.
async fn doctor(place: Place, image: Option<&str>, env: &[(&str, &str)]) -> Report {
    let vars: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let lookup = move |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let inputs = Inputs {
        project: ProjectRef::Id(ProjectId(1)),
        place,
        assistants: vec![Assistant::Claude],
        template: TemplateSource {
            project: "tools/assistants".into(),
            git_ref: "v1".into(),
        },
        registry: None,
        image: image.map(str::to_owned),
        capabilities: None,
        env: &lookup,
    };
    doctor::run(None, &inputs).await
}

fn job_env<'a>(image: &'a str, images: &'a Images) -> Vec<(&'a str, &'a str)> {
    vec![
        ("GITLAB_CI", "true"),
        ("CI_JOB_IMAGE", image),
        ("CI_REGISTRY", images.registry.host.as_str()),
        ("CI_REGISTRY_USER", images.registry.user.as_str()),
        ("CI_REGISTRY_PASSWORD", images.registry.password.as_str()),
    ]
}

#[tokio::test]
async fn an_old_unsigned_image_is_named_and_the_signed_newest_patch_is_not() {
    let images = images().await;
    let host = &images.registry.host;

    let old = format!("{host}/{REPO}:0.1.0-ubuntu");
    let report = doctor(Place::Job, None, &job_env(&old, &images)).await;
    let text = report.lines().join("\n");
    assert!(!text.contains(&images.registry.password), "{text}");
    let signature = finding(&report, Check::ImageSignature);
    assert_eq!(signature.status, Status::Warn, "{text}");
    assert!(signature.found.contains("is unsigned"), "{text}");
    assert!(signature.found.contains(&images.old), "{text}");
    let fix = signature.fix.as_deref().unwrap_or_default();
    assert!(fix.contains("cosign verify --key cosign.pub"), "{fix}");
    assert!(fix.contains("cargo xtask verify-image"), "{fix}");
    let version = finding(&report, Check::ImageVersion);
    assert_eq!(version.status, Status::Warn, "{text}");
    assert!(
        version.found.contains("older than 0.1.1 (0.1.1-ubuntu)"),
        "{text}"
    );
    assert!(
        version
            .fix
            .as_deref()
            .is_some_and(|f| f.contains(&format!("{host}/{REPO}:0.1.1-ubuntu"))),
        "{text}"
    );

    let new = format!("{host}/{REPO}:0.1.1-ubuntu");
    let report = doctor(Place::Job, None, &job_env(&new, &images)).await;
    let text = report.lines().join("\n");
    let signature = finding(&report, Check::ImageSignature);
    assert_eq!(signature.status, Status::Ok, "{text}");
    assert!(signature.found.contains(&images.new), "{text}");
    let version = finding(&report, Check::ImageVersion);
    assert_eq!(version.status, Status::Ok, "{text}");
    assert!(
        version.found.contains("newest patch release of 0.1"),
        "{text}"
    );

    // By digest: the signature is found, the version cannot be compared.
    let pinned = format!("{host}/{REPO}@{}", images.new);
    let report = doctor(Place::Job, None, &job_env(&pinned, &images)).await;
    assert_eq!(
        finding(&report, Check::ImageSignature).status,
        Status::Ok,
        "{:?}",
        report.lines()
    );
    assert_eq!(
        finding(&report, Check::ImageVersion).status,
        Status::Ok,
        "{:?}",
        report.lines()
    );
}

#[tokio::test]
async fn job_credentials_go_only_to_ci_registry_and_a_refusal_is_a_warning() {
    let images = images().await;
    let image = format!("{}/{REPO}:0.1.1-ubuntu", images.registry.host);
    // CI_REGISTRY names another host: the job token must not be sent to this one.
    let mut env = job_env(&image, &images);
    env[2] = ("CI_REGISTRY", "127.0.0.1:1");
    let report = doctor(Place::Job, None, &env).await;
    let text = report.lines().join("\n");
    let refused = finding(&report, Check::Image);
    assert_eq!(refused.status, Status::Warn, "{text}");
    assert!(
        refused.found.contains("refused access") && refused.found.contains("no credentials"),
        "{text}"
    );
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.check != Check::ImageSignature),
        "{text}"
    );
    // Locally no credentials are sent either.
    let report = doctor(Place::Local, Some(&image), &[]).await;
    let refused = finding(&report, Check::Image);
    assert_eq!(refused.status, Status::Warn);
    assert!(
        refused
            .fix
            .as_deref()
            .is_some_and(|f| f.contains("CI_REGISTRY only")),
        "{refused:?}"
    );
}

#[tokio::test]
async fn no_image_or_an_unreachable_registry_is_a_warning_never_a_failure() {
    let report = doctor(Place::Job, None, &[("GITLAB_CI", "true")]).await;
    let unknown = finding(&report, Check::Image);
    assert_eq!(unknown.status, Status::Warn);
    assert!(
        unknown.found.contains("CI_JOB_IMAGE is empty"),
        "{unknown:?}"
    );
    // Locally without --image there is nothing to check.
    let report = doctor(Place::Local, None, &[]).await;
    assert!(
        report.findings.iter().all(|f| f.check != Check::Image),
        "{:?}",
        report.lines()
    );

    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let image = format!("127.0.0.1:{port}/{REPO}:0.1.0-ubuntu");
    let report = doctor(Place::Local, Some(&image), &[]).await;
    let unreachable = finding(&report, Check::Image);
    assert_eq!(unreachable.status, Status::Warn);
    assert!(
        unreachable.found.contains("is unreachable"),
        "{unreachable:?}"
    );
    assert!(
        report
            .findings
            .iter()
            .filter(|f| f.status == Status::Fail)
            .all(|f| !f.check.to_string().starts_with("image")),
        "{:?}",
        report.lines()
    );

    let report = doctor(Place::Local, Some("Not An Image"), &[]).await;
    let bad = finding(&report, Check::Image);
    assert_eq!(bad.status, Status::Warn);
    assert!(bad.found.contains("is not an image reference"), "{bad:?}");
}

/// GitLab's registry in front of the real one: every `/v2/` request needs a Bearer token,
/// which `/jwt/auth` hands out for the job's Basic credentials, the `service` and a pull
/// `scope`; tag lists are paged one tag at a time so `Link` must be followed.
struct TokenRealm {
    upstream: String,
    user: String,
    password: String,
    own: String,
    token: String,
    /// How many tag-list pages were served.
    tag_pages: AtomicUsize,
}

async fn realm(State(realm): State<Arc<TokenRealm>>, request: Request) -> Response {
    let query = request.uri().query().unwrap_or_default().to_owned();
    let basic = {
        use base64::Engine as _;
        let pair = format!("{}:{}", realm.user, realm.password);
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        )
    };
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|v| v.as_bytes() == basic.as_bytes());
    let asked = query.contains("service=container_registry")
        && query.contains(&format!(
            "scope={}",
            url::form_urlencoded::byte_serialize(format!("repository:{REPO}:pull").as_bytes())
                .collect::<String>()
        ));
    if !authorized || !asked {
        return (StatusCode::UNAUTHORIZED, "{\"errors\":[]}").into_response();
    }
    axum::Json(serde_json::json!({"token": realm.token})).into_response()
}

async fn gated(State(realm): State<Arc<TokenRealm>>, request: Request) -> Response {
    let bearer = format!("Bearer {}", realm.token);
    if request
        .headers()
        .get(header::AUTHORIZATION)
        .is_none_or(|v| v.as_bytes() != bearer.as_bytes())
    {
        let challenge = format!(
            "Bearer realm=\"{}/jwt/auth\",service=\"container_registry\",scope=\"repository:{REPO}:pull\"",
            realm.own
        );
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            "{\"errors\":[{\"code\":\"UNAUTHORIZED\"}]}",
        )
            .into_response();
    }
    if request.uri().path().ends_with("/tags/list") {
        return tag_page(&realm, request.uri()).await;
    }
    let path_and_query = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let mut upstream = reqwest::Client::new()
        .request(
            request.method().clone(),
            format!("{}{path_and_query}", realm.upstream),
        )
        .basic_auth(&realm.user, Some(&realm.password));
    if let Some(accept) = request.headers().get(header::ACCEPT) {
        upstream = upstream.header(header::ACCEPT, accept.clone());
    }
    let Ok(reply) = upstream.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = reply.status();
    let mut headers = HeaderMap::new();
    for name in ["docker-content-digest", "link", "content-type"] {
        if let Some(value) = reply.headers().get(name) {
            headers.insert(name, value.clone());
        }
    }
    let body: Bytes = reply.bytes().await.unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Tags per page, fewer than the client asks for: the registry may return fewer than `n` and
/// then sends `Link: <…?n=…&last=…>; rel="next"`
/// (<https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags>).
/// Debian's distribution 2.x does not page tag lists, so the page is cut here from its full,
/// lexically sorted list.
const TAGS_PER_PAGE: usize = 1;

async fn tag_page(realm: &TokenRealm, uri: &axum::http::Uri) -> Response {
    realm.tag_pages.fetch_add(1, Ordering::SeqCst);
    let last = url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "last")
        .map(|(_, v)| v.into_owned());
    let Ok(reply) = reqwest::Client::new()
        .get(format!("{}{}", realm.upstream, uri.path()))
        .basic_auth(&realm.user, Some(&realm.password))
        .send()
        .await
    else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let Ok(list) = reply.json::<serde_json::Value>().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut tags: Vec<String> = list["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_owned))
        .collect();
    tags.sort();
    let rest: Vec<String> = tags
        .into_iter()
        .filter(|t| last.as_deref().is_none_or(|l| t.as_str() > l))
        .collect();
    let page: Vec<String> = rest.iter().take(TAGS_PER_PAGE).cloned().collect();
    let mut response = axum::Json(serde_json::json!({"name": REPO, "tags": page})).into_response();
    if rest.len() > page.len()
        && let Some(after) = page.last()
    {
        let next = format!(
            "<{}?n={TAGS_PER_PAGE}&last={after}>; rel=\"next\"",
            uri.path()
        );
        if let Ok(value) = next.parse() {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

#[tokio::test]
async fn gitlabs_token_flow_and_paged_tag_lists_are_followed() {
    let images = images().await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let own = format!("http://{}", listener.local_addr().unwrap());
    let state = Arc::new(TokenRealm {
        upstream: images.registry.url(),
        user: images.registry.user.clone(),
        password: images.registry.password.clone(),
        own: own.clone(),
        token: "registry-token-0123456789".into(),
        tag_pages: AtomicUsize::new(0),
    });
    let app = Router::new()
        .route("/jwt/auth", get(realm))
        .fallback(gated)
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let host = own.trim_start_matches("http://");

    let old = format!("{host}/{REPO}:0.1.0-ubuntu");
    let mut env = job_env(&old, &images);
    env[2] = ("CI_REGISTRY", host);
    let report = doctor(Place::Job, None, &env).await;
    let text = report.lines().join("\n");
    assert!(!text.contains("registry-token-0123456789"), "{text}");
    assert!(!text.contains(&images.registry.password), "{text}");
    assert_eq!(
        finding(&report, Check::ImageSignature).status,
        Status::Warn,
        "{text}"
    );
    let version = finding(&report, Check::ImageVersion);
    assert!(
        version.found.contains("older than 0.1.1 (0.1.1-ubuntu)"),
        "{text}"
    );
    // Six tags, one per page: doctor followed every `Link`; 0.1.1-ubuntu is on page 2.
    assert_eq!(state.tag_pages.load(Ordering::SeqCst), 6, "{text}");

    // Wrong credentials: the realm refuses, and doctor says so as a warning.
    env[4] = ("CI_REGISTRY_PASSWORD", "not-the-password");
    let report = doctor(Place::Job, None, &env).await;
    let refused = finding(&report, Check::Image);
    assert_eq!(refused.status, Status::Warn, "{:?}", report.lines());
    assert!(
        refused.found.contains("token service answered 401"),
        "{refused:?}"
    );
    assert!(!report.lines().join("\n").contains("not-the-password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_reads_ci_job_image_and_image_overrides_it() {
    let images = images().await;
    let host = images.registry.host.clone();
    let old = format!("{host}/{REPO}:0.1.0-ubuntu");
    let new = format!("{host}/{REPO}:0.1.1-ubuntu");
    let registry = images.registry.url();
    let env = job_env(&old, &images);
    let run = |args: &[&str]| {
        let bin = doubles::binaries::entrypoint().expect("the entrypoint binary");
        std::process::Command::new(bin)
            .arg("doctor")
            .args(["--registry", &registry])
            .args(args)
            .env_clear()
            .envs(env.iter().copied())
            .env("CI_PROJECT_ID", "1")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("doctor runs")
    };
    let from_job = tokio::task::block_in_place(|| run(&[]));
    let stdout = String::from_utf8_lossy(&from_job.stdout);
    assert!(stdout.contains("warn image-signature:"), "{stdout}");
    assert!(stdout.contains("warn image-version:"), "{stdout}");
    let flagged = tokio::task::block_in_place(|| run(&["--image", &new]));
    let stdout = String::from_utf8_lossy(&flagged.stdout);
    assert!(stdout.contains("ok   image-signature:"), "{stdout}");
    assert!(stdout.contains("ok   image-version:"), "{stdout}");
    for output in [&from_job, &flagged] {
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!all.contains(&images.registry.password), "{all}");
    }
}
