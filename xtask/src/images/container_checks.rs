//! Checking each image in containers (no network): the CLI reports its pinned version, our
//! entrypoint runs both as the image's ENTRYPOINT and with `entrypoint: [""]` (how GitLab CI
//! jobs run `script:`), git works, the user is not root, the tools and CA bundle are there,
//! package caches are gone, Node ≥ 22 where carried, and in the images with iptables the
//! network sandbox refuses to start without `NET_ADMIN` and holds with it (as root); then the
//! size table and the budget (compressed size ≤ the assistant's runtime gzipped +
//! `budget_over_binary_mb` of images.toml). Used by `test-images`, `build-images`, the
//! benchmarks and the e2e suite.

use anyhow::{Context, bail};
use bollard::Docker;

use crate::engine::container::{self, Entrypoint, RunOutput, RunSpec};
use crate::engine::mb;
use crate::engine::progress::Step;
use crate::images::builder::LocalImage;
use crate::images::size::{self, ImageSize};
use crate::images::variants::{Variant, VariantPlan};

/// The non-root user the images run as (see the Dockerfiles).
pub const IMAGE_USER: &str = "assistant";

/// What one image's tests measured.
#[derive(Clone, Debug)]
pub struct TestReport {
    /// Which image.
    pub variant: Variant,
    /// Its sizes.
    pub size: ImageSize,
    /// The assistant binary's size inside the image.
    pub binary_size: u64,
    /// The same binary gzipped at the default level, as its layer is.
    pub binary_gzipped: u64,
    /// Node's binary gzipped, in the images that carry it (0 in the others).
    pub node_gzipped: u64,
    /// The most the compressed image may weigh: `binary_gzipped` + `node_gzipped` + the
    /// manifest's allowance.
    pub budget: u64,
}

impl TestReport {
    /// Whether the compressed image is within its budget.
    pub fn within_budget(&self) -> bool {
        self.size.compressed <= self.budget
    }
}

/// Tests freshly built images, prints their size table and fails when one is over budget.
pub async fn test_all(docker: &Docker, images: &[LocalImage]) -> anyhow::Result<Vec<TestReport>> {
    let mut reports = Vec::new();
    for image in images {
        reports.push(test_image(docker, &image.reference, &image.plan).await?);
    }
    judge_sizes(&reports)?;
    Ok(reports)
}

/// Prints the size table; fails naming every image over its budget.
pub fn judge_sizes(reports: &[TestReport]) -> anyhow::Result<()> {
    println!("{}", size_table(reports));
    let over: Vec<String> = reports
        .iter()
        .filter(|r| !r.within_budget())
        .map(|r| {
            format!(
                "{} is {} compressed, {} over its budget of {}",
                r.variant,
                mb(r.size.compressed),
                mb(r.size.compressed - r.budget),
                mb(r.budget)
            )
        })
        .collect();
    if over.is_empty() {
        Ok(())
    } else {
        bail!(
            "over the size budget (images.toml budget_over_binary_mb): {}",
            over.join("; ")
        )
    }
}

/// The size table: per image, compressed and uncompressed size, the assistant binary raw and
/// gzipped, the budget and whether the image is within it.
pub fn size_table(reports: &[TestReport]) -> String {
    let mut table = format!(
        "{:<14} {:>11} {:>13} {:>10} {:>10} {:>10} {:>10} {:>6}",
        "image", "compressed", "uncompressed", "binary", "binary.gz", "node.gz", "budget", "within"
    );
    for r in reports {
        table.push_str(&format!(
            "\n{:<14} {:>11} {:>13} {:>10} {:>10} {:>10} {:>10} {:>6}",
            r.variant.to_string(),
            mb(r.size.compressed),
            mb(r.size.uncompressed),
            mb(r.binary_size),
            mb(r.binary_gzipped),
            mb(r.node_gzipped),
            mb(r.budget),
            if r.within_budget() { "yes" } else { "NO" }
        ));
    }
    table
}

