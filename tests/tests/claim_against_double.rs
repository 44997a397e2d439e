//! The claim (the bot's reaction on a note) as the lock that keeps two deliveries, replicas or
//! scans from answering one mention twice, against the double's award emoji endpoints.

use doubles::gitlab::double::{
    GitLabDouble, IssueSpec, NoteSpec, Noteable as DoubleNoteable, ProjectSpec, UserSpec,
};
use entrypoint::assistant::Assistant;
use entrypoint::claim::{self, Claim, Target};
use entrypoint::gitlab::ids::{IssueIid, NoteId, Noteable, ProjectId, ProjectRef, UserId};
use entrypoint::gitlab::{ApiBaseUrl, ClientConfig, GitLab, GitLabToken};
use entrypoint::secret::Secret;

fn client(api_url: &str, token: &str) -> GitLab {
    let config = ClientConfig::new(
        ApiBaseUrl::parse(api_url).expect("the double's API URL parses"),
        GitLabToken::new(Secret::new(token)),
    );
    GitLab::new(config).expect("client builds")
}

#[tokio::test]
async fn of_sixteen_concurrent_claimers_exactly_one_wins_and_each_assistant_claims_separately() {
    let gl = GitLabDouble::start().await.unwrap();
    let project = gl.add_project(ProjectSpec::new("acme/widgets")).unwrap().id;
    let bot = gl
        .add_user(UserSpec::project_bot(project, "Claude"))
        .unwrap();
    gl.add_member(project, bot.id, 30).unwrap();
    let dev = gl.add_user(UserSpec::human("dana")).unwrap();
    gl.add_member(project, dev.id, 30).unwrap();
    let issue = gl
        .create_issue(project, IssueSpec::new(dev.id, "Broken"))
        .unwrap();
    let note = gl
        .add_note(
            project,
            DoubleNoteable::Issue(issue.iid),
            NoteSpec::new(dev.id, "@claude @codex please fix this"),
        )
        .unwrap();

    let gitlab = client(&gl.api_url(), &bot.token);
    let project_ref = ProjectRef::Id(ProjectId(project));
    let target = Target {
        project: &project_ref,
        noteable: Noteable::Issue(IssueIid(issue.iid)),
        note: NoteId(note.id),
    };
    let bot_id = UserId(bot.id);
    assert!(
        !claim::is_claimed(&gitlab, target, Assistant::Claude, bot_id)
            .await
            .unwrap()
    );

    let attempts = (0..16).map(|_| claim::claim(&gitlab, target, Assistant::Claude));
    let outcomes = futures::future::join_all(attempts).await;
    let won: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Claim::Won(_))))
        .collect();
    let taken = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Claim::Taken)))
        .count();
    assert_eq!((won.len(), taken), (1, 15), "{outcomes:?}");
    assert!(
        claim::is_claimed(&gitlab, target, Assistant::Claude, bot_id)
            .await
            .unwrap()
    );
    // Codex's claim is independent of Claude's, and a human's reaction is no claim.
    assert!(
        !claim::is_claimed(&gitlab, target, Assistant::Codex, bot_id)
            .await
            .unwrap()
    );
    let human = client(&gl.api_url(), &dev.token);
    assert!(matches!(
        claim::claim(&human, target, Assistant::Codex).await,
        Ok(Claim::Won(_))
    ));
    assert!(
        !claim::is_claimed(&gitlab, target, Assistant::Codex, bot_id)
            .await
            .unwrap()
    );
    assert!(matches!(
        claim::claim(&gitlab, target, Assistant::Codex).await,
        Ok(Claim::Won(_))
    ));

    // Released, the note can be claimed again (a relay that could not start the pipeline).
    let Some(Ok(Claim::Won(award))) = won.first().map(|o| o.as_ref().map(|c| *c)) else {
        unreachable!("one claim won above")
    };
    claim::release(&gitlab, target, award).await.unwrap();
    assert!(
        !claim::is_claimed(&gitlab, target, Assistant::Claude, bot_id)
            .await
            .unwrap()
    );
    assert!(matches!(
        claim::claim(&gitlab, target, Assistant::Claude).await,
        Ok(Claim::Won(_))
    ));
    gl.shutdown().await.unwrap();
}