/// One property of an image, checked by running a command in a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ImageCheck {
    /// The CLI reports the pinned version.
    AssistantVersion,
    /// Our entrypoint runs as the image's ENTRYPOINT.
    EntrypointAsEntrypoint,
    /// Our entrypoint runs from a shell with `entrypoint: [""]`, as GitLab runs `script:`.
    EntrypointFromShell,
    /// A shell given as the command runs through the image's own ENTRYPOINT, as GitLab Runner
    /// starts a job that does not clear it (and as Duo flows, which cannot).
    ShellThroughEntrypoint,
    /// The image's user is the non-root assistant user.
    NonRootUser,
    /// Started as that user (a job without `image: docker: user: root`), the entrypoint refuses
    /// to run an assistant, because it could not switch to the sandbox uid, and says how to run
    /// the job as root.
    RefusedWithoutRoot,
    /// git can init and commit.
    Git,
    /// bash, ssh, rg and the CA bundle are there.
    Tools,
    /// No package manager caches or lists were left behind.
    NoPackageCaches,
    /// The CLI binary's size, raw and gzipped (the budget is measured from it).
    AssistantBinarySize,
    /// iptables and ip6tables run (images that install them).
    Iptables,
    /// Node 22 or newer (images that carry Node).
    Node,
    /// Node's binary size, raw and gzipped (it counts towards the budget).
    NodeSize,
    /// As root (as the templates run the job) but without `NET_ADMIN`, the sandbox refuses to
    /// start and says what to add (images with iptables: both assistants).
    SandboxRefusedWithoutNetAdmin,
    /// With `NET_ADMIN`, as root, the sandbox's self-test holds (images with iptables: both
    /// assistants).
    SandboxHoldsWithNetAdmin,
}

const GIT_PROBE: &str = "cd \"$(mktemp -d)\" && git init -q && git -c user.name=probe -c user.email=probe@example.invalid commit -q --allow-empty -m probe && git rev-list --count HEAD";
const TOOLS_PROBE: &str =
    "bash -c true && ssh -V && rg --version && test -s /etc/ssl/certs/ca-certificates.crt";
const CACHE_PROBE: &str = "for d in /var/lib/apt/lists /var/cache/apt /var/cache/apk; do if [ -d \"$d\" ] && [ -n \"$(find \"$d\" -type f | head -n 1)\" ]; then echo \"package cache left in $d\"; exit 1; fi; done";

/// What the checks expect of one image.
struct Expected<'a> {
    binary: &'a str,
    assistant_version: &'a str,
    entrypoint_version: &'a str,
}

impl ImageCheck {
    /// The checks that apply to a variant, in the order they run.
    fn for_plan(plan: &VariantPlan) -> Vec<ImageCheck> {
        let mut checks = vec![
            ImageCheck::AssistantVersion,
            ImageCheck::EntrypointAsEntrypoint,
            ImageCheck::EntrypointFromShell,
            ImageCheck::ShellThroughEntrypoint,
            ImageCheck::NonRootUser,
            ImageCheck::RefusedWithoutRoot,
            ImageCheck::Git,
            ImageCheck::Tools,
            ImageCheck::NoPackageCaches,
            ImageCheck::AssistantBinarySize,
        ];
        let packages = plan
            .build_args
            .get("PACKAGES")
            .map(String::as_str)
            .unwrap_or("");
        if packages.split(' ').any(|p| p == "iptables") {
            checks.extend([
                ImageCheck::Iptables,
                ImageCheck::SandboxRefusedWithoutNetAdmin,
                ImageCheck::SandboxHoldsWithNetAdmin,
            ]);
        }
        if plan.needs_node {
            checks.extend([ImageCheck::Node, ImageCheck::NodeSize]);
        }
        checks
    }

    /// How the container is started, as whom, with what, and what it runs.
    fn spec(self, binary: &str) -> RunSpec {
        let shell = |script: &str| RunSpec::new(Entrypoint::Cleared, &["sh", "-c", script]);
        match self {
            ImageCheck::AssistantVersion => {
                RunSpec::new(Entrypoint::Cleared, &[binary, "--version"])
            }
            ImageCheck::EntrypointAsEntrypoint => RunSpec::new(Entrypoint::Image, &["--version"]),
            ImageCheck::EntrypointFromShell => shell("entrypoint --version"),
            ImageCheck::ShellThroughEntrypoint => {
                RunSpec::new(Entrypoint::Image, &["sh", "-c", "entrypoint --version"])
            }
            ImageCheck::NonRootUser => shell("id -u; id -un"),
            ImageCheck::Git => shell(GIT_PROBE),
            ImageCheck::Tools => shell(TOOLS_PROBE),
            ImageCheck::NoPackageCaches => shell(CACHE_PROBE),
            ImageCheck::AssistantBinarySize => shell(&size_probe(binary)),
            ImageCheck::NodeSize => shell(&size_probe("\"$(command -v node)\"")),
            ImageCheck::Iptables => shell("iptables --version && ip6tables --version"),
            ImageCheck::Node => RunSpec::new(Entrypoint::Cleared, &["node", "--version"]),
            ImageCheck::RefusedWithoutRoot => {
                RunSpec::new(Entrypoint::Image, &["sandbox", "verify"])
            }
            ImageCheck::SandboxRefusedWithoutNetAdmin => RunSpec {
                user: Some("root".to_owned()),
                ..RunSpec::new(Entrypoint::Image, &["sandbox", "verify"])
            },
            ImageCheck::SandboxHoldsWithNetAdmin => RunSpec {
                user: Some("root".to_owned()),
                cap_add: vec!["NET_ADMIN".to_owned()],
                ..RunSpec::new(Entrypoint::Image, &["sandbox", "verify"])
            },
        }
    }

    /// Judges a run: `Ok(what to print)` or `Err(why it fails)`.
    fn judge(self, out: &RunOutput, expected: &Expected<'_>) -> Result<String, String> {
        let stdout = out.stdout.trim();
        match self {
            ImageCheck::SandboxRefusedWithoutNetAdmin => {
                let stderr = out.stderr.trim();
                if out.exit_code == 0 {
                    Err("the sandbox started without NET_ADMIN".to_owned())
                } else if !stderr.contains("CAP_NET_ADMIN") || !stderr.contains("AI_SANDBOX=off") {
                    Err("the refusal does not say what to add or how to opt out".to_owned())
                } else {
                    Ok(format!(
                        "without NET_ADMIN the sandbox refuses: {}",
                        stderr.lines().last().unwrap_or(stderr)
                    ))
                }
            }
            ImageCheck::RefusedWithoutRoot => {
                let stderr = out.stderr.trim();
                if out.exit_code == 0 {
                    Err(
                        "the entrypoint ran without being able to switch to the sandbox uid"
                            .to_owned(),
                    )
                } else if !stderr.contains("image: docker: user: root") {
                    Err("the refusal does not say how to run the job as root".to_owned())
                } else {
                    Ok("as the image's user the entrypoint refuses and says to run the job as root"
                        .to_owned())
                }
            }
            _ if out.exit_code != 0 => Err("non-zero exit".to_owned()),
            _ => self.verify(stdout, expected),
        }
    }

    /// Judges a successful run's output: `Ok(what to print)` or `Err(why it fails)`.
    fn verify(self, stdout: &str, expected: &Expected<'_>) -> Result<String, String> {
        let binary_name = expected
            .binary
            .rsplit('/')
            .next()
            .unwrap_or(expected.binary);
        match self {
            ImageCheck::AssistantVersion if stdout.contains(expected.assistant_version) => {
                Ok(format!("{binary_name} --version → {stdout}"))
            }
            ImageCheck::AssistantVersion => {
                Err(format!("expected version {}", expected.assistant_version))
            }
            ImageCheck::EntrypointAsEntrypoint
            | ImageCheck::EntrypointFromShell
            | ImageCheck::ShellThroughEntrypoint
                if stdout.contains(expected.entrypoint_version) =>
            {
                let how = match self {
                    ImageCheck::EntrypointAsEntrypoint => "as the image's ENTRYPOINT",
                    ImageCheck::EntrypointFromShell => "from sh with entrypoint [\"\"]",
                    _ => "from sh run by the image's ENTRYPOINT",
                };
                Ok(format!("entrypoint {how} → {stdout}"))
            }
            ImageCheck::EntrypointAsEntrypoint
            | ImageCheck::EntrypointFromShell
            | ImageCheck::ShellThroughEntrypoint => Err(format!(
                "expected entrypoint {}",
                expected.entrypoint_version
            )),
            ImageCheck::NonRootUser => {
                let mut lines = stdout.lines();
                let (uid, name) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
                if uid == "0" || name != IMAGE_USER {
                    Err(format!(
                        "expected the non-root user {IMAGE_USER}, got {name} ({uid})"
                    ))
                } else {
                    Ok(format!("runs as {name} (uid {uid})"))
                }
            }
            ImageCheck::Git if stdout == "1" => Ok("git init + commit work".to_owned()),
            ImageCheck::Git => Err("expected one commit".to_owned()),
            ImageCheck::AssistantBinarySize => size_verdict(binary_name, stdout),
            ImageCheck::NodeSize => size_verdict("node", stdout),
            ImageCheck::Node => {
                let major = stdout
                    .trim_start_matches('v')
                    .split('.')
                    .next()
                    .and_then(|m| m.parse::<u32>().ok());
                match major {
                    Some(m) if m >= 22 => Ok(format!("node {stdout}")),
                    Some(_) => Err("Node 22 or newer is required".to_owned()),
                    None => Err("unexpected node --version output".to_owned()),
                }
            }
            ImageCheck::Tools => Ok("bash, ssh, rg and the CA bundle are there".to_owned()),
            ImageCheck::NoPackageCaches => Ok("no package lists or caches left".to_owned()),
            ImageCheck::Iptables => Ok("iptables and ip6tables run".to_owned()),
            ImageCheck::SandboxHoldsWithNetAdmin => {
                let checked = serde_json::from_str::<serde_json::Value>(stdout)
                    .ok()
                    .and_then(|v| v["checked"].as_array().map(Vec::len))
                    .unwrap_or(0);
                if checked == 0 {
                    Err("expected the verification's checks as JSON".to_owned())
                } else {
                    Ok(format!(
                        "with NET_ADMIN (as root) the sandbox holds: {checked} checks as the sandbox uid"
                    ))
                }
            }
            ImageCheck::SandboxRefusedWithoutNetAdmin => {
                Err("the sandbox started without NET_ADMIN".to_owned())
            }
            ImageCheck::RefusedWithoutRoot => {
                Err("the entrypoint ran without being able to switch to the sandbox uid".to_owned())
            }
        }
    }
}

/// A shell script printing the raw and the gzipped size (default level, as layers are gzipped)
/// of the file `path` points to, one per line.
fn size_probe(path: &str) -> String {
    format!("f=$(readlink -f {path}) && stat -c %s \"$f\" && gzip -6 -c \"$f\" | wc -c")
}

/// The raw and gzipped sizes printed by [`size_probe`], one per line.
pub(crate) fn binary_sizes(stdout: &str) -> Option<(u64, u64)> {
    let mut lines = stdout.lines().map(|l| l.trim().parse::<u64>());
    match (lines.next(), lines.next(), lines.next()) {
        (Some(Ok(raw)), Some(Ok(gzipped)), None) => Some((raw, gzipped)),
        _ => None,
    }
}

/// The verdict on the size probe of the binary `name`: its raw and gzipped sizes, or why the
/// probe's output is not two sizes.
pub(crate) fn size_verdict(name: &str, stdout: &str) -> Result<String, String> {
    match binary_sizes(stdout) {
        Some((raw, gzipped)) => Ok(format!(
            "{name} binary {} ({} gzipped)",
            mb(raw),
            mb(gzipped)
        )),
        None => Err("expected two sizes in bytes (raw, gzipped)".to_owned()),
    }
}

/// Runs one check's container from `reference` and judges what it printed: the verdict goes
/// under `step`, prefixed with `[image]`; a failure names the command, its exit code and its
/// output. The container and slim image tests both run their checks this way.
pub(crate) async fn run_check<C: std::fmt::Debug>(
    docker: &Docker,
    reference: &str,
    step: &Step,
    image: &str,
    check: C,
    spec: &RunSpec,
    judge: impl FnOnce(&RunOutput) -> Result<String, String>,
) -> anyhow::Result<RunOutput> {
    step.set_what(&format!("[{image}] test {check:?}"));
    let out = container::run(docker, reference, spec).await?;
    match judge(&out) {
        Ok(shown) => step.println(&format!("[{image}] ok  {shown}")),
        Err(why) => bail!(
            "[{image}] check {check:?} failed: {why}\n  command: {:?}\n  exit: {}\n  stdout: {}\n  stderr: {}",
            spec.cmd,
            out.exit_code,
            out.stdout.trim(),
            out.stderr.trim()
        ),
    }
    Ok(out)
}

/// Runs every check on one image and measures it; fails on the first failed check.
pub async fn test_image(
    docker: &Docker,
    reference: &str,
    plan: &VariantPlan,
) -> anyhow::Result<TestReport> {
    let variant = plan.variant;
    let expected = Expected {
        binary: &plan.binary,
        assistant_version: &plan.assistant_version,
        entrypoint_version: env!("CARGO_PKG_VERSION"),
    };
    let binary_name = plan.binary.rsplit('/').next().unwrap_or(&plan.binary);
    let (mut binary_size, mut binary_gzipped, mut node_gzipped) = (0, 0, 0);
    let step = Step::spinner(&format!("[{variant}] testing {reference}"));
    for check in ImageCheck::for_plan(plan) {
        let spec = check.spec(&plan.binary);
        let out = run_check(
            docker,
            reference,
            &step,
            &variant.to_string(),
            check,
            &spec,
            |out| check.judge(out, &expected),
        )
        .await?;
        match (check, binary_sizes(out.stdout.trim())) {
            (ImageCheck::AssistantBinarySize, Some((raw, gzipped))) => {
                (binary_size, binary_gzipped) = (raw, gzipped);
            }
            (ImageCheck::NodeSize, Some((_, gzipped))) => node_gzipped = gzipped,
            _ => {}
        }
    }

    step.set_what(&format!(
        "[{variant}] measuring the compressed size of {reference}"
    ));
    let size = size::measure(docker, reference)
        .await
        .with_context(|| format!("measuring {reference}"))?;
    drop(step);
    eprintln!(
        "[{variant}] size: {} uncompressed, {} compressed (gzipped layers); {binary_name} binary {} ({} gzipped)",
        mb(size.uncompressed),
        mb(size.compressed),
        mb(binary_size),
        mb(binary_gzipped)
    );
    Ok(TestReport {
        variant,
        size,
        binary_size,
        binary_gzipped,
        node_gzipped,
        budget: binary_gzipped + node_gzipped + plan.budget_over_binary_mb * 1_000_000,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::assert_judged;

    const EXPECTED: Expected<'static> = Expected {
        binary: "/usr/local/bin/claude",
        assistant_version: "9.8.7",
        entrypoint_version: "0.1.0",
    };

    /// The checks that read one line of output: what each accepts and what it refuses.
    #[test]
    fn output_checks_accept_the_expected_output_and_refuse_the_rest() {
        let cases: [(&str, ImageCheck, &[&str], &[&str]); 3] = [
            (
                "a wrong CLI version fails",
                ImageCheck::AssistantVersion,
                &["9.8.7 (Claude Code)"],
                &["9.8.6 (Claude Code)"],
            ),
            (
                "root or another user fails",
                ImageCheck::NonRootUser,
                &["10001\nassistant"],
                &["0\nroot", "1000\nubuntu"],
            ),
            (
                "node older than 22 fails",
                ImageCheck::Node,
                &["v22.1.0", "v24.1.0"],
                &["v20.19.0", "node: not found"],
            ),
        ];
        for (case, check, accepted, refused) in cases {
            for output in accepted {
                let verdict = check.verify(output, &EXPECTED);
                assert!(verdict.is_ok(), "{case}: {output:?} refused: {verdict:?}");
            }
            for output in refused {
                let verdict = check.verify(output, &EXPECTED);
                assert!(verdict.is_err(), "{case}: {output:?} accepted");
            }
        }
    }

    #[test]
    fn gitlab_style_shell_runs_are_checked_with_a_cleared_entrypoint() {
        let spec = ImageCheck::EntrypointFromShell.spec("/usr/local/bin/claude");
        assert!(matches!(spec.entrypoint, Entrypoint::Cleared));
        assert_eq!(spec.cmd[..2], ["sh", "-c"]);
        let spec = ImageCheck::EntrypointAsEntrypoint.spec("/usr/local/bin/claude");
        assert!(matches!(spec.entrypoint, Entrypoint::Image));
    }

    /// Started without what it needs, the entrypoint must refuse and say what to do: each case
    /// with the binary it runs, the user the check runs it as and another error that is no
    /// such refusal.
    #[test]
    fn without_what_it_needs_the_entrypoint_must_refuse_and_say_what_to_do() {
        let cases = [
            (
                "the sandbox must refuse without NET_ADMIN and say what to do",
                ImageCheck::SandboxRefusedWithoutNetAdmin,
                "/usr/local/bin/codex",
                Some("root"),
                "Error: the network sandbox needs CAP_NET_ADMIN, which this job does not have: add cap_add, or set AI_SANDBOX=off to run without the sandbox",
                "Error: permission denied",
            ),
            (
                "as the image's user the entrypoint must refuse and say to run as root",
                ImageCheck::RefusedWithoutRoot,
                "/usr/local/bin/claude",
                None,
                "error: the assistant must run as its own unprivileged uid … Run the job as root: set `image: docker: user: root` in the job",
                "error: CAP_NET_ADMIN missing",
            ),
        ];
        for (case, check, binary, user, refusal, other_error) in cases {
            let spec = check.spec(binary);
            assert!(spec.cap_add.is_empty(), "{case}: {:?}", spec.cap_add);
            assert_eq!(spec.user.as_deref(), user, "{case}");
            assert_judged(
                case,
                |out| check.judge(out, &EXPECTED),
                &[(1, "", refusal)],
                &[(0, "{}", ""), (1, "", other_error)],
            );
        }
    }

    #[test]
    fn the_sandbox_self_test_runs_as_root_with_net_admin_and_must_report_checks() {
        let check = ImageCheck::SandboxHoldsWithNetAdmin;
        let spec = check.spec("/usr/local/bin/codex");
        assert_eq!(spec.user.as_deref(), Some("root"));
        assert_eq!(spec.cap_add, ["NET_ADMIN"]);
        let held = r#"{"checked":[{"target":"127.0.0.1:1","reached":true}]}"#;
        assert_judged(
            "the sandbox self-test",
            |out| check.judge(out, &EXPECTED),
            &[(0, held, "")],
            &[(0, r#"{"checked":[]}"#, ""), (1, held, "breach")],
        );
    }

    #[test]
    fn the_binary_probe_gives_raw_and_gzipped_sizes() {
        assert_eq!(binary_sizes("300\n120"), Some((300, 120)));
        assert_eq!(binary_sizes("300"), None);
        assert_eq!(binary_sizes("300\n120\n1"), None);
        assert_eq!(binary_sizes("stat: cannot stat"), None);
    }

    fn report(compressed: u64, budget: u64) -> TestReport {
        TestReport {
            variant: Variant {
                assistant: ai_core::Assistant::Codex,
                base: crate::images::manifest::Base::Ubuntu,
            },
            size: ImageSize {
                uncompressed: compressed * 3,
                compressed,
            },
            binary_size: 1,
            binary_gzipped: 1,
            node_gzipped: 0,
            budget,
        }
    }

    #[test]
    fn an_image_over_its_budget_fails_after_the_table_is_printed() {
        assert!(judge_sizes(&[report(100, 100)]).is_ok());
        let error = judge_sizes(&[report(100, 100), report(2_500_001, 2_000_000)])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("codex-ubuntu is 2.5 MB compressed, 0.5 MB over its budget of 2.0 MB"),
            "{error}"
        );
        let table = size_table(&[report(2_500_001, 2_000_000)]);
        assert!(
            table.lines().nth(1).is_some_and(|row| row.ends_with("NO")),
            "{table}"
        );
    }
}
